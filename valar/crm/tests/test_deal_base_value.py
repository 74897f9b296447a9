"""Deals in the base currency: a rate fixed on create, on change and again on the win."""

import importlib
from decimal import Decimal

from django.apps import apps
from django.core.cache import cache

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Deal, Pipeline
from valar.crm.services import customer_create

DEALS = "/api/v1/crm/deals/"
BACKFILL = importlib.import_module("valar.crm.migrations.0007_deal_base_value")


class DealBaseValueTests(TenantFixtureMixin, ApiTestCase):
    """``exchange_rate`` and ``base_value`` of a deal, as a ledger entry's (organization: USD)."""

    module = "crm"

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.customer = customer_create(organization=self.org, name="Acme")

    def post(self, path: str = "", data=None):
        """POST to ``deals/{path}`` as a manager."""
        return self.clients[Role.MANAGER].post(f"{DEALS}{path}", data or {}, format="json")

    def create(self, **data) -> dict:
        """A new deal of the customer (201 asserted), as the API answers it."""
        response = self.post("", {"title": "D", "customer": str(self.customer.pk), **data})
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def test_a_deal_in_the_base_currency_is_fixed_at_rate_1(self):
        body = self.create(value="100.50", exchange_rate="3")
        self.assertEqual(
            (body["currency"], Decimal(body["exchange_rate"]), body["base_value"]),
            ("USD", Decimal(1), "100.50"),
        )

    def test_another_currency_needs_a_rate_and_is_fixed_half_up_to_the_cent(self):
        data = {"title": "D", "customer": str(self.customer.pk), "value": "10.00"}
        response = self.post("", {**data, "currency": "EUR"})
        body = self.assert_problem(response, 400)
        self.assertEqual(
            body["errors"], {"exchange_rate": ["Give the rate to USD for a deal in EUR."]}
        )
        self.assertFalse(Deal.objects.exists())
        body = self.create(value="10.05", currency="EUR", exchange_rate="1.1")
        self.assertEqual(body["base_value"], "11.06")  # 11.055 half-up

    def test_a_change_fixes_the_value_again_and_a_new_currency_needs_its_rate(self):
        deal = self.create(value="10.00", currency="EUR", exchange_rate="2")
        url = f"{DEALS}{deal['id']}/"
        client = self.clients[Role.MANAGER]
        body = client.patch(url, {"value": "12.00"}, format="json").json()
        self.assertEqual(body["base_value"], "24.00")
        refused = client.patch(url, {"currency": "GBP"}, format="json")
        self.assertIn("exchange_rate", self.assert_problem(refused, 400)["errors"])
        body = client.patch(url, {"currency": "GBP", "exchange_rate": "0.5"}, format="json").json()
        self.assertEqual((body["currency"], body["base_value"]), ("GBP", "6.00"))
        body = client.patch(url, {"currency": "USD"}, format="json").json()
        self.assertEqual((Decimal(body["exchange_rate"]), body["base_value"]), (1, "12.00"))

    def test_the_win_fixes_the_value_again_at_the_rate_of_the_day(self):
        deal = self.create(value="100.00", currency="EUR", exchange_rate="1.1")
        body = self.post(f"{deal['id']}/win/", {"exchange_rate": "1.2"}).json()
        self.assertEqual((body["status"], body["base_value"]), ("won", "120.00"))
        other = self.create(value="100.00", currency="EUR", exchange_rate="1.1")
        body = self.post(f"{other['id']}/win/").json()
        self.assertEqual(body["base_value"], "110.00")

    def test_every_deal_counts_in_the_base_currency_in_the_metrics(self):
        self.create(value="10.00")
        self.create(value="10.00", currency="EUR", exchange_rate="1.5")
        today = Deal.objects.first().created_at.date().isoformat()
        spec = {"source": "deals", "measure": "sum", "start_date": today, "end_date": today}
        self.assertEqual(run(organization=self.org, spec=spec)["totals"], {"deals": "25.00"})
        spec["measure"] = "weighted"  # both in the first stage, 10 %
        self.assertEqual(run(organization=self.org, spec=spec)["totals"], {"deals": "2.50"})
        listed = self.clients[Role.BASIC].get(f"/api/v1/crm/customers/{self.customer.pk}/")
        self.assertEqual(listed.json()["open_deals_value"], "25.00")

    def test_the_migration_fixes_base_currency_deals_and_leaves_others_without_a_rate(self):
        stage = Pipeline.objects.get(organization=self.org, is_default=True).stages.first()
        common = {"organization": self.org, "customer": self.customer, "pipeline": stage.pipeline}
        common |= {"stage": stage, "probability": 10, "title": "Old"}
        dollars = Deal.objects.create(**common, value=Decimal("7.00"), currency="USD")
        euros = Deal.objects.create(**common, value=Decimal("9.00"), currency="EUR")
        BACKFILL.fix_base_values(apps, None)
        dollars.refresh_from_db()
        euros.refresh_from_db()
        self.assertEqual((dollars.exchange_rate, dollars.base_value), (1, Decimal("7.00")))
        self.assertEqual((euros.exchange_rate, euros.base_value), (None, None))
        # Such a deal is won once a rate is given.
        refused = self.post(f"{euros.pk}/win/")
        self.assertIn("exchange_rate", self.assert_problem(refused, 400)["errors"])
        body = self.post(f"{euros.pk}/win/", {"exchange_rate": "2"}).json()
        self.assertEqual(body["base_value"], "18.00")
