"""The team leaderboard and team detail, figure by figure against numbers computed here."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.core import sysconfig
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Deal, Lead
from valar.finance.models import Kind
from valar.insights.tests import support
from valar.tasks.models import Task

TEAMS = support.INSIGHTS + "teams/"
START = datetime.date(2025, 1, 1)
END = datetime.date(2025, 3, 31)
PERIOD = {"start_date": START.isoformat(), "end_date": END.isoformat()}
METRICS = (
    "income",
    "expense",
    "profit",
    "tasks_completed",
    "on_time_rate",
    "deals_won",
    "deals_won_value",
    "leads_converted",
)
MONEY_KEYS = ("income", "expense", "profit", "deals_won_value")
MONTHS = [(2025, 1), (2025, 2), (2025, 3)]


def d(text: str) -> datetime.date:
    """A date from ``YYYY-MM-DD``."""
    return datetime.date.fromisoformat(text)


@dataclass
class EntrySpec:
    """One ledger entry."""

    team: str | None
    kind: str
    amount: str
    day: str


@dataclass
class TaskSpec:
    """One task: status, due date, completion date and hour."""

    team: str | None
    status: str
    due: str | None
    completed: str | None
    hour: int = 12


@dataclass
class DealSpec:
    """One deal: status, value, closing date."""

    team: str | None
    status: str
    value: str
    closed: str | None
    hour: int = 12


@dataclass
class LeadSpec:
    """One lead: status and conversion date."""

    team: str | None
    status: str
    converted: str | None
    hour: int = 12


ENTRIES = [
    EntrySpec("Alpha", Kind.INCOME, "1000.10", "2025-01-05"),
    EntrySpec("Alpha", Kind.INCOME, "250.25", "2025-03-31"),
    EntrySpec("Alpha", Kind.EXPENSE, "400.05", "2025-02-10"),
    EntrySpec("Alpha", Kind.INCOME, "999.00", "2024-12-31"),
    EntrySpec("Alpha", Kind.EXPENSE, "50.00", "2025-04-01"),
    EntrySpec("Bravo", Kind.INCOME, "500.00", "2025-01-01"),
    EntrySpec("Bravo", Kind.EXPENSE, "200.00", "2025-03-01"),
    EntrySpec("Charlie", Kind.INCOME, "300.00", "2025-02-02"),
    EntrySpec("Delta", Kind.EXPENSE, "10.00", "2025-01-15"),
    EntrySpec(None, Kind.INCOME, "5000.00", "2025-02-01"),
]
TASKS = [
    TaskSpec("Alpha", Task.Status.DONE, "2025-01-10", "2025-01-10", hour=23),
    TaskSpec("Alpha", Task.Status.DONE, "2025-01-10", "2025-01-11"),
    TaskSpec("Alpha", Task.Status.DONE, None, "2025-02-01"),
    TaskSpec("Bravo", Task.Status.DONE, "2025-03-31", "2025-03-31", hour=10),
    TaskSpec("Bravo", Task.Status.DONE, "2025-02-01", "2025-01-20"),
    TaskSpec("Bravo", Task.Status.DONE, "2025-04-05", "2025-04-01", hour=0),
    TaskSpec("Bravo", Task.Status.DONE, None, "2024-12-31", hour=23),
    TaskSpec("Charlie", Task.Status.DONE, "2025-02-01", "2025-02-02"),
    TaskSpec("Charlie", Task.Status.IN_PROGRESS, "2025-02-01", None),
    TaskSpec("Charlie", Task.Status.CANCELLED, "2025-02-01", "2025-02-01"),
    TaskSpec(None, Task.Status.DONE, "2025-02-01", "2025-02-01"),
]
DEALS = [
    DealSpec("Alpha", Deal.Status.WON, "100.00", "2025-01-15"),
    DealSpec("Alpha", Deal.Status.WON, "50.50", "2025-03-30"),
    DealSpec("Alpha", Deal.Status.LOST, "999.00", "2025-02-10"),
    DealSpec("Bravo", Deal.Status.WON, "2000.00", "2025-02-01"),
    DealSpec("Bravo", Deal.Status.WON, "500.00", "2025-04-01", hour=0),
    DealSpec("Charlie", Deal.Status.OPEN, "300.00", None),
    DealSpec("Delta", Deal.Status.WON, "10.00", "2025-03-31", hour=23),
    DealSpec(None, Deal.Status.WON, "7000.00", "2025-02-01"),
]
LEADS = [
    LeadSpec("Alpha", Lead.Status.CONVERTED, "2025-01-02"),
    LeadSpec("Alpha", Lead.Status.CONVERTED, "2025-02-03"),
    LeadSpec("Bravo", Lead.Status.CONVERTED, "2025-03-03"),
    LeadSpec("Bravo", Lead.Status.QUALIFIED, None),
    LeadSpec("Charlie", Lead.Status.CONVERTED, "2025-04-01", hour=0),
    LeadSpec("Delta", Lead.Status.CONVERTED, "2025-01-01", hour=0),
]


def within(day: str | None, start: datetime.date = START, end: datetime.date = END) -> bool:
    """Whether ``day`` falls in the inclusive range."""
    return day is not None and start <= d(day) <= end


def expected_figures(name: str, start=START, end=END) -> dict:
    """A team's figures computed from the specs alone."""
    entries = [e for e in ENTRIES if e.team == name and within(e.day, start, end)]
    income = sum((Decimal(e.amount) for e in entries if e.kind == Kind.INCOME), Decimal(0))
    expense = sum((Decimal(e.amount) for e in entries if e.kind == Kind.EXPENSE), Decimal(0))
    done = [
        t
        for t in TASKS
        if t.team == name and t.status == Task.Status.DONE and within(t.completed, start, end)
    ]
    with_due = [t for t in done if t.due is not None]
    on_time = [t for t in with_due if d(t.completed) <= d(t.due)]
    won = [
        x
        for x in DEALS
        if x.team == name and x.status == Deal.Status.WON and within(x.closed, start, end)
    ]
    converted = [
        x
        for x in LEADS
        if x.team == name and x.status == Lead.Status.CONVERTED and within(x.converted, start, end)
    ]
    return {
        "income": support.money(income),
        "expense": support.money(expense),
        "profit": support.money(income - expense),
        "tasks_completed": len(done),
        "on_time_rate": len(on_time) / len(with_due) if with_due else None,
        "deals_won": len(won),
        "deals_won_value": support.money(sum((Decimal(x.value) for x in won), Decimal(0))),
        "leads_converted": len(converted),
    }


def expected_order(rows: dict[str, dict], field: str, descending: bool) -> list[tuple[str, int]]:
    """Team names in the expected order with their ranks (ties share a rank; None last)."""

    def value(name):
        raw = rows[name][field]
        return Decimal(raw) if field in MONEY_KEYS else raw

    present = sorted((n for n in rows if value(n) is not None), key=lambda n: n)
    present = sorted(present, key=value, reverse=descending)
    missing = sorted(n for n in rows if value(n) is None)
    ordered = present + missing
    ranked, rank = [], 0
    for index, name in enumerate(ordered, 1):
        if index == 1 or value(name) != value(ordered[index - 2]):
            rank = index
        ranked.append((name, rank))
    return ranked


class LeaderboardFixtureMixin(TenantFixtureMixin):
    """Four teams of ``org`` with entries, tasks, deals and leads; one team of ``other``."""

    module = "insights"

    def setUp(self) -> None:
        """Build the specs; the manager leads Bravo and sits in Charlie, the worker in two."""
        super().setUp()
        manager, worker = self.users[Role.MANAGER], self.users[Role.WORKER]
        self.teams = {
            "Alpha": support.team(self.org, "Alpha", members=[worker]),
            "Bravo": support.team(self.org, "Bravo", lead=manager, members=[manager]),
            "Charlie": support.team(self.org, "Charlie", members=[manager]),
            "Delta": support.team(self.org, "Delta", members=[worker]),
        }
        categories = {
            kind: support.category(self.org, f"General {kind}", kind)
            for kind in (Kind.INCOME, Kind.EXPENSE)
        }
        for spec in ENTRIES:
            support.entry(
                self.org, categories[spec.kind], spec.amount, d(spec.day), self.team_of(spec)
            )
        for spec in TASKS:
            support.task(
                self.org,
                status=spec.status,
                team=self.team_of(spec),
                due=d(spec.due) if spec.due else None,
                completed_at=support.instant(d(spec.completed), spec.hour)
                if spec.completed
                else None,
            )
        for spec in DEALS:
            support.deal(
                self.org,
                spec.value,
                status=spec.status,
                team=self.team_of(spec),
                closed_at=support.instant(d(spec.closed), spec.hour) if spec.closed else None,
            )
        for spec in LEADS:
            support.lead(
                self.org,
                status=spec.status,
                team=self.team_of(spec),
                converted_at=support.instant(d(spec.converted), spec.hour)
                if spec.converted
                else None,
            )
        self.foreign = support.team(self.other, "Alpha")
        foreign_income = support.category(self.other, "Foreign", Kind.INCOME)
        support.entry(self.other, foreign_income, "777.00", d("2025-02-01"), self.foreign)
        support.task(
            self.other,
            status=Task.Status.DONE,
            team=self.foreign,
            completed_at=support.instant(d("2025-02-01")),
        )
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC):
            support.grant(self.org, self.users[role], support.ALL_MODULES)

    def team_of(self, spec):
        """The team a spec names, if any."""
        return self.teams[spec.team] if spec.team else None

    def expected_rows(self, names=("Alpha", "Bravo", "Charlie", "Delta")) -> dict[str, dict]:
        """Each named team's expected row (without rank)."""
        return {
            name: {"team": str(self.teams[name].pk), "name": name, **expected_figures(name)}
            for name in names
        }

    def leaderboard(self, role=Role.ADMIN, **params):
        """The leaderboard body for ``role`` over the period."""
        response = self.clients[role].get(TEAMS, {**PERIOD, **params})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()


class LeaderboardTests(LeaderboardFixtureMixin, ApiTestCase):
    """Figures, default order, every ordering and ranks of ``insights/teams/``."""

    def test_every_figure_of_every_team_equals_the_independently_computed_one(self):
        body = self.leaderboard()
        self.assertEqual(body["count"], 4)
        expected = self.expected_rows()
        got = {
            row["name"]: {k: v for k, v in row.items() if k != "rank"} for row in body["results"]
        }
        self.assertEqual(got, expected)
        alpha, delta = got["Alpha"], got["Delta"]
        self.assertEqual((alpha["income"], alpha["expense"]), ("1250.35", "400.05"))
        self.assertEqual((alpha["profit"], alpha["on_time_rate"]), ("850.30", 0.5))
        self.assertEqual((alpha["deals_won"], alpha["deals_won_value"]), (2, "150.50"))
        self.assertEqual(got["Bravo"]["profit"], got["Charlie"]["profit"])
        self.assertEqual((delta["profit"], delta["on_time_rate"]), ("-10.00", None))
        self.assertEqual((delta["leads_converted"], delta["deals_won"]), (1, 1))

    def test_the_default_order_is_profit_descending_with_ties_broken_by_name(self):
        body = self.leaderboard()
        ranked = [(row["name"], row["rank"]) for row in body["results"]]
        self.assertEqual(ranked, [("Alpha", 1), ("Bravo", 2), ("Charlie", 2), ("Delta", 4)])
        self.assertEqual(ranked, expected_order(self.expected_rows(), "profit", True))

    def test_each_ordering_sorts_and_ranks_by_its_figure(self):
        expected_rows = self.expected_rows()
        for field in METRICS:
            for descending in (False, True):
                ordering = f"-{field}" if descending else field
                with self.subTest(ordering=ordering):
                    body = self.leaderboard(ordering=ordering)
                    ranked = [(row["name"], row["rank"]) for row in body["results"]]
                    self.assertEqual(ranked, expected_order(expected_rows, field, descending))

    def test_ordering_by_tasks_completed_ranks_ties_together(self):
        body = self.leaderboard(ordering="-tasks_completed")
        ranked = [(row["name"], row["tasks_completed"], row["rank"]) for row in body["results"]]
        self.assertEqual(
            ranked, [("Alpha", 3, 1), ("Bravo", 2, 2), ("Charlie", 1, 3), ("Delta", 0, 4)]
        )
        body = self.leaderboard(ordering="-deals_won")
        ranked = [(row["name"], row["rank"]) for row in body["results"]]
        self.assertEqual(ranked, [("Alpha", 1), ("Bravo", 2), ("Delta", 2), ("Charlie", 4)])

    def test_ordering_by_name_sorts_alphabetically_either_way(self):
        body = self.leaderboard(ordering="name")
        self.assertEqual(
            [row["name"] for row in body["results"]], ["Alpha", "Bravo", "Charlie", "Delta"]
        )
        body = self.leaderboard(ordering="-name")
        self.assertEqual(
            [row["name"] for row in body["results"]], ["Delta", "Charlie", "Bravo", "Alpha"]
        )

    def test_an_unknown_ordering_is_a_400_on_the_ordering_parameter(self):
        response = self.clients[Role.ADMIN].get(TEAMS, {**PERIOD, "ordering": "-salary"})
        self.assert_problem(response, 400, field="ordering")

    def test_a_reversed_period_is_a_400(self):
        response = self.clients[Role.ADMIN].get(
            TEAMS, {"start_date": "2025-03-01", "end_date": "2025-02-01"}
        )
        self.assert_problem(response, 400, field="end_date")

    def test_a_narrower_period_counts_only_what_falls_in_it(self):
        body = self.clients[Role.ADMIN].get(
            TEAMS, {"start_date": "2025-02-01", "end_date": "2025-02-28"}
        )
        rows = {row["name"]: row for row in body.json()["results"]}
        for name in ("Alpha", "Bravo", "Charlie", "Delta"):
            with self.subTest(team=name):
                figures = expected_figures(name, d("2025-02-01"), d("2025-02-28"))
                row = {k: v for k, v in rows[name].items() if k in figures}
                self.assertEqual(row, figures)

    def test_the_admin_sees_every_team_of_the_organization_and_none_of_another(self):
        names = [row["name"] for row in self.leaderboard()["results"]]
        self.assertEqual(sorted(names), ["Alpha", "Bravo", "Charlie", "Delta"])
        ids = {row["team"] for row in self.leaderboard()["results"]}
        self.assertNotIn(str(self.foreign.pk), ids)

    def test_the_other_organization_sees_only_its_own_team_and_figures(self):
        response = self.other_client.get(TEAMS, PERIOD)
        rows = response.json()["results"]
        self.assertEqual([row["team"] for row in rows], [str(self.foreign.pk)])
        self.assertEqual((rows[0]["income"], rows[0]["tasks_completed"]), ("777.00", 1))

    def test_a_manager_sees_the_teams_they_lead_or_are_in_once_each(self):
        body = self.leaderboard(Role.MANAGER)
        self.assertEqual([row["name"] for row in body["results"]], ["Bravo", "Charlie"])
        self.assertEqual([row["rank"] for row in body["results"]], [1, 1])

    def test_a_manager_sees_a_team_they_only_lead(self):
        led = support.team(self.org, "Echo", lead=self.users[Role.MANAGER])
        body = self.leaderboard(Role.MANAGER)
        self.assertIn(str(led.pk), [row["team"] for row in body["results"]])

    def test_a_worker_sees_only_their_own_teams_and_money_of_their_own_entries(self):
        worker = self.users[Role.WORKER]
        support.team(self.org, "Foxtrot", lead=worker)
        income = support.category(self.org, "Worker income", Kind.INCOME)
        expense = support.category(self.org, "Worker expense", Kind.EXPENSE)
        alpha, delta = self.teams["Alpha"], self.teams["Delta"]
        support.entry(self.org, income, "12.34", d("2025-02-03"), alpha, created_by=worker)
        support.entry(self.org, income, "0.01", d("2025-03-31"), alpha, created_by=worker)
        support.entry(self.org, expense, "2.30", d("2025-01-01"), delta, created_by=worker)
        support.entry(self.org, income, "99.00", d("2025-04-01"), alpha, created_by=worker)
        body = self.leaderboard(Role.WORKER)
        self.assertEqual([row["name"] for row in body["results"]], ["Alpha", "Delta"])
        expected = self.expected_rows(("Alpha", "Delta"))
        # Finance ``view: own``: the money columns count the worker's own entries only.
        expected["Alpha"].update(income="12.35", expense="0.00", profit="12.35")
        expected["Delta"].update(income="0.00", expense="2.30", profit="-2.30")
        for row in body["results"]:
            self.assertEqual({k: v for k, v in row.items() if k != "rank"}, expected[row["name"]])
        admin = {row["name"]: row for row in self.leaderboard()["results"]}
        self.assertEqual(admin["Alpha"]["income"], f"{Decimal('1250.35') + Decimal('12.35')}")

    def test_a_member_of_no_team_sees_an_empty_leaderboard(self):
        body = self.leaderboard(Role.BASIC)
        self.assertEqual(body, {"count": 0, "results": []})

    def test_a_member_without_the_finance_module_gets_no_money_keys(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks", "crm"])
        body = self.leaderboard(Role.WORKER)
        expected = self.expected_rows(("Alpha", "Delta"))
        for row in body["results"]:
            for key in MONEY_KEYS:
                self.assertNotIn(key, row)
            wanted = {k: v for k, v in expected[row["name"]].items() if k not in MONEY_KEYS}
            self.assertEqual({k: v for k, v in row.items() if k != "rank"}, wanted)
        self.assertEqual([row["name"] for row in body["results"]], ["Alpha", "Delta"])

    def test_ordering_by_a_hidden_money_figure_reveals_nothing_and_falls_back_to_names(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks", "crm"])
        for ordering in ("profit", "-profit"):
            body = self.leaderboard(Role.WORKER, ordering=ordering)
            ranked = [(row["name"], row["rank"]) for row in body["results"]]
            self.assertEqual(ranked, [("Alpha", 1), ("Delta", 1)])
            for row in body["results"]:
                self.assertNotIn("profit", row)

    def test_a_member_without_the_insights_module_is_refused(self):
        support.grant(self.org, self.users[Role.WORKER], ["finance", "tasks", "crm"])
        response = self.clients[Role.WORKER].get(TEAMS, PERIOD)
        self.assert_problem(response, 403)

    def test_a_new_ledger_entry_shows_at_once_through_the_cache(self):
        self.leaderboard()
        income = support.category(self.org, "Late income", Kind.INCOME)
        support.entry(self.org, income, "1000.00", d("2025-02-15"), self.teams["Delta"])
        rows = {row["name"]: row for row in self.leaderboard()["results"]}
        self.assertEqual(rows["Delta"]["profit"], "990.00")
        self.assertEqual(rows["Delta"]["rank"], 1)


class TeamDetailTests(LeaderboardFixtureMixin, ApiTestCase):
    """``insights/teams/{id}/``: one team's figures and its monthly series."""

    def test_the_detail_has_the_leaderboard_figures_and_monthly_series(self):
        for name, team in self.teams.items():
            with self.subTest(team=name):
                response = self.clients[Role.ADMIN].get(f"{TEAMS}{team.pk}/", PERIOD)
                self.assertEqual(response.status_code, 200, response.content)
                body = response.json()
                self.assertEqual(body["labels"], ["2025-01", "2025-02", "2025-03"])
                profit, completed = [], []
                for year, month in MONTHS:
                    first = datetime.date(year, month, 1)
                    last = (first + datetime.timedelta(days=32)).replace(day=1)
                    last -= datetime.timedelta(days=1)
                    figures = expected_figures(name, first, last)
                    profit.append(figures["profit"])
                    completed.append(figures["tasks_completed"])
                self.assertEqual(
                    body["series"],
                    [
                        {"name": "profit", "data": profit},
                        {"name": "tasks_completed", "data": completed},
                    ],
                )
                figures = {k: v for k, v in body.items() if k not in ("labels", "series")}
                self.assertEqual(figures, self.expected_rows((name,))[name])

    def test_the_detail_equals_the_leaderboard_row(self):
        rows = {row["team"]: row for row in self.leaderboard()["results"]}
        for team in self.teams.values():
            body = self.clients[Role.ADMIN].get(f"{TEAMS}{team.pk}/", PERIOD).json()
            row = {k: v for k, v in rows[str(team.pk)].items() if k != "rank"}
            self.assertEqual({k: v for k, v in body.items() if k in row}, row)
            self.assertEqual(set(body) - set(row), {"labels", "series"})

    def test_without_finance_the_detail_has_no_money_and_no_profit_series(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks", "crm"])
        response = self.clients[Role.WORKER].get(f"{TEAMS}{self.teams['Alpha'].pk}/", PERIOD)
        body = response.json()
        for key in MONEY_KEYS:
            self.assertNotIn(key, body)
        self.assertEqual([s["name"] for s in body["series"]], ["tasks_completed"])
        self.assertEqual(body["series"][0]["data"], [2, 1, 0])

    def test_a_team_of_another_organization_is_404(self):
        response = self.clients[Role.ADMIN].get(f"{TEAMS}{self.foreign.pk}/", PERIOD)
        self.assert_problem(response, 404)
        response = self.other_client.get(f"{TEAMS}{self.teams['Alpha'].pk}/", PERIOD)
        self.assert_problem(response, 404)

    def test_a_team_the_caller_may_not_track_is_404(self):
        response = self.clients[Role.WORKER].get(f"{TEAMS}{self.teams['Bravo'].pk}/", PERIOD)
        self.assert_problem(response, 404)
        response = self.clients[Role.MANAGER].get(f"{TEAMS}{self.teams['Alpha'].pk}/", PERIOD)
        self.assert_problem(response, 404)
        response = self.clients[Role.MANAGER].get(f"{TEAMS}{self.teams['Bravo'].pk}/", PERIOD)
        self.assertEqual(response.status_code, 200)


class LeaderboardQueryCountTests(TenantFixtureMixin, ApiTestCase):
    """The leaderboard costs a fixed number of queries, whatever the number of teams."""

    module = "insights"
    #: Queries of one uncached leaderboard request: token, membership, visible teams, then one
    #: grouped query per kind of figure (income, expense, tasks, won deals, converted leads).
    QUERIES = 8

    def setUp(self) -> None:
        """An income and an expense category."""
        super().setUp()
        self.income = support.category(self.org, "Sales", Kind.INCOME)
        self.expense = support.category(self.org, "Rent", Kind.EXPENSE)
        self.count = 0

    def add_teams(self, n: int) -> None:
        """``n`` teams, each with an income, an expense, a done task, a won deal, a lead."""
        for _ in range(n):
            self.count += 1
            team = support.team(self.org, f"Team {self.count:02d}")
            support.entry(self.org, self.income, f"{100 * self.count}.00", START, team)
            support.entry(self.org, self.expense, "10.00", START, team)
            when = support.instant(START)
            support.task(self.org, status=Task.Status.DONE, team=team, due=START, completed_at=when)
            support.deal(self.org, "5.00", status=Deal.Status.WON, team=team, closed_at=when)
            support.lead(self.org, status=Lead.Status.CONVERTED, team=team, converted_at=when)

    def queries(self) -> tuple[int, dict]:
        """The number of queries of one leaderboard request made with an empty cache."""
        client = self.clients[Role.ADMIN]
        client.get(TEAMS, PERIOD)
        cache.clear()
        # A flushed cache lost the runtime configuration's version too: each process reads
        # the configuration again once (one query, core.sysconfig), not what is counted here.
        sysconfig.value("page_size")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(TEAMS, PERIOD)
        self.assertEqual(response.status_code, 200)
        return len(captured), response.json()

    def test_the_query_count_is_the_same_for_2_and_8_teams(self):
        self.add_teams(2)
        few, body = self.queries()
        self.assertEqual(body["count"], 2)
        self.add_teams(6)
        many, body = self.queries()
        self.assertEqual(body["count"], 8)
        self.assertEqual(body["results"][0]["name"], "Team 08")
        self.assertEqual(body["results"][0]["profit"], "790.00")
        self.assertEqual(few, many)
        self.assertEqual(many, self.QUERIES)

    def test_a_cached_leaderboard_reads_no_figures_again(self):
        self.add_teams(3)
        client = self.clients[Role.ADMIN]
        client.get(TEAMS, PERIOD)
        with CaptureQueriesContext(connection) as captured:
            client.get(TEAMS, PERIOD)
        uncached, _ = self.queries()
        self.assertLess(len(captured), uncached)
