"""Generic tests every tenant resource gets by declaring its data (NetBox-style).

A resource's test class mixes :class:`TenantResourceTestsMixin` into :class:`ApiTestCase` and
declares ``url``, ``verbs``, ``make_object()``, ``create_data()``, ``update_data`` and
``list_queries``. It then gets, for free:

- a record of another organization is a 404 on every verb, and stays untouched;
- the role matrix: each role's answer for each verb is what the policy table says, ``client``
  included; under ``view: own`` a row someone else owns is absent from the list and a 404 on
  every verb, while a row the member owns is listed, readable and (when the table allows)
  changeable; ``OPTIONS`` reports each role's permissions from the same table;
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
ROLES = (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC, Role.CLIENT)
#: The largest page, so one request lists every row a matrix test made.
LARGEST_PAGE = 100


class TenantFixtureMixin:
    """Two organizations: ``org`` with a member of every role, ``other`` with its own admin.

    Every member of ``org`` is granted the class's ``module`` (the ``client`` too: the policy,
    not a missing grant, is what refuses them).
    """

    module: ClassVar[str] = "organization"

    def setUp(self) -> None:
        """Create both organizations, their members and a token client per role."""
        super().setUp()
        self.users: dict[str, User] = {}
        self.clients: dict[str, APIClient] = {}
        self.users[Role.ADMIN] = self.make_user("admin@org.test")
        self.org: Organization = organization_create(name="Org", actor=self.users[Role.ADMIN])
        modules = [self.module] if self.module in MODULES else []
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC, Role.CLIENT):
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

    def create_data_as(self, role: str, index: int) -> dict[str, Any]:
        """The body ``role`` creates with (:meth:`create_data`, unless a body must name rows
        the member can reach, such as an invoice they own under ``view: own``)."""
        return self.create_data(index)

    def list_url(self) -> str:
        """The list URL (for the caller's own organization)."""
        return self.url.format(org=self.org.pk)

    def detail_url(self, obj, organization: Organization | None = None) -> str:
        """The detail URL of ``obj``."""
        base = self.url.format(org=(organization or self.org).pk)
        return f"{base}{obj.pk}/"

    def expected_access(self, verb: str) -> dict[str, Access]:
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

    def reach(self, role: str) -> Access:
        """How far ``role`` reads this resource's rows: ``view`` of the view's module.

        ``OWN`` on shared reference data (categories) reaches every row, as ``ALL`` does.
        """
        view = resolve(self.list_url()).func.cls
        access = decide(role=role, modules=[self.module], module=view.module, action="view")
        if access == Access.OWN and getattr(view.model, "shared_reference", False):
            return Access.ALL
        return access

    def give_to(self, obj, user: User):
        """Make ``user`` the owner of ``obj`` by its first owner field (a path is followed)."""
        field = getattr(type(obj), "owner_fields", ("created_by",))[0]
        *path, last = field.split("__")
        target = obj
        for step in path:
            target = getattr(target, step)
        type(target).objects.filter(pk=target.pk).update(**{f"{last}_id": user.pk})
        return obj

    def listed_ids(self, client: APIClient) -> list[str]:
        """The ids of every row ``client`` is listed (one large page)."""
        response = client.get(self.list_url(), {"page_size": LARGEST_PAGE})
        self.assertEqual(response.status_code, 200, response.content)
        return [str(row["id"]) for row in response.json()["results"]]

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
        """Do ``verb`` as ``role`` on a row someone else owns, and on one ``role`` owns.

        Someone else's row: ``NONE`` is a 403; under ``view: own`` it is hidden (absent from
        the list, 404 on every verb); otherwise the verb's own access decides (``OWN``: 403).
        The member's own row: listed and readable when the table lets them read, and changed
        or deleted when the verb's access is ``ALL`` or ``OWN``.
        """
        client = self.clients[role]
        reach = self.reach(role)
        if verb == "list":
            others = self.make_object(self.org, index=next(self._sequence))
            response = client.get(self.list_url())
            self.assertEqual(response.status_code, 403 if access == Access.NONE else 200)
            if access == Access.NONE:
                return
            ids = self.listed_ids(client)
            if reach != Access.OWN:
                self.assertIn(str(others.pk), ids)
                return
            own = self.give_to(
                self.make_object(self.org, index=next(self._sequence)), self.users[role]
            )
            ids = self.listed_ids(client)
            self.assertIn(str(own.pk), ids)
            self.assertNotIn(str(others.pk), ids)
            return
        if verb == "create":
            response = client.post(
                self.list_url(), self.create_data_as(role, next(self._sequence)), format="json"
            )
            self.assertEqual(
                response.status_code, 403 if access == Access.NONE else 201, response.content
            )
            return
        others = self.make_object(self.org, index=next(self._sequence))
        response = self._do(verb, client, self.detail_url(others))
        if access == Access.NONE:
            expected = 403  # the policy refuses before any row is looked up
        elif reach == Access.OWN:
            expected = 404  # a row the member may not read does not exist for them
        elif verb == "retrieve" or access == Access.ALL:
            expected = {"retrieve": 200, "update": 200, "delete": 204}[verb]
        else:
            expected = 403
        self.assertEqual(response.status_code, expected, response.content)
        if Access.OWN not in (reach, access):
            return  # ownership changes nothing for this role and verb
        own = self.give_to(self.make_object(self.org, index=next(self._sequence)), self.users[role])
        response = self._do(verb, client, self.detail_url(own))
        if verb == "retrieve" or access != Access.NONE:
            expected = {"retrieve": 200, "update": 200, "delete": 204}[verb]
        else:
            expected = 403
        self.assertEqual(response.status_code, expected, response.content)

    def _do(self, verb: str, client: APIClient, url: str):
        """Send ``verb`` to a detail ``url``."""
        if verb == "retrieve":
            return client.get(url)
        if verb == "update":
            return client.patch(url, self.update_data, format="json")
        return client.delete(url)

    def test_options_reports_what_the_policy_table_says(self):
        if "list" not in self.verbs:
            self.skipTest("this resource has no list")
        view = resolve(self.list_url()).func.cls
        asks = view.action_permissions.get("metadata") or ACTION_MAP["metadata"]
        for role in ROLES:
            with self.subTest(role=role):
                response = self.clients[role].options(self.list_url())
                expected = {
                    action: decide(
                        role=role, modules=[self.module], module=view.module, action=action
                    ).value
                    for action in ("view", "create", "change", "delete")
                }
                allowed = decide(role=role, modules=[self.module], module=view.module, action=asks)
                if allowed == Access.NONE:
                    self.assertEqual(response.status_code, 403, response.content)
                    continue
                self.assertEqual(response.status_code, 200, response.content)
                reported = response.json()["permissions"]
                self.assertEqual({key: reported[key] for key in expected}, expected)

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
