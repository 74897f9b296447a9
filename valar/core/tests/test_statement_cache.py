"""Kept list statements (``core.statements``): the same answers as building them every time.

Every list that renders rows is asked twice with the cache on (the first request compiles
and keeps the statements, the second executes the kept ones) and once with it off; the
three bodies must be equal, for several filters, orderings and pages, as the demo
organization's admin and its worker. The key keeps organizations, callers, roles, modules
and time zones apart; parameters whose statements are not a function of their values alone
(``me``, dates relative to today, filters that read rows to validate) are never kept.
"""

import uuid

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from valar.accounts.models import User
from valar.core import statements
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.lists import list_paths
from valar.core.testing.resources import TenantFixtureMixin
from valar.core.viewsets import RowListMixin
from valar.finance.tests.support import record_incomes
from valar.ops.services import DEMO_EMAIL, demo_seed
from valar.organizations.models import Membership
from valar.tasks.models import Task

TASKS = "/api/v1/tasks/"
LEDGER = "/api/v1/finance/transactions/"


def row_lists() -> list[str]:
    """The paths of every paginated list rendered from rows, without path parameters."""
    found = []
    for path, names in list_paths():
        if names:
            continue
        view = resolve(path).func.cls
        if issubclass(view, RowListMixin):
            found.append(path)
    return found


@override_settings(LIST_COUNT_CACHE=False)
class KeptStatementsAnswerAlikeTests(ApiTestCase):
    """Kept statements answer exactly what freshly built querysets answer."""

    def setUp(self) -> None:
        """The demo organization, its admin and its worker."""
        super().setUp()
        demo_seed()
        self.admin = User.objects.get(email=DEMO_EMAIL)
        self.worker = User.objects.get(email="worker@valar.local")

    def queries(self, path: str) -> list[str]:
        """Query strings to try on ``path``: plain, each ordering both ways, a second page."""
        view = resolve(path).func.cls
        found = ["", "page_size=1&page=2", "page_size=1&page=last"]
        for field in getattr(view, "ordering_fields", ()) or ():
            found += [f"ordering={field}", f"ordering=-{field}&page_size=2"]
        found += {
            TASKS: ["status=todo", "status=todo&status=done&search=review", "priority=high"],
            "/api/v1/crm/leads/": ["status=new", "search=a"],
            "/api/v1/crm/deals/": ["status=open"],
            "/api/v1/finance/transactions/": ["kind=expense", "kind=income&ordering=-amount"],
        }.get(path, [])
        return found

    def test_the_row_lists_are_found(self):
        paths = row_lists()
        for expected in (TASKS, "/api/v1/crm/customers/", "/api/v1/finance/transactions/"):
            self.assertIn(expected, paths)

    def test_every_row_list_answers_alike_with_kept_statements(self):
        callers = {"admin": self.token_client(self.admin), "worker": self.token_client(self.worker)}
        tried = kept_hits = 0
        for path in row_lists():
            for query in self.queries(path):
                for name, client in callers.items():
                    url = f"{path}?{query}"
                    with self.subTest(url=url, caller=name):
                        with override_settings(LIST_STATEMENT_CACHE=0):
                            fresh = client.get(url)
                        first = client.get(url)
                        with CaptureQueriesContext(connection) as captured:
                            second = client.get(url)
                        self.assertEqual(first.status_code, fresh.status_code, url)
                        self.assertEqual(second.status_code, fresh.status_code, url)
                        if fresh.status_code != 200:
                            continue
                        self.assertEqual(first.json(), fresh.json(), url)
                        self.assertEqual(second.json(), fresh.json(), url)
                        tried += 1
                        sent = [q["sql"] for q in captured.captured_queries]
                        kept_hits += sum("COUNT(*)" in sql for sql in sent) <= 1
        self.assertGreater(tried, 60)
        self.assertGreater(kept_hits, tried // 2)

    def test_a_kept_list_sends_the_statements_the_orm_built(self):
        client = self.token_client(self.admin)
        url = f"{TASKS}?status=todo&ordering=due_date"
        with override_settings(LIST_STATEMENT_CACHE=0):
            with CaptureQueriesContext(connection) as built:
                client.get(url)
        client.get(url)
        with CaptureQueriesContext(connection) as kept:
            client.get(url)
        data = [query["sql"] for query in built.captured_queries if "tasks_task" in query["sql"]]
        sent = [query["sql"] for query in kept.captured_queries if "tasks_task" in query["sql"]]
        self.assertEqual(len(sent), 2, sent)
        self.assertEqual(sent, data)


class KeptStatementsKeyTests(TenantFixtureMixin, ApiTestCase):
    """Whose statements a request may execute: never another's organization, reach or zone.

    On the ledger, workers and basic members read only the entries they own, so a shared
    statement would show.
    """

    module = "finance"

    def record(self, organization, user, number: int, title: str) -> None:
        """``number`` income entries in ``organization`` created by ``user``."""
        record_incomes(organization, user, number, title)

    def setUp(self) -> None:
        """Entries of the admin and the worker, and of the other organization."""
        super().setUp()
        self.record(self.org, self.users[Role.ADMIN], 3, "Theirs")
        self.record(self.org, self.users[Role.WORKER], 3, "Mine")
        self.record(self.other, self.other_admin, 3, "Other")

    def titles(self, client, query: str = "kind=income") -> list[str]:
        """The titles one list request answers, sorted."""
        response = client.get(f"{LEDGER}?{query}")
        self.assertEqual(response.status_code, 200, response.content)
        return sorted(row["title"] for row in response.json()["results"])

    def test_callers_never_share_statements(self):
        every = self.titles(self.clients[Role.ADMIN])
        self.assertEqual(len(every), 6)
        self.assertEqual(self.titles(self.clients[Role.ADMIN]), every)
        self.assertEqual(self.titles(self.clients[Role.MANAGER]), every)
        self.assertEqual(self.titles(self.clients[Role.WORKER]), [f"Mine {i}" for i in range(3)])
        self.assertEqual(self.titles(self.clients[Role.BASIC]), [])
        self.assertEqual(self.titles(self.other_client), [f"Other {i}" for i in range(3)])
        self.assertEqual(len(statements.kept), 5)

    def test_a_role_or_module_change_takes_effect_at_once(self):
        manager = self.clients[Role.MANAGER]
        membership = Membership.objects.get(organization=self.org, user=self.users[Role.MANAGER])
        self.assertEqual(len(self.titles(manager)), 6)
        self.assertEqual(len(self.titles(manager)), 6)
        membership.role = Role.WORKER
        membership.save()
        self.assertEqual(self.titles(manager), [])
        membership.role = Role.MANAGER
        membership.modules = []
        membership.save()
        self.assertEqual(manager.get(f"{LEDGER}?kind=income").status_code, 403)
        membership.modules = ["finance"]
        membership.save()
        self.assertEqual(len(self.titles(manager)), 6)

    def test_time_zones_are_kept_apart(self):
        admin = self.clients[Role.ADMIN]
        self.titles(admin, "start_date=2026-01-01")
        with timezone.override("Asia/Jakarta"):
            self.titles(admin, "start_date=2026-01-01")
        self.assertEqual(len(statements.kept), 2)

    def test_bad_input_is_refused_after_good_input_was_kept(self):
        admin = self.clients[Role.ADMIN]
        self.titles(admin)
        self.titles(admin)
        self.assert_problem(admin.get(f"{LEDGER}?kind=nonsense"), 400, field="kind")
        self.assertEqual(admin.get(f"{LEDGER}?kind=income&page=9").status_code, 404)
        self.assertEqual(admin.get(f"{LEDGER}?kind=income&page_size=0").status_code, 400)

    def test_writes_show_at_once(self):
        admin = self.clients[Role.ADMIN]
        self.assertEqual(len(self.titles(admin)), 6)
        self.record(self.org, self.users[Role.MANAGER], 1, "New")
        self.assertEqual(len(self.titles(admin)), 7)
        self.assertEqual(admin.get(f"{LEDGER}?kind=income").json()["count"], 7)

    def test_the_cache_is_bounded(self):
        admin = self.clients[Role.ADMIN]
        with override_settings(LIST_STATEMENT_CACHE=3):
            for query in ("", "kind=income", "kind=expense", "ordering=date", "ordering=-date"):
                self.titles(admin, query)
        self.assertEqual(len(statements.kept), 3)

    def test_off_keeps_nothing(self):
        with override_settings(LIST_STATEMENT_CACHE=0):
            self.titles(self.clients[Role.ADMIN])
        self.assertEqual(len(statements.kept), 0)


class ImpureParametersTests(TenantFixtureMixin, ApiTestCase):
    """Parameters whose statements are not a function of their values alone are not kept."""

    module = "tasks"

    def test_values_that_are_not_pure_are_never_kept(self):
        worker = self.clients[Role.WORKER]
        Task.objects.create(organization=self.org, title="One", assignee=self.users[Role.WORKER])
        for query in ("assignee=me", "overdue=true", f"team={uuid.uuid4()}", "status=todo&x=1"):
            with self.subTest(query=query):
                worker.get(f"{TASKS}?{query}")
                worker.get(f"{TASKS}?{query}")
        self.assertEqual(len(statements.kept), 0)
        self.assertEqual(worker.get(f"{TASKS}?assignee=me").json()["count"], 1)
