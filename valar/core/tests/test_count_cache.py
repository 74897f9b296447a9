"""The optional count cache: a list's count kept under its sources' versions, never stale.

With ``LIST_COUNT_CACHE`` on, the task list (``count_sources = ("tasks",)``) answers a repeated
count from the cache; a write bumps the organization's ``tasks`` version so the next count is
taken again; another organization, another caller scope or an uncached filter never gets an
entry that is not its own.
"""

from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.lists import count_statement
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.tests.support import record_incomes
from valar.organizations.models import Membership
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


@override_settings(LIST_COUNT_CACHE=True)
class CountCacheTests(TenantFixtureMixin, ApiTestCase):
    """Counts cached per organization, caller scope, filters and source versions."""

    module = "tasks"

    def make_tasks(self, organization, number: int, **fields) -> None:
        """Create ``number`` tasks in ``organization`` (saved one by one, as services do)."""
        for index in range(number):
            Task.objects.create(organization=organization, title=f"T{index}", **fields)

    def listed(self, client, query: str = "") -> tuple[int, bool]:
        """``(count, whether a COUNT statement ran)`` of one list request."""
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{URL}?{query}")
        self.assertEqual(response.status_code, 200, response.content)
        counted = count_statement([query["sql"] for query in captured]) is not None
        return response.json()["count"], counted

    def test_a_repeated_count_is_served_from_the_cache(self):
        self.make_tasks(self.org, 3)
        admin = self.clients[Role.ADMIN]
        self.assertEqual(self.listed(admin, "status=todo"), (3, True))
        self.assertEqual(
            self.listed(admin, "status=todo&page_size=2&ordering=due_date"), (3, False)
        )

    def test_a_write_through_the_api_makes_the_next_count_fresh(self):
        self.make_tasks(self.org, 2)
        admin = self.clients[Role.ADMIN]
        self.assertEqual(self.listed(admin), (2, True))
        self.assertEqual(self.listed(admin), (2, False))
        response = admin.post(URL, {"title": "New"}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.listed(admin), (3, True))
        self.assertEqual(admin.delete(f"{URL}{response.json()['id']}/").status_code, 204)
        self.assertEqual(self.listed(admin), (2, True))
        task = Task.objects.filter(organization=self.org).first()
        self.assertEqual(admin.post(f"{URL}{task.pk}/complete/").status_code, 200)
        self.assertEqual(self.listed(admin, "status=done"), (1, True))

    def test_a_save_outside_the_api_bumps_the_version_too(self):
        self.make_tasks(self.org, 2)
        admin = self.clients[Role.ADMIN]
        self.assertEqual(self.listed(admin, "status=todo")[0], 2)
        task = Task.objects.filter(organization=self.org).first()
        task.status = Task.Status.DONE
        task.save()
        self.assertEqual(self.listed(admin, "status=todo"), (1, True))

    def test_another_organizations_count_is_never_served(self):
        self.make_tasks(self.org, 4)
        self.make_tasks(self.other, 1)
        self.assertEqual(self.listed(self.clients[Role.ADMIN], "status=todo")[0], 4)
        self.assertEqual(self.listed(self.other_client, "status=todo"), (1, True))
        self.assertEqual(self.listed(self.clients[Role.ADMIN], "status=todo"), (4, False))
        self.assertEqual(self.listed(self.other_client, "status=todo"), (1, False))

    def test_filters_are_part_of_the_key_and_uncached_filters_always_count(self):
        self.make_tasks(self.org, 2)
        self.make_tasks(self.org, 1, status=Task.Status.DONE)
        admin = self.clients[Role.ADMIN]
        self.assertEqual(self.listed(admin, "status=todo")[0], 2)
        self.assertEqual(self.listed(admin, "status=done"), (1, True))
        self.assertEqual(self.listed(admin, "status=done&status=todo"), (3, True))
        for query in ("overdue=true", "assignee=me"):
            with self.subTest(query=query):
                self.listed(admin, query)
                self.assertTrue(self.listed(admin, query)[1])

    def test_an_unreachable_cache_counts_in_sql_and_stores_nothing(self):
        self.make_tasks(self.org, 2)
        admin = self.clients[Role.ADMIN]
        with (
            mock.patch("valar.core.counts.versions.versions", side_effect=ConnectionError),
            mock.patch("valar.core.counts.cache.set", wraps=cache.set) as stored,
        ):
            self.assertEqual(self.listed(admin), (2, True))
            self.assertEqual(self.listed(admin), (2, True))
        keys = [call.args[0] for call in stored.call_args_list]
        self.assertFalse([key for key in keys if key.startswith("list-count:")], keys)

    @override_settings(LIST_COUNT_CACHE=False)
    def test_off_every_request_counts(self):
        self.make_tasks(self.org, 2)
        admin = self.clients[Role.ADMIN]
        self.assertEqual(self.listed(admin), (2, True))
        self.assertEqual(self.listed(admin), (2, True))


@override_settings(LIST_COUNT_CACHE=True)
class OwnRowsCountCacheTests(TenantFixtureMixin, ApiTestCase):
    """A member who reads only their own ledger entries never shares a count with others."""

    module = "finance"

    def record(self, user, number: int) -> None:
        """``number`` income entries created by ``user`` (who then owns them).

        Basic members record expense claims, never income: a basic member's income entries
        are the ones they recorded while they were a worker.
        """
        memberships = Membership.objects.filter(organization=self.org, user=user)
        role = memberships.get().role
        if role == Role.BASIC:
            memberships.update(role=Role.WORKER)
        record_incomes(self.org, user, number)
        memberships.update(role=role)

    def count(self, role: str) -> tuple[int, bool]:
        """``(count, whether a COUNT statement ran)`` of the transaction list for ``role``."""
        with CaptureQueriesContext(connection) as captured:
            response = self.clients[role].get("/api/v1/finance/transactions/?kind=income")
        self.assertEqual(response.status_code, 200, response.content)
        counted = count_statement([query["sql"] for query in captured]) is not None
        return response.json()["count"], counted

    def test_own_rows_are_counted_per_member(self):
        self.record(self.users[Role.ADMIN], 3)
        self.record(self.users[Role.WORKER], 1)
        self.record(self.users[Role.BASIC], 2)
        self.assertEqual(self.count(Role.ADMIN), (6, True))
        self.assertEqual(self.count(Role.MANAGER), (6, False))
        self.assertEqual(self.count(Role.WORKER), (1, True))
        self.assertEqual(self.count(Role.BASIC), (2, True))
        self.assertEqual(self.count(Role.WORKER), (1, False))
        self.record(self.users[Role.WORKER], 1)
        self.assertEqual(self.count(Role.WORKER), (2, True))
        self.assertEqual(self.count(Role.ADMIN), (7, True))
