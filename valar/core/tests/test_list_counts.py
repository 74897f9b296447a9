"""Every list counts its filtered rows without the joins only its page's display columns need.

The lists are found in the OpenAPI document (every paginated ``GET``), never listed here; each
is asked for by the demo organization's admin, its worker and its portal client (those who may
read it), and the pagination's ``COUNT`` statement, captured, must join no table that nothing
but its own join reads.
"""

import uuid

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from valar.accounts.models import User
from valar.core.testing import ApiTestCase
from valar.core.testing.lists import count_statement, list_paths, needless_joins
from valar.ops.services import DEMO_CLIENT_EMAIL, DEMO_EMAIL, demo_seed
from valar.organizations.models import Organization


@override_settings(LIST_COUNT_CACHE=False)
class ListCountJoinTests(ApiTestCase):
    """The count statement of each list joins only what its filters read."""

    def setUp(self) -> None:
        """The demo data: an organization with teams, tasks, a deal, ledger entries."""
        super().setUp()
        demo_seed()
        self.admin = User.objects.get(email=DEMO_EMAIL)
        self.organization = Organization.objects.get(memberships__user=self.admin)

    def fill(self, path: str, names: list[str]) -> str:
        """``path`` with its parameters: the organization, or a row of the view's model."""
        for name in names:
            if name.startswith("organization"):
                path = path.replace(f"{{{name}}}", str(self.organization.pk))
                continue
            view = resolve(path.replace(f"{{{name}}}", str(uuid.uuid4()))).func.cls
            row = view.model.objects.filter(organization=self.organization).first()
            self.assertIsNotNone(row, f"the demo data has no {view.model.__name__} for {path}")
            path = path.replace(f"{{{name}}}", str(row.pk))
        return path

    def count_of(self, client, url: str) -> str | None:
        """The ``COUNT`` statement one list request sends (after a warm-up request)."""
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        self.assertEqual(response.status_code, 200, (url, response.content[:300]))
        return count_statement([query["sql"] for query in captured])

    def test_the_lists_are_found_in_the_schema(self):
        paths = [path for path, _ in list_paths()]
        for expected in ("/api/v1/tasks/", "/api/v1/crm/deals/", "/api/v1/teams/{id}/members/"):
            self.assertIn(expected, paths)

    def test_no_list_count_joins_a_table_no_filter_needs(self):
        worker = User.objects.get(email="worker@valar.local")
        portal_client = User.objects.get(email=DEMO_CLIENT_EMAIL)
        callers = {
            "admin": self.token_client(self.admin),
            "worker": self.token_client(worker),
            "client": self.token_client(portal_client),
        }
        checked = 0
        for path, names in list_paths():
            url = self.fill(path, names)
            readers = 0
            for who, client in callers.items():
                if client.get(url).status_code != 200:
                    continue  # a list this caller may not read has no count to check
                readers += 1
                with self.subTest(path=path, caller=who):
                    sql = self.count_of(client, url)
                    self.assertIsNotNone(sql, f"{url} sent no COUNT")
                    self.assertEqual(needless_joins(sql), [], sql)
                    checked += 1
            self.assertGreater(readers, 0, f"nobody of the demo reads {url}")
        self.assertGreaterEqual(checked, len(list_paths()))

    def test_ordering_by_a_presented_figure_orders_the_page_and_not_the_count(self):
        """``ordering`` may name what ``present()`` adds; the count still joins nothing."""
        client = self.token_client(self.admin)
        for url, field in (
            ("/api/v1/teams/?ordering=-member_count", "member_count"),
            ("/api/v1/crm/deals/?ordering=stage", "stage_name"),
            ("/api/v1/crm/customers/?ordering=-open_deals_value", "open_deals_value"),
            ("/api/v1/finance/categories/?ordering=name", "entry_count"),
        ):
            with self.subTest(url=url):
                sql = self.count_of(client, url)
                self.assertEqual(needless_joins(sql), [], sql)
                rows = client.get(url).json()["results"]
                self.assertTrue(rows)
                self.assertIn(field, rows[0])
        teams = client.get("/api/v1/teams/?ordering=-member_count").json()["results"]
        counts = [team["member_count"] for team in teams]
        self.assertEqual(counts, sorted(counts, reverse=True))

    def test_a_filter_that_reads_a_joined_table_keeps_its_join(self):
        """The check itself: a join the ``WHERE`` reads is needed, a display join is not."""
        filtered = (
            'SELECT COUNT(*) AS "__count" FROM "t" INNER JOIN "u" ON ("t"."u_id" = "u"."id") '
            'LEFT OUTER JOIN "v" T3 ON ("u"."v_id" = T3."id") WHERE T3."name" = %s'
        )
        self.assertEqual(needless_joins(filtered), [])
        display = (
            'SELECT COUNT(*) AS "__count" FROM "t" LEFT OUTER JOIN "u" ON ("t"."u_id" = "u"."id")'
            ' WHERE "t"."org_id" = %s'
        )
        self.assertEqual(needless_joins(display), ["u"])
