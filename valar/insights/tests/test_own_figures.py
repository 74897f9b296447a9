"""Figures never show what rows hide: finance ``view: own`` restricts every money figure.

A worker (finance ``view: own``) is shown the overview, trends, breakdowns, projections,
ad-hoc queries, team figures and dashboard charts of their own entries only; managers and
admins see the organization's. Every expected figure is an exact ``Decimal`` sum of the
entries built here.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Kind
from valar.insights.tests import support

INSIGHTS = support.INSIGHTS
DASHBOARDS = support.DASHBOARDS
PERIOD = {"start_date": "2025-01-01", "end_date": "2025-03-31"}
MINE = {"income": ("12.34", "0.05"), "expense": ("2.30",)}
THEIRS = {"income": ("1000.01", "333.33"), "expense": ("400.05",)}


def total(*amounts: str) -> str:
    """The exact sum of ``amounts`` as the API shows money."""
    return f"{sum((Decimal(a) for a in amounts), Decimal(0)):.2f}"


class OwnFiguresTestCase(TenantFixtureMixin, ApiTestCase):
    """The worker's entries and the admin's in Q1 2025, split over two categories and a team."""

    module = "insights"

    def setUp(self) -> None:
        """Entries of the worker and of the admin, and every module for the members."""
        super().setUp()
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC):
            support.grant(self.org, self.users[role], support.ALL_MODULES)
        self.worker_user, self.worker = self.users[Role.WORKER], self.clients[Role.WORKER]
        self.admin = self.clients[Role.ADMIN]
        self.crew = support.team(self.org, "Crew", members=[self.worker_user])
        self.sales = support.category(self.org, "Sales", Kind.INCOME)
        self.rent = support.category(self.org, "Rent", Kind.EXPENSE)
        self.build(MINE, self.worker_user, datetime.date(2025, 2, 10))
        self.build(THEIRS, self.users[Role.ADMIN], datetime.date(2025, 3, 10))

    def build(self, amounts: dict, author, day: datetime.date) -> None:
        """Entries of ``author`` on ``day`` in the crew's name."""
        for kind, values in amounts.items():
            cat = self.sales if kind == "income" else self.rent
            for value in values:
                support.entry(self.org, cat, value, day, self.crew, created_by=author)

    def body(self, client, path: str, **params) -> dict:
        """A GET of ``insights/<path>`` over Q1 2025."""
        response = client.get(f"{INSIGHTS}{path}", {**PERIOD, **params})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()


class OwnInsightsTests(OwnFiguresTestCase):
    """The insights endpoints over the engine."""

    def test_the_overview_counts_only_the_workers_entries(self):
        everyone = self.body(self.admin, "overview/")["finance"]  # cached first
        self.assertEqual(
            (everyone["income"], everyone["expense"]),
            (
                total(*MINE["income"], *THEIRS["income"]),
                total(*MINE["expense"], *THEIRS["expense"]),
            ),
        )
        own = self.body(self.worker, "overview/")["finance"]
        self.assertEqual(
            (own["income"], own["expense"], own["profit"]),
            (total(*MINE["income"]), total(*MINE["expense"]), "10.09"),
        )
        self.assertEqual(
            [(row["name"], row["total"]) for row in own["top_income_categories"]],
            [("Sales", total(*MINE["income"]))],
        )

    def test_trends_breakdowns_and_team_figures_count_only_the_workers_entries(self):
        trends = {s["name"]: s["data"] for s in self.body(self.worker, "trends/")["series"]}
        self.assertEqual(trends["revenue"], ["0.00", total(*MINE["income"]), "0.00"])
        self.assertEqual(trends["expenses"], ["0.00", total(*MINE["expense"]), "0.00"])
        breakdown = self.body(self.worker, "breakdown/", by="team")["groups"]
        self.assertEqual(
            [(g["source"], [i["total"] for i in g["items"]]) for g in breakdown],
            [("income", [total(*MINE["income"])]), ("expense", [total(*MINE["expense"])])],
        )
        team = self.body(self.worker, f"teams/{self.crew.pk}/")
        self.assertEqual(
            (team["income"], team["expense"], team["profit"]),
            (total(*MINE["income"]), total(*MINE["expense"]), "10.09"),
        )
        profit = {s["name"]: s["data"] for s in team["series"]}["profit"]
        self.assertEqual(profit, ["0.00", "10.09", "0.00"])
        manager = self.body(self.clients[Role.MANAGER], "breakdown/", by="team")["groups"]
        self.assertEqual(manager[0]["items"][0]["total"], total(*MINE["income"], *THEIRS["income"]))

    def test_an_ad_hoc_query_is_restricted_and_cannot_be_widened(self):
        spec = {"source": "income", "measure": "sum", **PERIOD}
        response = self.admin.post(f"{INSIGHTS}query/", spec, format="json")
        self.assertEqual(
            response.json()["totals"]["income"], total(*MINE["income"], *THEIRS["income"])
        )
        response = self.worker.post(f"{INSIGHTS}query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        document = response.json()
        self.assertEqual(document["totals"]["income"], total(*MINE["income"]))
        self.assertEqual(document["query"]["owner"], str(self.worker_user.pk))
        admin_id = str(self.users[Role.ADMIN].pk)
        for extra in ({"owner": admin_id}, {"filters": {"created_by": [admin_id]}}):
            with self.subTest(extra=extra):
                response = self.worker.post(f"{INSIGHTS}query/", {**spec, **extra}, format="json")
                if "owner" in extra:
                    self.assert_problem(response, 400, field="owner")
                else:
                    self.assertEqual(response.json()["totals"]["income"], "0.00")

    def test_projections_fit_only_the_workers_history(self):
        this_month = timezone.localdate().replace(day=1)
        last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
        support.entry(self.org, self.sales, "50.00", last_month, created_by=self.worker_user)
        support.entry(
            self.org, self.sales, "9000.00", last_month, created_by=self.users[Role.ADMIN]
        )
        response = self.worker.get(f"{INSIGHTS}projections/", {"history_months": 2, "periods": 1})
        revenue = {s["name"]: s for s in response.json()["series"]}["revenue"]
        self.assertEqual(revenue["history"]["data"], ["0.00", "50.00"])


class OwnChartTests(OwnFiguresTestCase):
    """Stored chart documents: computed for the caller, hidden from own-viewers otherwise."""

    QUERY = {"source": "income", "interval": "month", **PERIOD}

    def board(self, client, **extra) -> dict:
        """A dashboard created by ``client``."""
        response = client.post(DASHBOARDS, {"title": "Board", **extra}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def add_chart(self, client, board: dict) -> dict:
        """An income chart added by ``client``."""
        data = {"title": "Income", "chart_type": "bar", "query": self.QUERY}
        response = client.post(f"{DASHBOARDS}{board['id']}/charts/", data, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def test_a_workers_chart_holds_their_own_figures_even_after_an_admin_refresh(self):
        board = self.board(self.worker, visibility="organization")
        chart = self.add_chart(self.worker, board)
        self.assertEqual(chart["document"]["totals"]["income"], total(*MINE["income"]))
        url = f"{DASHBOARDS}{board['id']}/charts/{chart['id']}/"
        refreshed = self.admin.post(f"{url}refresh/").json()
        self.assertEqual(refreshed["document"]["totals"]["income"], total(*MINE["income"]))
        self.assertEqual(self.worker.get(url).status_code, 200)

    def test_a_chart_of_everyones_figures_is_hidden_from_a_worker(self):
        board = self.board(self.clients[Role.MANAGER], visibility="organization")
        chart = self.add_chart(self.clients[Role.MANAGER], board)
        self.assertEqual(
            chart["document"]["totals"]["income"], total(*MINE["income"], *THEIRS["income"])
        )
        seen = self.worker.get(f"{DASHBOARDS}{board['id']}/")
        self.assertEqual(seen.status_code, 200)
        self.assertEqual(seen.json()["charts"], [])
        url = f"{DASHBOARDS}{board['id']}/charts/{chart['id']}/"
        for path in ("", "export/"):
            with self.subTest(path=path):
                self.assert_problem(self.worker.get(f"{url}{path}"), 404)
        self.assert_problem(self.worker.post(f"{url}refresh/"), 404)
        self.assertEqual(self.clients[Role.ADMIN].get(url).status_code, 200)
