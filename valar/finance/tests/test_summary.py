"""``/api/v1/finance/summary/``: totals, margin, the previous period and the series."""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Kind
from valar.finance.tests.support import API, category, entry
from valar.organizations.models import Membership

SUMMARY = f"{API}summary/"
CENT = Decimal("0.01")


def percent_change(current: str | None, previous: str | None) -> str | None:
    """The change from ``previous`` to ``current`` in percent of ``|previous|``, to the cent."""
    if current is None or previous is None or Decimal(previous) == 0:
        return None
    change = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous)) * 100
    return str(change.quantize(CENT))


class SummaryTests(TenantFixtureMixin, ApiTestCase):
    """The summary over the engine, checked against figures computed in the test."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = category(self.org, name="Sales")
        self.fees = category(self.org, name="Fees")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)
        theirs = category(self.other, name="Sales")
        for day in ("2025-12-31", "2026-01-15", "2026-02-15", timezone.localdate()):
            entry(self.other, theirs, "777.77", day)

    def get(self, client=None, **params):
        response = (client or self.admin).get(SUMMARY, params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_the_default_period_is_this_month_up_to_today(self):
        today = timezone.localdate()
        start = today.replace(day=1)
        entry(self.org, self.sales, "150.00", today)
        entry(self.org, self.fees, "0.30", start)
        entry(self.org, self.rent, "50.00", today)
        entry(self.org, self.sales, "100.00", start - datetime.timedelta(days=1))
        entry(self.org, self.rent, "20.00", start - datetime.timedelta(days=1))
        entry(self.org, self.sales, "9999.00", today + datetime.timedelta(days=1))
        body = self.get()
        self.assertEqual(
            (body["start_date"], body["end_date"], body["interval"], body["currency"]),
            (start.isoformat(), today.isoformat(), "month", "USD"),
        )
        self.assertEqual(
            body["totals"],
            {"income": "150.30", "expense": "50.00", "profit": "100.30", "margin": "66.73"},
        )
        self.assertEqual(
            body["previous_totals"],
            {"income": "100.00", "expense": "20.00", "profit": "80.00", "margin": "80.00"},
        )
        self.assertEqual(body["labels"], [f"{today.year}-{today.month:02d}"])
        self.assertEqual(
            [(series["name"], series["data"]) for series in body["series"]],
            [("income", ["150.30"]), ("expense", ["50.00"]), ("profit", ["100.30"])],
        )

    def test_totals_margin_and_change_percent_are_exact(self):
        amounts = {
            (self.sales, "2026-02-01"): "0.10",
            (self.sales, "2026-02-14"): "0.20",
            (self.fees, "2026-02-28"): "1000.10",
            (self.rent, "2026-02-10"): "333.33",
            (self.sales, "2026-01-31"): "800.00",
            (self.rent, "2026-01-01"): "300.00",
            (self.rent, "2026-01-31"): "0.01",
        }
        for (row_category, day), amount in amounts.items():
            entry(self.org, row_category, amount, day)
        body = self.get(start_date="2026-02-01", end_date="2026-02-28")

        income = Decimal("0.10") + Decimal("0.20") + Decimal("1000.10")
        expense = Decimal("333.33")
        profit = income - expense
        margin = (profit / income * 100).quantize(CENT)
        self.assertEqual(
            body["totals"],
            {
                "income": str(income),
                "expense": str(expense),
                "profit": str(profit),
                "margin": str(margin),
            },
        )
        self.assertEqual(
            body["totals"],
            {
                "income": "1000.40",
                "expense": "333.33",
                "profit": "667.07",
                "margin": "66.68",
            },
        )
        # The previous period has the same length (28 days): 2026-01-04 .. 2026-01-31.
        self.assertEqual(
            body["previous_totals"],
            {"income": "800.00", "expense": "0.01", "profit": "799.99", "margin": "100.00"},
        )
        expected_change = {
            key: percent_change(body["totals"][key], body["previous_totals"][key])
            for key in body["totals"]
        }
        self.assertEqual(body["change_percent"], expected_change)
        self.assertEqual(
            body["change_percent"],
            {"income": "25.05", "expense": "3333200.00", "profit": "-16.62", "margin": "-33.32"},
        )

    def test_the_previous_period_is_the_same_length_just_before(self):
        entry(self.org, self.sales, "1.00", "2025-10-03")  # first day of the previous 90 days
        entry(self.org, self.sales, "2.00", "2025-10-02")  # one day too early
        entry(self.org, self.sales, "4.00", "2025-12-31")  # last day of the previous period
        entry(self.org, self.sales, "8.00", "2026-01-01")
        body = self.get(start_date="2026-01-01", end_date="2026-03-31")
        self.assertEqual(body["totals"]["income"], "8.00")
        self.assertEqual(body["previous_totals"]["income"], "5.00")
        self.assertEqual(body["change_percent"]["income"], "60.00")
        self.assertEqual(body["labels"], ["2026-01", "2026-02", "2026-03"])
        self.assertEqual(body["series"][0]["data"], ["8.00", "0.00", "0.00"])

    def test_a_negative_previous_profit_gives_a_change_against_its_size(self):
        entry(self.org, self.rent, "20.00", "2026-01-15")
        entry(self.org, self.sales, "100.30", "2026-02-15")
        body = self.get(start_date="2026-02-01", end_date="2026-02-28")
        self.assertEqual(body["previous_totals"]["profit"], "-20.00")
        self.assertEqual(body["change_percent"]["profit"], "601.50")
        self.assertIsNone(body["change_percent"]["income"])

    def test_a_period_with_no_income_has_a_null_margin(self):
        entry(self.org, self.rent, "40.00", "2026-02-11")
        body = self.get(start_date="2026-02-01", end_date="2026-02-28")
        self.assertEqual(
            body["totals"],
            {"income": "0.00", "expense": "40.00", "profit": "-40.00", "margin": None},
        )
        self.assertIsNone(body["change_percent"]["margin"])

    def test_an_empty_period_has_zero_totals_and_no_changes(self):
        body = self.get(start_date="2025-02-01", end_date="2025-02-28")
        self.assertEqual(
            body["totals"], {"income": "0.00", "expense": "0.00", "profit": "0.00", "margin": None}
        )
        self.assertEqual(body["previous_totals"], body["totals"])
        self.assertEqual(set(body["change_percent"].values()), {None})
        self.assertEqual(
            body["series"],
            [
                {"name": name, "key": None, "data": ["0.00"]}
                for name in ("income", "expense", "profit")
            ],
        )

    def test_the_interval_shapes_the_labels_and_series(self):
        entry(self.org, self.sales, "1.00", "2026-01-04")  # Sunday: the week of Dec 29
        entry(self.org, self.rent, "0.40", "2026-01-05")
        body = self.get(start_date="2026-01-01", end_date="2026-01-11", interval="week")
        self.assertEqual(body["labels"], ["2025-12-29", "2026-01-05"])
        self.assertEqual(
            [(series["name"], series["data"]) for series in body["series"]],
            [
                ("income", ["1.00", "0.00"]),
                ("expense", ["0.00", "0.40"]),
                ("profit", ["1.00", "-0.40"]),
            ],
        )

    def test_group_by_gives_one_series_per_group_and_kind(self):
        entry(self.org, self.sales, "0.10", "2026-01-05")
        entry(self.org, self.sales, "0.20", "2026-02-05")
        entry(self.org, self.fees, "1000.10", "2026-02-06")
        entry(self.org, self.rent, "50.00", "2026-01-07")
        body = self.get(start_date="2026-01-01", end_date="2026-02-28", group_by="category")
        self.assertEqual(body["labels"], ["2026-01", "2026-02"])
        self.assertEqual(
            [(series["name"], series["data"]) for series in body["series"]],
            [
                ("income: Fees", ["0.00", "1000.10"]),
                ("income: Sales", ["0.10", "0.20"]),
                ("expense: Rent", ["50.00", "0.00"]),
            ],
        )
        self.assertEqual(body["totals"]["profit"], "950.40")

    def test_every_member_with_the_module_reads_it_and_others_are_refused(self):
        entry(self.org, self.sales, "5.00", timezone.localdate())
        # Workers and basic members read their own entries only (finance ``view: own``).
        expected = {Role.MANAGER: "5.00", Role.WORKER: "0.00", Role.BASIC: "0.00"}
        for role, income in expected.items():
            with self.subTest(role=role):
                self.assertEqual(self.get(self.clients[role])["totals"]["income"], income)
        outsider = self.make_user("nofinance@org.test")
        Membership.objects.create(
            organization=self.org, user=outsider, role=Role.BASIC, modules=[], is_default=True
        )
        self.assert_problem(self.token_client(outsider).get(SUMMARY), 403)
        self.assert_problem(self.client.get(SUMMARY), 401)

    def test_another_organization_sees_only_its_own_figures(self):
        entry(self.org, self.sales, "5.00", "2026-01-15")
        body = self.get(self.other_client, start_date="2026-01-01", end_date="2026-01-31")
        self.assertEqual(body["totals"]["income"], "777.77")
        self.assertEqual(body["previous_totals"]["income"], "777.77")
