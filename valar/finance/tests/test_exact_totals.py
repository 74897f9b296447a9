"""Exactness: money is summed in SQL to the cent, per month, category and team."""

import datetime
from decimal import Decimal

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Category
from valar.organizations.models import Team


class ExactTotalsTests(TenantFixtureMixin, ApiTestCase):
    """Amounts such as 0.10 + 0.20 + 1000.10 total exactly, whatever the database."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.client_admin = self.clients[Role.ADMIN]
        self.sales = Category.objects.create(organization=self.org, name="Sales", type="income")
        self.fees = Category.objects.create(organization=self.org, name="Fees", type="income")
        self.rent = Category.objects.create(organization=self.org, name="Rent", type="expense")
        self.team = Team.objects.create(organization=self.org, name="North")

    def record(self, kind, amount, day, category, team=None, **extra):
        url = "/api/v1/finance/incomes/" if kind == "income" else "/api/v1/finance/expenses/"
        body = {"title": "x", "amount": amount, "date": day, "category": str(category.pk)}
        if team:
            body["team"] = str(team.pk)
        response = self.client_admin.post(url, {**body, **extra}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def test_small_amounts_sum_exactly_per_month_category_and_team(self):
        self.record("income", "0.10", "2026-01-05", self.sales, self.team)
        self.record("income", 0.20, "2026-01-20", self.sales, self.team)
        self.record("income", "1000.10", "2026-02-01", self.fees)
        self.record("expense", "0.30", "2026-02-02", self.rent, self.team)
        spec = {"source": "income", "start_date": "2026-01-01", "end_date": "2026-03-31"}
        by_month = run(organization=self.org, spec={**spec, "interval": "month"})
        self.assertEqual(by_month["labels"], ["2026-01", "2026-02", "2026-03"])
        self.assertEqual(by_month["series"][0]["data"], ["0.30", "1000.10", "0.00"])
        self.assertEqual(by_month["totals"], {"income": "1000.40"})
        by_category = run(organization=self.org, spec={**spec, "group_by": "category"})
        totals = {s["name"]: s["data"][0] for s in by_category["series"]}
        self.assertEqual(totals, {"Fees": "1000.10", "Sales": "0.30"})
        profit = run(
            organization=self.org,
            spec={**spec, "source": "profit", "group_by": "team", "interval": "month"},
        )
        north = next(s for s in profit["series"] if s["name"] == "North")
        self.assertEqual(north["data"], ["0.30", "-0.30", "0.00"])

    def test_foreign_currency_needs_a_rate_and_totals_stay_exact_in_the_base(self):
        response = self.client_admin.post(
            "/api/v1/finance/incomes/",
            {
                "title": "x",
                "amount": "10.00",
                "currency": "EUR",
                "date": "2026-01-05",
                "category": str(self.sales.pk),
            },
            format="json",
        )
        self.assert_problem(response, 400, field="exchange_rate")
        entry = self.record(
            "income", "10.00", "2026-01-05", self.sales, currency="EUR", exchange_rate="1.08555"
        )
        self.assertEqual(entry["base_amount"], "10.86")
        document = run(
            organization=self.org,
            spec={"source": "income", "start_date": "2026-01-01", "end_date": "2026-01-31"},
        )
        self.assertEqual(document["totals"]["income"], "10.86")

    def test_amounts_that_are_not_exact_cents_are_refused(self):
        for amount in ("10.123", 10.123, "-5", 0, "NaN", "1e400", "abc"):
            with self.subTest(amount=amount):
                response = self.client_admin.post(
                    "/api/v1/finance/incomes/",
                    {
                        "title": "x",
                        "amount": amount,
                        "date": "2026-01-05",
                        "category": str(self.sales.pk),
                    },
                    format="json",
                )
                self.assert_problem(response, 400, field="amount")

    def test_a_category_of_the_other_kind_is_refused(self):
        response = self.client_admin.post(
            "/api/v1/finance/expenses/",
            {"title": "x", "amount": "1.00", "date": "2026-01-05", "category": str(self.sales.pk)},
            format="json",
        )
        self.assert_problem(response, 400, field="category")

    def test_the_summary_compares_with_the_previous_period(self):
        self.record("income", "100.00", "2026-02-10", self.sales)
        self.record("income", "50.00", "2026-01-10", self.sales)
        self.record("expense", "40.00", "2026-02-11", self.rent)
        body = self.client_admin.get(
            "/api/v1/finance/summary/", {"start_date": "2026-02-01", "end_date": "2026-02-28"}
        ).json()
        self.assertEqual(
            body["totals"],
            {"income": "100.00", "expense": "40.00", "profit": "60.00", "margin": "60.00"},
        )
        self.assertEqual(body["previous_totals"]["income"], "50.00")
        self.assertEqual(body["change_percent"]["income"], "100.00")

    def test_a_write_invalidates_the_cached_answer(self):
        spec = {"source": "income", "start_date": "2026-01-01", "end_date": "2026-01-31"}
        self.assertEqual(run(organization=self.org, spec=spec)["totals"]["income"], "0.00")
        self.record("income", "5.00", "2026-01-05", self.sales)
        self.assertEqual(run(organization=self.org, spec=spec)["totals"]["income"], "5.00")

    def test_weeks_and_quarters_are_labelled_by_their_first_day(self):
        self.record("income", "1.00", "2026-01-04", self.sales)  # a Sunday: week of Dec 29
        document = run(
            organization=self.org,
            spec={
                "source": "income",
                "start_date": "2025-12-29",
                "end_date": "2026-01-11",
                "interval": "week",
            },
        )
        self.assertEqual(document["labels"], ["2025-12-29", "2026-01-05"])
        self.assertEqual(document["series"][0]["data"], ["1.00", "0.00"])
        quarters = run(
            organization=self.org,
            spec={
                "source": "income",
                "start_date": "2025-11-15",
                "end_date": "2026-04-01",
                "interval": "quarter",
            },
        )
        self.assertEqual(quarters["labels"], ["2025-Q4", "2026-Q1", "2026-Q2"])
        self.assertEqual(quarters["series"][0]["data"], ["0.00", "1.00", "0.00"])
        self.assertEqual(datetime.date(2026, 1, 4).weekday(), 6)
        self.assertEqual(Decimal(quarters["totals"]["income"]), Decimal("1.00"))


class LedgerRuleTests(TenantFixtureMixin, ApiTestCase):
    """Rules pinned after review: categories in use keep their meaning; sizes and ids checked."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = Category.objects.create(organization=self.org, name="Sales", type="income")
        self.admin.post(
            "/api/v1/finance/incomes/",
            {"title": "x", "amount": "1.00", "date": "2026-01-05", "category": str(self.sales.pk)},
            format="json",
        )

    def test_a_category_in_use_keeps_its_type(self):
        response = self.admin.patch(
            f"/api/v1/finance/categories/{self.sales.pk}/", {"type": "expense"}, format="json"
        )
        self.assert_problem(response, 409, code="in_use")

    def test_a_bad_reassign_to_is_reported_on_that_parameter(self):
        response = self.admin.delete(
            f"/api/v1/finance/categories/{self.sales.pk}/?reassign_to=not-a-uuid"
        )
        self.assert_problem(response, 400, field="reassign_to")

    def test_an_amount_too_large_in_the_base_currency_is_refused(self):
        response = self.admin.post(
            "/api/v1/finance/incomes/",
            {
                "title": "x",
                "amount": "999999999999.99",
                "currency": "EUR",
                "exchange_rate": "1000",
                "date": "2026-01-05",
                "category": str(self.sales.pk),
            },
            format="json",
        )
        self.assert_problem(response, 400, field="exchange_rate")
        self.assertEqual(self.admin.get("/api/v1/finance/transactions/").status_code, 200)

    def test_engine_filters_take_ids(self):
        from valar.core.metrics import MetricsError

        with self.assertRaises(MetricsError) as caught:
            run(
                organization=self.org,
                spec={
                    "source": "income",
                    "start_date": "2026-01-01",
                    "end_date": "2026-01-31",
                    "filters": {"team": "abc"},
                },
            )
        self.assertIn("filters", caught.exception.errors)
