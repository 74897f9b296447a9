"""Kept list statements and a change of the organization's settings.

The customer list once compiled the base currency into its page statement; it now sums each
deal's base value, fixed at the deal's rate. A change of base currency changes the kept
statements' key and the list answers what it answers without the cache: the fixed values.
"""

from django.test import override_settings

from valar.core import statements
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin

CUSTOMERS = "/api/v1/crm/customers/"
DEALS = "/api/v1/crm/deals/"


@override_settings(LIST_COUNT_CACHE=False)
class KeptStatementsFollowTheBaseCurrencyTests(TenantFixtureMixin, ApiTestCase):
    """The customer list sums deals' fixed base values: a change of base currency (a change of
    the organization row, so of the statements' key) shows the same figures, with or without
    the cache, as the ledger keeps its base amounts."""

    module = "crm"

    def setUp(self) -> None:
        """A customer with an open deal in USD and two in EUR (at 2 USD)."""
        super().setUp()
        admin = self.clients[Role.ADMIN]
        response = admin.post(CUSTOMERS, {"name": "Acme"}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        customer = response.json()["id"]
        for value, currency in (("100.00", "USD"), ("7.00", "EUR"), ("8.00", "EUR")):
            response = admin.post(
                DEALS,
                {
                    "title": f"{currency} {value}",
                    "customer": customer,
                    "value": value,
                    "currency": currency,
                    "exchange_rate": "2",
                },
                format="json",
            )
            self.assertEqual(response.status_code, 201, response.content)

    def open_value(self) -> str:
        """The customer's open deals value as the list shows it."""
        response = self.clients[Role.ADMIN].get(CUSTOMERS)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["results"][0]["open_deals_value"]

    def test_a_new_base_currency_keeps_the_fixed_values(self):
        self.assertEqual(self.open_value(), "130.00")
        self.assertEqual(self.open_value(), "130.00")
        self.assertEqual(len(statements.kept), 1)
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"base_currency": "EUR"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        with override_settings(LIST_STATEMENT_CACHE=0):
            self.assertEqual(self.open_value(), "130.00")
        self.assertEqual(self.open_value(), "130.00")
        self.assertEqual(self.open_value(), "130.00")
