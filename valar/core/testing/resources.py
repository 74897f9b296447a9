"""Generic tests every tenant resource gets by declaring its data (NetBox-style).

A resource's test class mixes :class:`TenantResourceTestsMixin` into :class:`ApiTestCase` and
declares ``url``, ``verbs``, ``make_object()``, ``create_data()``, ``update_data`` and
``list_queries``. It then gets, for free:

- a record of another organization is a 404 on every verb, and stays untouched;
- the role matrix: each role's answer for each verb is what the policy table says;
- the list's pagination shape;
- a pinned query count for the list that does not grow with the rows.
"""

import itertools
from typing import Any, ClassVar

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from rest_framework.test import APIClient

from valar.accounts.models import User
from valar.core.policy import MODULES, Access, Role, decide
from valar.core.viewsets import ACTION_MAP
from valar.organizations.models import Membership, Organization
from valar.organizations.services import organization_create

VERB_ACTIONS = {
    "list": "list",
    "retrieve": "retrieve",
    "create": "create",
    "update": "partial_update",
    "delete": "destroy",
}
ROLES = (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC)


class TenantFixtureMixin:
    """Two organizations: ``org`` with a member of every role, ``other`` with its own admin."""

    module: ClassVar[str] = "organization"

    def setUp(self) -> None:
        """Create both organizations, their members and a token client per role."""
        super().setUp()
        self.users: dict[str, User] = {}
        self.clients: dict[str, APIClient] = {}
        self.users[Role.ADMIN] = self.make_user("admin@org.test")
        self.org: Organization = organization_create(name="Org", actor=self.users[Role.ADMIN])
        modules = [self.module] if self.module in MODULES else []
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC):
            self.users[role] = self.make_user(f"{role}@org.test")
            Membership.objects.create(
                organization=self.org,
                user=self.users[role],
                role=role,
                modules=modules,
                is_default=True,
                manages_account=True,
            )
        for role, user in self.users.items():
            self.clients[role] = self.token_client(user)
        self.other_admin = self.make_user("admin@other.test")
        self.other: Organization = organization_create(name="Other", actor=self.other_admin)
        self.other_client = self.token_client(self.other_admin)


class TenantResourceTestsMixin(TenantFixtureMixin):
    """The generic tests; the resource's class declares what differs."""

    url: ClassVar[str]
    verbs: ClassVar[tuple[str, ...]] = ("list", "retrieve", "create", "update", "delete")
    update_data: ClassVar[dict[str, Any]] = {}
    list_queries: ClassVar[int]

    def make_object(self, organization: Organization, index: int = 0):
        """Create one row of the resource in ``organization`` (its admin as author)."""
        raise NotImplementedError

    def create_data(self, index: int) -> dict[str, Any]:
        """A valid request body to create a row (``index`` keeps rows distinct)."""
        raise NotImplementedError

    def list_url(self) -> str:
        """The list URL (for the caller's own organization)."""
        return self.url.format(org=self.org.pk)

    def detail_url(self, obj, organization: Organization | None = None) -> str:
        """The detail URL of ``obj``."""
        base = self.url.format(org=(organization or self.org).pk)
        return f"{base}{obj.pk}/"

    def expected_access(self, verb: str) -> Access:
        """What the policy table grants each role for ``verb`` on this resource."""
        view = resolve(self.list_url()).func.cls
        action = VERB_ACTIONS[verb]
        policy_action = view.action_permissions.get(action) or ACTION_MAP[action]
        return {
            role: decide(
                role=role,
                modules=[self.module],
                module=view.module,
                action=policy_action,
            )
            for role in ROLES
        }

    def test_a_record_of_another_organization_is_404_on_every_verb(self):
        obj = self.make_object(self.org)
        url = self.detail_url(obj)
        client = self.other_client
        if "retrieve" in self.verbs:
            self.assert_problem(client.get(url), 404)
        if "update" in self.verbs:
            self.assert_problem(client.patch(url, self.update_data, format="json"), 404)
            self.assert_problem(client.put(url, self.update_data, format="json"), 404)
        if "delete" in self.verbs:
            self.assert_problem(client.delete(url), 404)
        self.assertTrue(type(obj).objects.filter(pk=obj.pk).exists())
        if "list" in self.verbs:
            ids = [
                row["id"]
                for row in client.get(self.url.format(org=self.other.pk)).json().get("results", [])
            ]
            self.assertNotIn(str(obj.pk), ids)

    def test_each_role_gets_what_the_policy_table_says(self):
        self._sequence = itertools.count(1000)
        for verb in self.verbs:
            for role, access in self.expected_access(verb).items():
                with self.subTest(verb=verb, role=role, access=access):
                    self._check_verb(verb, role, access)

    def _check_verb(self, verb: str, role: str, access: Access) -> None:
        """Do ``verb`` as ``role`` on a row its admin created and compare with ``access``."""
        client = self.clients[role]
        if verb == "list":
            response = client.get(self.list_url())
            self.assertEqual(response.status_code, 403 if access == Access.NONE else 200)
        elif verb == "create":
            response = client.post(
                self.list_url(), self.create_data(next(self._sequence)), format="json"
            )
            self.assertEqual(
                response.status_code, 403 if access == Access.NONE else 201, response.content
            )
        else:
            obj = self.make_object(self.org, index=next(self._sequence))
            url = self.detail_url(obj)
            if verb == "retrieve":
                response = client.get(url)
                self.assertEqual(response.status_code, 403 if access == Access.NONE else 200)
            elif verb == "update":
                response = client.patch(url, self.update_data, format="json")
                self.assertEqual(
                    response.status_code, 200 if access == Access.ALL else 403, response.content
                )
            elif verb == "delete":
                response = client.delete(url)
                self.assertEqual(
                    response.status_code, 204 if access == Access.ALL else 403, response.content
                )

    def test_the_list_is_paginated(self):
        if "list" not in self.verbs:
            self.skipTest("this resource has no list")
        self.make_object(self.org)
        body = self.clients[Role.ADMIN].get(self.list_url(), {"page_size": 1}).json()
        self.assertEqual(set(body), {"count", "next", "previous", "results"})
        self.assertEqual(len(body["results"]), 1)

    def test_each_list_row_equals_the_detail_body(self):
        if "list" not in self.verbs or "retrieve" not in self.verbs:
            self.skipTest("this resource has no list and detail pair")
        for index in range(3):
            self.make_object(self.org, index=300 + index)
        client = self.clients[Role.ADMIN]
        rows = client.get(self.list_url(), {"page_size": 100}).json()["results"]
        self.assertGreaterEqual(len(rows), 3)
        for row in rows:
            detail = client.get(f"{self.list_url()}{row['id']}/").json()
            self.assertEqual(row, detail)

    def _list_queries(self) -> int:
        """The number of queries one list request makes."""
        client = self.clients[Role.ADMIN]
        client.get(self.list_url())  # warm up: token last-used stamp, caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(self.list_url())
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_the_list_query_count_is_pinned_and_does_not_grow_with_rows(self):
        if "list" not in self.verbs:
            self.skipTest("this resource has no list")
        for index in range(3):
            self.make_object(self.org, index=100 + index)
        few = self._list_queries()
        for index in range(20):
            self.make_object(self.org, index=200 + index)
        many = self._list_queries()
        self.assertEqual(few, self.list_queries)
        self.assertEqual(many, self.list_queries)
