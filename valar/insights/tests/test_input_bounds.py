"""Dates within 1900-01-01..2200-12-31 and reports of at most 50,000 cells: 400s, never 500s.

Regression tests of issue 12: ``insights/query`` with ``end_date`` 9999-12-31 by week, and
year-1 and year-9999 periods on ``finance/summary/``, ``insights/overview/`` and
``insights/teams/``, answered 500 (date arithmetic overflowed); a query from year 1 to 9998
by week grouped by category returned 37 MB (finding 2).
"""

import datetime

from valar.core.limits import MAX_DATE, MAX_REPORT_CELLS, MIN_DATE
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Kind
from valar.insights.models import Chart
from valar.insights.tests import support

FIRST, LAST = MIN_DATE.isoformat(), MAX_DATE.isoformat()
#: Periods outside the accepted range, each with the field at fault.
OUT_OF_RANGE = [
    ({"start_date": "0001-01-01", "end_date": "0001-02-01"}, "start_date"),
    ({"start_date": "9999-12-01", "end_date": "9999-12-31"}, "start_date"),
    ({"start_date": "2026-01-01", "end_date": "9999-12-31"}, "end_date"),
    ({"start_date": "1899-12-31", "end_date": "1900-01-31"}, "start_date"),
    ({"start_date": "2200-12-01", "end_date": "2201-01-01"}, "end_date"),
]
#: The first and the last month of the accepted range.
EDGES = [
    {"start_date": FIRST, "end_date": "1900-01-31"},
    {"start_date": "2200-12-01", "end_date": LAST},
]


class DateRangeTests(TenantFixtureMixin, ApiTestCase):
    """Every date the API reads is within the range; outside it is a 400 on the field."""

    module = "insights"

    def setUp(self) -> None:
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.team = support.team(self.org, "Ops")
        sales = support.category(self.org, "Sales", Kind.INCOME)
        support.entry(self.org, sales, "10.00", MIN_DATE, team=self.team)
        support.entry(self.org, sales, "20.00", MAX_DATE, team=self.team)

    def reports(self) -> list[str]:
        return [
            "/api/v1/finance/summary/",
            "/api/v1/insights/overview/",
            "/api/v1/insights/teams/",
            "/api/v1/insights/trends/",
            "/api/v1/insights/breakdown/",
            f"/api/v1/insights/teams/{self.team.pk}/",
        ]

    def test_reports_refuse_periods_outside_the_range(self):
        for url in self.reports():
            for period, field in OUT_OF_RANGE:
                with self.subTest(url=url, period=period):
                    response = self.admin.get(url, {"by": "category", **period})
                    body = self.assert_problem(response, 400, field=field)
                    self.assertIn("1900-01-01", body["errors"][field][0])

    def test_reports_answer_at_both_ends_of_the_range(self):
        for url in self.reports():
            for period in EDGES:
                with self.subTest(url=url, period=period):
                    response = self.admin.get(url, {"by": "category", **period})
                    self.assertEqual(response.status_code, 200, response.content)

    def test_the_finance_summary_counts_the_entries_at_both_ends(self):
        first = self.admin.get("/api/v1/finance/summary/", EDGES[0])
        last = self.admin.get("/api/v1/finance/summary/", EDGES[1])
        self.assertEqual(first.status_code, 200, first.content)
        self.assertEqual(last.status_code, 200, last.content)
        self.assertIn("10.00", first.content.decode())
        self.assertIn("20.00", last.content.decode())

    def test_a_query_ending_in_year_9999_by_week_is_a_400(self):
        spec = {"source": "income", "start_date": "2026-01-01", "end_date": "9999-12-31"}
        for interval in ("day", "week", "month", "quarter", "year", None):
            with self.subTest(interval=interval):
                response = self.admin.post(
                    "/api/v1/insights/query/", {**spec, "interval": interval}, format="json"
                )
                self.assert_problem(response, 400, field="end_date", code="invalid_query")

    def test_a_query_over_the_whole_range_by_week_answers(self):
        spec = {"source": "income", "start_date": FIRST, "end_date": LAST, "interval": "week"}
        response = self.admin.post("/api/v1/insights/query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        document = response.json()
        self.assertEqual(document["labels"][0], "1900-01-01")  # a Monday
        self.assertEqual(document["labels"][-1], "2200-12-29")
        self.assertEqual(document["totals"], {"income": "30.00"})

    def test_query_dates_before_1900_are_a_400(self):
        spec = {"source": "income", "start_date": "0001-01-01", "end_date": "0001-12-31"}
        response = self.admin.post("/api/v1/insights/query/", spec, format="json")
        self.assert_problem(response, 400, field="start_date")

    def test_a_chart_with_dates_outside_the_range_is_a_400_and_not_stored(self):
        board = self.admin.post("/api/v1/dashboards/", {"title": "B"}, format="json").json()
        query = {"source": "income", "start_date": "2026-01-01", "end_date": "9999-12-31"}
        response = self.admin.post(
            f"/api/v1/dashboards/{board['id']}/charts/",
            {"title": "C", "chart_type": "bar", "query": query},
            format="json",
        )
        self.assert_problem(response, 400)
        self.assertFalse(Chart.objects.exists())

    def test_body_dates_outside_the_range_are_400s(self):
        cases = [
            ("/api/v1/tasks/", {"title": "T", "due_date": "9999-12-31"}, "due_date"),
            ("/api/v1/tasks/", {"title": "T", "due_date": "0001-01-01"}, "due_date"),
            (
                "/api/v1/finance/transactions/",
                {
                    "kind": "income",
                    "title": "E",
                    "amount": "1.00",
                    "date": "9999-12-31",
                    "category": str(support.category(self.org, "Fees", Kind.INCOME).pk),
                },
                "date",
            ),
        ]
        for url, body, field in cases:
            with self.subTest(url=url, body=body):
                response = self.admin.post(url, body, format="json")
                self.assert_problem(response, 400, field=field)
        ok = self.admin.post("/api/v1/tasks/", {"title": "T", "due_date": LAST}, format="json")
        self.assertEqual(ok.status_code, 201, ok.content)

    def test_list_date_filters_outside_the_range_are_400s(self):
        for url in ("/api/v1/tasks/", "/api/v1/finance/transactions/", "/api/v1/auth/login-logs/"):
            for value in ("9999-12-31", "0001-01-01"):
                with self.subTest(url=url, value=value):
                    response = self.admin.get(url, {"end_date": value})
                    self.assert_problem(response, 400, field="end_date")


class ReportSizeTests(TenantFixtureMixin, ApiTestCase):
    """A report holds at most ``MAX_REPORT_CELLS`` cells (buckets x series)."""

    module = "insights"

    def setUp(self) -> None:
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        for index in range(4):
            category = support.category(self.org, f"Cost {index}", Kind.EXPENSE)
            support.entry(self.org, category, "5.00", datetime.date(2000, 1, 3))
        self.spec = {
            "source": "expense",
            "start_date": FIRST,
            "end_date": LAST,
            "interval": "week",
            "group_by": "category",
        }

    def test_a_query_over_the_cell_limit_is_a_400_that_states_the_limit(self):
        # 15,706 weeks x 4 categories = 62,824 cells.
        response = self.admin.post("/api/v1/insights/query/", self.spec, format="json")
        body = self.assert_problem(response, 400, field="interval", code="report_too_large")
        self.assertIn(str(MAX_REPORT_CELLS), body["detail"])
        self.assertIn("62824", body["detail"])

    def test_a_worker_is_held_to_the_same_limit(self):
        support.grant(self.org, self.users[Role.WORKER], support.ALL_MODULES)
        response = self.clients[Role.WORKER].post(
            "/api/v1/insights/query/", self.spec, format="json"
        )
        # However many of the rows the worker may see, the answer stays small: a refusal, or
        # at most 50,000 cells.
        self.assertIn(response.status_code, (200, 400), response.content[:300])
        self.assertLess(len(response.content), 2_000_000)

    def test_the_same_query_by_month_answers(self):
        # 3,612 months x 4 categories = 14,448 cells.
        response = self.admin.post(
            "/api/v1/insights/query/", {**self.spec, "interval": "month"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(len(response.json()["series"]), 4)
        self.assertEqual(len(response.json()["labels"]), 3612)

    def test_a_chart_over_the_cell_limit_is_a_400_and_not_stored(self):
        board = self.admin.post("/api/v1/dashboards/", {"title": "B"}, format="json").json()
        response = self.admin.post(
            f"/api/v1/dashboards/{board['id']}/charts/",
            {"title": "C", "chart_type": "line", "query": self.spec},
            format="json",
        )
        self.assert_problem(response, 400, code="report_too_large")
        self.assertFalse(Chart.objects.exists())
