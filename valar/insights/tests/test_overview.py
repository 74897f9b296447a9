"""Company insights: overview, trends, breakdown and projections against figures computed here."""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Deal, Lead
from valar.finance.models import Kind
from valar.insights.tests import support
from valar.tasks.models import Task

OVERVIEW = support.INSIGHTS + "overview/"
TRENDS = support.INSIGHTS + "trends/"
BREAKDOWN = support.INSIGHTS + "breakdown/"
PROJECTIONS = support.INSIGHTS + "projections/"
START = datetime.date(2025, 3, 1)
END = datetime.date(2025, 3, 31)
PERIOD = {"start_date": START.isoformat(), "end_date": END.isoformat()}
#: The previous period of equal length (31 days) ending the day before START.
PREVIOUS_START = START - datetime.timedelta(days=31)
PREVIOUS_END = START - datetime.timedelta(days=1)
QUARTER = {"start_date": "2025-01-01", "end_date": "2025-03-31"}
MONTHS = [datetime.date(2025, 1, 1), datetime.date(2025, 2, 1), datetime.date(2025, 3, 1)]

#: (category, amount, date, team)
ENTRIES = [
    ("Sales", "1000.00", "2025-03-01", "North"),
    ("Sales", "500.50", "2025-03-31", None),
    ("Consulting", "200.00", "2025-03-15", "South"),
    ("Rent", "800.00", "2025-03-02", "North"),
    ("Travel", "100.25", "2025-03-20", "South"),
    ("Tools", "300.00", "2025-03-05", None),
    ("Sales", "1200.00", "2025-01-29", "North"),
    ("Consulting", "300.00", "2025-02-28", None),
    ("Rent", "800.00", "2025-02-01", "North"),
    ("Sales", "9999.00", "2025-01-28", None),
    ("Rent", "77.00", "2025-04-01", None),
]
CATEGORIES = {
    "Sales": Kind.INCOME,
    "Consulting": Kind.INCOME,
    "Rent": Kind.EXPENSE,
    "Travel": Kind.EXPENSE,
    "Tools": Kind.EXPENSE,
}
#: (status, source, created)
LEADS = [
    (Lead.Status.CONVERTED, Lead.Source.WEBSITE, "2025-03-01"),
    (Lead.Status.CONVERTED, Lead.Source.REFERRAL, "2025-03-10"),
    (Lead.Status.NEW, Lead.Source.WEBSITE, "2025-03-31"),
    (Lead.Status.QUALIFIED, Lead.Source.REFERRAL, "2025-03-20"),
    (Lead.Status.NEW, Lead.Source.EVENT, "2025-02-28"),
]
#: (status, value, probability, closed)
DEALS = [
    (Deal.Status.WON, "1000.00", 100, "2025-03-05"),
    (Deal.Status.WON, "234.56", 100, "2025-03-31"),
    (Deal.Status.LOST, "50.00", 0, "2025-03-15"),
    (Deal.Status.WON, "777.00", 100, "2025-02-10"),
    (Deal.Status.OPEN, "1000.00", 25, None),
    (Deal.Status.OPEN, "333.33", 33, None),
]


def d(text: str) -> datetime.date:
    """A date from ``YYYY-MM-DD``."""
    return datetime.date.fromisoformat(text)


def total(kind: str, start: datetime.date, end: datetime.date, **match) -> Decimal:
    """The sum of the entries of ``kind`` in the range (optionally of one category or team)."""
    return sum(
        (
            Decimal(amount)
            for name, amount, day, team in ENTRIES
            if CATEGORIES[name] == kind
            and start <= d(day) <= end
            and all({"category": name, "team": team}[k] == v for k, v in match.items())
        ),
        Decimal(0),
    )


def totals(start: datetime.date, end: datetime.date) -> dict:
    """Income, expense, profit and margin of a range, as the API shows them."""
    income, expense = total(Kind.INCOME, start, end), total(Kind.EXPENSE, start, end)
    profit = income - expense
    margin = (profit / income * 100).quantize(support.CENT) if income else None
    return {
        "income": support.money(income),
        "expense": support.money(expense),
        "profit": support.money(profit),
        "margin": None if margin is None else f"{margin}",
    }


def change(current: str, previous: str) -> str:
    """The percent change between two figures, to the cent."""
    value = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous)) * 100
    return f"{value.quantize(support.CENT)}"


def month_end(first: datetime.date) -> datetime.date:
    """The last day of the month starting on ``first``."""
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


class OverviewFixtureMixin(TenantFixtureMixin):
    """Entries, tasks, leads and deals around March 2025, and noise in the other organization."""

    module = "insights"

    def setUp(self) -> None:
        """Build the fixture and grant the manager and worker every module."""
        super().setUp()
        self.today = timezone.localdate()
        self.teams = {name: support.team(self.org, name) for name in ("North", "South")}
        self.categories = {
            name: support.category(self.org, name, kind) for name, kind in CATEGORIES.items()
        }
        for name, amount, day, team in ENTRIES:
            support.entry(
                self.org,
                self.categories[name],
                amount,
                d(day),
                self.teams[team] if team else None,
            )
        for status, source, created in LEADS:
            support.lead(
                self.org, status=status, source=source, created_at=support.instant(d(created))
            )
        for status, value, probability, closed in DEALS:
            support.deal(
                self.org,
                value,
                status=status,
                probability=probability,
                closed_at=support.instant(d(closed)) if closed else None,
            )
        day = datetime.timedelta(days=1)
        today, done = self.today, Task.Status.DONE
        support.task(self.org, status=Task.Status.TODO, due=today - day)
        support.task(self.org, status=Task.Status.IN_PROGRESS, due=today + day)
        support.task(self.org, status=Task.Status.BLOCKED)
        support.task(self.org, status=Task.Status.CANCELLED, due=today - day)
        support.task(
            self.org,
            status=done,
            due=d("2025-03-10"),
            completed_at=support.instant(d("2025-03-10")),
        )
        support.task(
            self.org,
            status=done,
            due=d("2025-03-10"),
            completed_at=support.instant(d("2025-03-12")),
        )
        support.task(self.org, status=done, completed_at=support.instant(d("2025-03-20")))
        support.task(
            self.org,
            status=done,
            due=d("2025-04-05"),
            completed_at=support.instant(d("2025-04-01")),
        )
        noise = support.category(self.other, "Sales", Kind.INCOME)
        support.entry(self.other, noise, "123456.00", d("2025-03-10"))
        support.task(self.other, status=Task.Status.TODO, due=today - day)
        support.lead(self.other, created_at=support.instant(d("2025-03-10")))
        support.deal(self.other, "999.00", status=Deal.Status.OPEN)
        for role in (Role.MANAGER, Role.WORKER):
            support.grant(self.org, self.users[role], support.ALL_MODULES)

    def get(self, url: str, params: dict, role=Role.ADMIN) -> dict:
        """A successful GET's body."""
        response = self.clients[role].get(url, params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()


class OverviewTests(OverviewFixtureMixin, ApiTestCase):
    """``insights/overview/``: finance, tasks, leads and deals for a period."""

    def test_finance_totals_margin_and_change_against_the_previous_period(self):
        body = self.get(OVERVIEW, PERIOD)
        self.assertEqual((body["start_date"], body["end_date"]), ("2025-03-01", "2025-03-31"))
        self.assertEqual(body["currency"], "USD")
        current, previous = totals(START, END), totals(PREVIOUS_START, PREVIOUS_END)
        self.assertEqual(
            current,
            {"income": "1700.50", "expense": "1200.25", "profit": "500.25", "margin": "29.42"},
        )
        finance = body["finance"]
        self.assertEqual({k: finance[k] for k in current}, current)
        self.assertEqual(finance["previous"], previous)
        self.assertEqual(
            finance["previous"],
            {"income": "1500.00", "expense": "800.00", "profit": "700.00", "margin": "46.67"},
        )
        self.assertEqual(
            finance["change_percent"], {key: change(current[key], previous[key]) for key in current}
        )
        self.assertEqual(finance["change_percent"]["income"], "13.37")
        self.assertEqual(finance["change_percent"]["profit"], "-28.54")

    def test_the_change_has_no_value_when_the_previous_period_is_empty(self):
        body = self.get(OVERVIEW, {"start_date": "2025-01-28", "end_date": "2025-01-31"})
        self.assertEqual(body["finance"]["income"], "11199.00")
        self.assertEqual(body["finance"]["previous"]["income"], "0.00")
        self.assertIsNone(body["finance"]["previous"]["margin"])
        self.assertEqual(
            body["finance"]["change_percent"],
            {"income": None, "expense": None, "profit": None, "margin": None},
        )

    def test_top_categories_are_ranked_by_total(self):
        finance = self.get(OVERVIEW, PERIOD)["finance"]
        for key, kind in (
            ("top_income_categories", Kind.INCOME),
            ("top_expense_categories", Kind.EXPENSE),
        ):
            names = [name for name, k in CATEGORIES.items() if k == kind]
            expected = sorted(
                (
                    {
                        "category": str(self.categories[name].pk),
                        "name": name,
                        "total": support.money(total(kind, START, END, category=name)),
                    }
                    for name in names
                ),
                key=lambda row: Decimal(row["total"]),
                reverse=True,
            )
            with self.subTest(key=key):
                self.assertEqual(finance[key], expected)
        self.assertEqual(
            [row["name"] for row in finance["top_expense_categories"]], ["Rent", "Tools", "Travel"]
        )

    def test_task_figures_open_completed_overdue_and_on_time_rate(self):
        body = self.get(OVERVIEW, PERIOD)
        self.assertEqual(
            body["tasks"],
            {"open": 3, "overdue": 1, "completed": 3, "on_time": 1, "on_time_rate": 0.5},
        )

    def test_lead_figures_count_leads_created_in_the_period(self):
        body = self.get(OVERVIEW, PERIOD)
        in_period = [lead for lead in LEADS if START <= d(lead[2]) <= END]
        converted = [lead for lead in in_period if lead[0] == Lead.Status.CONVERTED]
        by_source, by_status = {}, {}
        for status, source, _ in in_period:
            by_source[source] = by_source.get(source, 0) + 1
            by_status[status] = by_status.get(status, 0) + 1
        self.assertEqual(
            body["leads"],
            {
                "total": len(in_period),
                "converted": len(converted),
                "conversion_rate": len(converted) / len(in_period),
                "by_source": by_source,
                "by_status": by_status,
            },
        )

    def test_deal_figures_win_rate_won_value_and_open_pipeline(self):
        body = self.get(OVERVIEW, PERIOD)
        closed = [x for x in DEALS if x[3] and START <= d(x[3]) <= END]
        won = [x for x in closed if x[0] == Deal.Status.WON]
        lost = [x for x in closed if x[0] == Deal.Status.LOST]
        open_ = [x for x in DEALS if x[0] == Deal.Status.OPEN]
        weighted = sum((Decimal(x[1]) * x[2] / 100 for x in open_), Decimal(0))
        self.assertEqual(
            body["deals"],
            {
                "won": len(won),
                "lost": len(lost),
                "won_value": support.money(sum(Decimal(x[1]) for x in won)),
                "open": len(open_),
                "pipeline_value": support.money(sum(Decimal(x[1]) for x in open_)),
                "weighted_value": support.money(weighted),
                "win_rate": len(won) / (len(won) + len(lost)),
            },
        )
        self.assertEqual(body["deals"]["weighted_value"], "360.00")

    def test_a_member_without_finance_sees_no_finance_and_no_money_in_deals(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks", "crm"])
        body = self.get(OVERVIEW, PERIOD, Role.WORKER)
        self.assertNotIn("finance", body)
        self.assertNotIn("currency", body)
        self.assertEqual(set(body["deals"]), {"won", "lost", "open", "win_rate"})
        self.assertEqual(body["deals"]["won"], 2)
        self.assertEqual(body["tasks"]["completed"], 3)

    def test_a_member_with_finance_only_sees_finance_only(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "finance"])
        body = self.get(OVERVIEW, PERIOD, Role.WORKER)
        self.assertEqual(set(body), {"start_date", "end_date", "currency", "finance"})

    def test_the_default_period_is_this_month(self):
        body = self.get(OVERVIEW, {})
        self.assertEqual(body["start_date"], self.today.replace(day=1).isoformat())
        self.assertEqual(body["end_date"], self.today.isoformat())

    def test_a_new_entry_shows_at_once_despite_the_cache(self):
        self.get(OVERVIEW, PERIOD)
        support.entry(self.org, self.categories["Sales"], "99.50", d("2025-03-03"))
        body = self.get(OVERVIEW, PERIOD)
        self.assertEqual(body["finance"]["income"], "1800.00")

    def test_bad_query_parameters_are_400(self):
        client = self.clients[Role.ADMIN]
        for params, field in (
            ({"start_date": "2025-13-01"}, "start_date"),
            ({"start_date": "2025-03-10", "end_date": "2025-03-01"}, "end_date"),
            ({"start_date": "2015-01-01", "end_date": "2025-01-01"}, "end_date"),
        ):
            with self.subTest(params=params):
                self.assert_problem(client.get(OVERVIEW, params), 400, field=field)
                self.assert_problem(client.get(TRENDS, params), 400, field=field)


class TrendsAndBreakdownTests(OverviewFixtureMixin, ApiTestCase):
    """``insights/trends/`` and ``insights/breakdown/`` over the first quarter of 2025."""

    def test_trends_are_monthly_series_of_the_five_figures(self):
        body = self.get(TRENDS, QUARTER)
        self.assertEqual(body["labels"], ["2025-01", "2025-02", "2025-03"])
        revenue = [total(Kind.INCOME, m, month_end(m)) for m in MONTHS]
        expenses = [total(Kind.EXPENSE, m, month_end(m)) for m in MONTHS]
        leads = [sum(1 for x in LEADS if m <= d(x[2]) <= month_end(m)) for m in MONTHS]
        won = [
            sum(
                1
                for x in DEALS
                if x[0] == Deal.Status.WON and x[3] and m <= d(x[3]) <= month_end(m)
            )
            for m in MONTHS
        ]
        self.assertEqual(
            body["series"],
            [
                {"name": "revenue", "data": [support.money(v) for v in revenue]},
                {"name": "expenses", "data": [support.money(v) for v in expenses]},
                {
                    "name": "profit",
                    "data": [support.money(r - e) for r, e in zip(revenue, expenses, strict=True)],
                },
                {"name": "new_leads", "data": leads},
                {"name": "won_deals", "data": won},
            ],
        )
        self.assertEqual(body["series"][0]["data"], ["11199.00", "300.00", "1700.50"])

    def test_trends_without_finance_have_no_money_series(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "crm"])
        body = self.get(TRENDS, QUARTER, Role.WORKER)
        self.assertEqual([s["name"] for s in body["series"]], ["new_leads", "won_deals"])

    def test_breakdown_by_category_splits_income_and_expense(self):
        body = self.get(BREAKDOWN, {**PERIOD, "by": "category"})
        self.assertEqual(body["by"], "category")
        groups = []
        for kind in (Kind.INCOME, Kind.EXPENSE):
            items = [
                {
                    "key": str(self.categories[name].pk),
                    "name": name,
                    "total": support.money(total(kind, START, END, category=name)),
                }
                for name in sorted(n for n, k in CATEGORIES.items() if k == kind)
            ]
            groups.append({"source": kind, "items": items})
        self.assertEqual(body["groups"], groups)

    def test_breakdown_by_team_puts_entries_without_a_team_last(self):
        body = self.get(BREAKDOWN, {**PERIOD, "by": "team"})
        groups = []
        for kind in (Kind.INCOME, Kind.EXPENSE):
            items = []
            for name in ("North", "South", None):
                amount = total(kind, START, END, team=name)
                if amount:
                    items.append(
                        {
                            "key": str(self.teams[name].pk) if name else None,
                            "name": name or "None",
                            "total": support.money(amount),
                        }
                    )
            groups.append({"source": kind, "items": items})
        self.assertEqual(body["groups"], groups)

    def test_breakdown_by_source_counts_leads(self):
        body = self.get(BREAKDOWN, {**PERIOD, "by": "source"})
        counts: dict[str, int] = {}
        for _, source, created in LEADS:
            if START <= d(created) <= END:
                counts[source] = counts.get(source, 0) + 1
        items = [{"key": s, "name": s, "total": counts[s]} for s in sorted(counts)]
        self.assertEqual(body, {"by": "source", "groups": [{"source": "leads", "items": items}]})

    def test_a_breakdown_of_a_module_the_member_lacks_is_empty(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "crm"])
        body = self.get(BREAKDOWN, {**PERIOD, "by": "category"}, Role.WORKER)
        self.assertEqual(body, {"by": "category", "groups": []})

    def test_a_bad_breakdown_dimension_is_400(self):
        client = self.clients[Role.ADMIN]
        self.assert_problem(client.get(BREAKDOWN, {**PERIOD, "by": "region"}), 400, field="by")
        self.assert_problem(client.get(BREAKDOWN, PERIOD), 400, field="by")


class ProjectionTests(TenantFixtureMixin, ApiTestCase):
    """``insights/projections/`` on a perfectly straight monthly revenue history."""

    module = "insights"

    def setUp(self) -> None:
        """Six past months of revenue 100, 150, ... 350 and a flat 80 of expenses."""
        super().setUp()
        self.today = timezone.localdate()
        this_month = self.today.replace(day=1)
        self.months = [this_month]
        for _ in range(6):
            self.months.insert(0, (self.months[0] - datetime.timedelta(days=1)).replace(day=1))
        self.history, self.current = self.months[:6], self.months[6]
        income = support.category(self.org, "Sales", Kind.INCOME)
        expense = support.category(self.org, "Rent", Kind.EXPENSE)
        for index, first in enumerate(self.history):
            revenue = Decimal(100 + 50 * index)
            support.entry(self.org, income, f"{revenue / 4}", first)
            support.entry(self.org, income, f"{revenue * 3 / 4}", first.replace(day=15))
            support.entry(self.org, expense, "80.00", first.replace(day=28))
        # Outside the history: this month, and the month before it started.
        support.entry(self.org, income, "100000.00", self.current)
        before = (self.history[0] - datetime.timedelta(days=1)).replace(day=1)
        support.entry(self.org, income, "100000.00", before)

    def label(self, day: datetime.date) -> str:
        """A month's label."""
        return f"{day.year}-{day.month:02d}"

    def test_a_straight_line_history_projects_that_line_exactly(self):
        response = self.clients[Role.ADMIN].get(PROJECTIONS, {"history_months": 6, "periods": 3})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["method"], "least_squares_linear")
        self.assertEqual((body["history_months"], body["periods"]), (6, 3))
        self.assertTrue(body["description"])
        revenue = body["series"][0]
        self.assertEqual(revenue["name"], "revenue")
        self.assertEqual(revenue["history"]["labels"], [self.label(m) for m in self.history])
        self.assertEqual(
            revenue["history"]["data"], [support.money(100 + 50 * i) for i in range(6)]
        )
        future, current = [], self.current
        for _ in range(3):
            future.append(self.label(current))
            current = (current + datetime.timedelta(days=32)).replace(day=1)
        self.assertEqual(
            revenue["projection"],
            {"labels": future, "data": ["400.00", "450.00", "500.00"]},
        )
        self.assertEqual(revenue["fit"], {"slope": 50.0, "intercept": 100.0, "r2": 1.0})

    def test_a_flat_history_projects_flat_with_no_r2(self):
        body = self.clients[Role.ADMIN].get(PROJECTIONS, {"history_months": 6}).json()
        expenses = body["series"][1]
        self.assertEqual(expenses["name"], "expenses")
        self.assertEqual(expenses["projection"]["data"], ["80.00", "80.00", "80.00"])
        self.assertEqual(expenses["fit"], {"slope": 0.0, "intercept": 80.0, "r2": None})

    def test_a_shorter_history_fits_its_own_months(self):
        body = self.clients[Role.ADMIN].get(PROJECTIONS, {"history_months": 3, "periods": 1})
        revenue = body.json()["series"][0]
        self.assertEqual(revenue["history"]["data"], ["250.00", "300.00", "350.00"])
        self.assertEqual(revenue["projection"]["data"], ["400.00"])
        self.assertEqual(revenue["fit"]["r2"], 1.0)

    def test_a_member_without_finance_gets_no_series(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights"])
        body = self.clients[Role.WORKER].get(PROJECTIONS).json()
        self.assertEqual(body["series"], [])
        self.assertEqual(body["method"], "least_squares_linear")

    def test_bad_projection_parameters_are_400(self):
        client = self.clients[Role.ADMIN]
        for params, field in (
            ({"history_months": 1}, "history_months"),
            ({"history_months": 61}, "history_months"),
            ({"periods": 0}, "periods"),
            ({"periods": 25}, "periods"),
            ({"periods": "three"}, "periods"),
        ):
            with self.subTest(params=params):
                self.assert_problem(client.get(PROJECTIONS, params), 400, field=field)
