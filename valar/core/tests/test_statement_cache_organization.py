"""Kept list statements follow the organization's settings that their SQL is built from.

The customer list sums each customer's open and won deals in the organization's base
currency, a value read from the organization row and compiled into the page statement. A
kept statement must not go on summing the old currency after an admin changes it.
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
    """A change of base currency shows in the customer list at once, as without the cache."""

    module = "crm"

    def setUp(self) -> None:
        """A customer with an open deal in USD and two in EUR."""
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
                },
                format="json",
            )
            self.assertEqual(response.status_code, 201, response.content)

    def open_value(self) -> str:
        """The customer's open deals value as the list shows it."""
        response = self.clients[Role.ADMIN].get(CUSTOMERS)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["results"][0]["open_deals_value"]

    def test_a_new_base_currency_shows_at_once(self):
        self.assertEqual(self.open_value(), "100.00")
        self.assertEqual(self.open_value(), "100.00")
        self.assertEqual(len(statements.kept), 1)
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"base_currency": "EUR"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        with override_settings(LIST_STATEMENT_CACHE=0):
            self.assertEqual(self.open_value(), "15.00")
        self.assertEqual(self.open_value(), "15.00")
        self.assertEqual(self.open_value(), "15.00")
