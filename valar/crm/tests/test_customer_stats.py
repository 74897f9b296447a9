"""``customers/stats/`` and ``customers/{id}/stats/``: exact figures, roles, pinned queries."""

import datetime
from decimal import Decimal
from unittest import mock

from django.core.cache import cache
from django.utils import timezone

from valar.core.policy import DEFAULT_RULES, MODULE_RULES, Access, Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer, Deal
from valar.crm.services import customer_create, deal_create, deal_lose, deal_win
from valar.finance.tests.support import category, entry
from valar.insights.tests.support import grant
from valar.organizations.models import Membership
from valar.support.models import Chat

CUSTOMERS = "/api/v1/crm/customers/"
STATS = f"{CUSTOMERS}stats/"
PERIOD = {"start_date": "2026-01-01", "end_date": "2026-03-31", "interval": "month"}
#: crm with the worker reading only their own rows (the default rules give everyone ``all``).
OWN_CRM = {
    "crm": {**DEFAULT_RULES, Role.WORKER: {**DEFAULT_RULES[Role.WORKER], "view": Access.OWN}}
}


def noon(day: str) -> datetime.datetime:
    """Midday of ``day`` (``YYYY-MM-DD``) in the server's time zone."""
    moment = datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(12))
    return timezone.make_aware(moment)


class CustomerStatsTests(TenantFixtureMixin, ApiTestCase):
    """``customers/stats/``: every customer by status, and the new ones per bucket."""

    module = "crm"

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        worker = self.users[Role.WORKER]
        for name, status, day, owner in (
            ("Old", "inactive", "2025-06-01", None),
            ("Jan A", "active", "2026-01-05", worker),
            ("Jan B", "vip", "2026-01-20", None),
            ("Mar", "active", "2026-03-31", None),
            ("Prospect", "prospect", "2026-04-01", worker),
        ):
            customer = customer_create(
                organization=self.org, name=name, status=status, assigned_to=owner
            )
            Customer.objects.filter(pk=customer.pk).update(created_at=noon(day))
        other = customer_create(organization=self.other, name="Theirs")
        Customer.objects.filter(pk=other.pk).update(created_at=noon("2026-02-01"))

    def test_the_figures_are_exact_and_the_organizations_own(self):
        response = self.clients[Role.BASIC].get(STATS, PERIOD)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "start_date": "2026-01-01",
                "end_date": "2026-03-31",
                "interval": "month",
                "total": 5,
                "by_status": {"active": 2, "inactive": 1, "prospect": 1, "vip": 1},
                "new_customers": 3,
                "labels": ["2026-01", "2026-02", "2026-03"],
                "series": [{"name": "new_customers", "key": None, "data": [2, 0, 1]}],
            },
        )

    def test_the_period_defaults_to_this_month_and_is_validated(self):
        body = self.clients[Role.ADMIN].get(STATS).json()
        today = timezone.localdate()
        self.assertEqual(body["start_date"], today.replace(day=1).isoformat())
        self.assertEqual(body["total"], 5)
        bad = self.clients[Role.ADMIN].get(STATS, {**PERIOD, "interval": "hour"})
        self.assertIn("interval", self.assert_problem(bad, 400)["errors"])
        backwards = {"start_date": "2026-02-01", "end_date": "2026-01-01"}
        self.assert_problem(self.clients[Role.ADMIN].get(STATS, backwards), 400)

    def test_each_role_gets_what_the_policy_table_says(self):
        for role in (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC):
            with self.subTest(role=role):
                self.assertEqual(self.clients[role].get(STATS, PERIOD).status_code, 200)
        self.assert_problem(self.clients[Role.CLIENT].get(STATS, PERIOD), 403)
        grant(self.org, self.users[Role.WORKER], [])
        self.assert_problem(self.clients[Role.WORKER].get(STATS, PERIOD), 403)
        self.assertEqual(self.client.get(STATS, PERIOD).status_code, 401)

    def test_a_member_who_reads_only_their_own_counts_only_their_own(self):
        with mock.patch.dict(MODULE_RULES, OWN_CRM):
            body = self.clients[Role.WORKER].get(STATS, PERIOD).json()
            full = self.clients[Role.MANAGER].get(STATS, PERIOD).json()
        self.assertEqual((body["total"], body["new_customers"]), (2, 1))
        self.assertEqual(body["by_status"], {"active": 1, "inactive": 0, "prospect": 1, "vip": 0})
        self.assertEqual((full["total"], full["new_customers"]), (5, 3))

    def test_two_engine_queries_answer_and_a_second_call_is_cached(self):
        # The token, its last use, the membership and the settings; then the two GROUP BYs.
        with self.assertNumQueries(6):
            self.clients[Role.ADMIN].get(STATS, PERIOD)
        with self.assertNumQueries(1):  # the token: the rest is cached, the figures too
            self.clients[Role.ADMIN].get(STATS, PERIOD)
        customer_create(organization=self.org, name="New")  # a write bumps the crm version
        body = self.clients[Role.ADMIN].get(STATS, PERIOD).json()
        self.assertEqual(body["total"], 6)

    def test_insights_charts_customer_growth(self):
        grant(self.org, self.users[Role.MANAGER], ["crm", "insights"])
        spec = {"source": "customers", "measure": "count", "group_by": "status", **PERIOD}
        response = self.clients[Role.MANAGER].post("/api/v1/insights/query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["totals"], {"active": 2, "vip": 1})
        self.assertIsNone(body["currency"])
        spec = {"source": "customers", "measure": "sum", **PERIOD}
        refused = self.clients[Role.MANAGER].post("/api/v1/insights/query/", spec, format="json")
        self.assertIn("measure", self.assert_problem(refused, 400)["errors"])


class CustomerFiguresTests(TenantFixtureMixin, ApiTestCase):
    """``customers/{id}/stats/``: deals won, open deals and the last activity."""

    module = "crm"

    def setUp(self) -> None:
        super().setUp()
        membership = Membership.objects.get(organization=self.org, user=self.users[Role.ADMIN])
        self.tenant = Tenant(organization=self.org, membership=membership)
        self.customer = customer_create(organization=self.org, name="Acme")
        self.elsewhere = customer_create(organization=self.org, name="Elsewhere")

    def deal(self, value: str, customer=None, **fields) -> Deal:
        """A deal of the customer."""
        data = {"title": "D", "customer": customer or self.customer, "value": Decimal(value)}
        return deal_create(tenant=self.tenant, data={**data, **fields})

    def url(self, customer) -> str:
        """The customer's ``stats/``."""
        return f"{CUSTOMERS}{customer.pk}/stats/"

    def test_the_figures_are_exact(self):
        for value in ("100.10", "200.25"):
            deal_win(tenant=self.tenant, deal=self.deal(value))
        euro = self.deal("999.00", currency="EUR", exchange_rate=Decimal("1.5"))
        deal_win(tenant=self.tenant, deal=euro)  # 1498.50 in the base currency
        deal_lose(tenant=self.tenant, deal=self.deal("50.00"), reason="No")
        self.deal("70.00")
        deal_win(tenant=self.tenant, deal=self.deal("1.00", customer=self.elsewhere))
        body = self.clients[Role.BASIC].get(self.url(self.customer)).json()
        newest = Deal.objects.filter(customer=self.customer).latest("updated_at").updated_at
        self.assertEqual(
            body,
            {
                "id": str(self.customer.pk),
                "code": "CUST-0001",
                "currency": "USD",
                "deals_won": 3,
                "won_value": "1798.85",
                "open_deals": 1,
                # The basic member has no finance module: no invoice figures.
                "invoiced": None,
                "credited": None,
                "paid": None,
                "outstanding": None,
                "last_activity": newest.isoformat().replace("+00:00", "Z"),
            },
        )

    def test_the_last_activity_is_the_newest_of_deals_entries_and_chats(self):
        self.assertIsNone(
            self.clients[Role.ADMIN].get(self.url(self.customer)).json()["last_activity"]
        )
        deal = self.deal("10.00")
        Deal.objects.filter(pk=deal.pk).update(updated_at=noon("2026-01-01"))
        income = entry(self.org, category(self.org), customer=self.customer)
        chat = Chat.objects.create(
            organization=self.org, created_by=self.users[Role.ADMIN], customer=self.customer
        )
        type(income).objects.filter(pk=income.pk).update(updated_at=noon("2026-02-01"))
        Chat.objects.filter(pk=chat.pk).update(updated_at=noon("2026-03-01"))
        body = self.clients[Role.ADMIN].get(self.url(self.customer)).json()
        self.assertEqual(
            body["last_activity"], noon("2026-03-01").isoformat().replace("+00:00", "Z")
        )
        # Without the support module the chat is not read: the entry is the newest seen.
        grant(self.org, self.users[Role.MANAGER], ["crm", "finance"])
        body = self.clients[Role.MANAGER].get(self.url(self.customer)).json()
        self.assertEqual(
            body["last_activity"], noon("2026-02-01").isoformat().replace("+00:00", "Z")
        )
        # A basic member reads their own entries only (finance: own), and has no support here.
        grant(self.org, self.users[Role.BASIC], ["crm", "finance"])
        body = self.clients[Role.BASIC].get(self.url(self.customer)).json()
        self.assertEqual(
            body["last_activity"], noon("2026-01-01").isoformat().replace("+00:00", "Z")
        )

    def test_another_organizations_customer_is_404(self):
        theirs = customer_create(organization=self.other, name="Theirs")
        self.assert_problem(self.clients[Role.ADMIN].get(self.url(theirs)), 404)
        self.assertEqual(self.other_client.get(self.url(theirs)).status_code, 200)

    def test_each_role_gets_what_the_policy_table_says(self):
        for role in (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC):
            with self.subTest(role=role):
                self.assertEqual(self.clients[role].get(self.url(self.customer)).status_code, 200)
        self.assert_problem(self.clients[Role.CLIENT].get(self.url(self.customer)), 403)
        grant(self.org, self.users[Role.WORKER], [])
        self.assert_problem(self.clients[Role.WORKER].get(self.url(self.customer)), 403)
        self.assertEqual(self.client.get(self.url(self.customer)).status_code, 401)

    def test_a_member_who_reads_only_their_own_sees_only_their_own(self):
        worker = self.users[Role.WORKER]
        mine = customer_create(organization=self.org, name="Mine", assigned_to=worker)
        self.deal("10.00", customer=mine, assigned_to=worker)
        deal_win(tenant=self.tenant, deal=self.deal("20.00", customer=mine))
        with mock.patch.dict(MODULE_RULES, OWN_CRM):
            self.assert_problem(self.clients[Role.WORKER].get(self.url(self.customer)), 404)
            body = self.clients[Role.WORKER].get(self.url(mine)).json()
        self.assertEqual((body["open_deals"], body["deals_won"], body["won_value"]), (1, 0, "0.00"))

    def test_the_query_count_is_pinned(self):
        for value in ("1.00", "2.00", "3.00"):
            deal_win(tenant=self.tenant, deal=self.deal(value))
        # The token, its last use, the membership and the settings; the customer; then one
        # aggregate each over its deals, documents, payments, ledger entries and support chats.
        with self.assertNumQueries(10):
            response = self.clients[Role.ADMIN].get(self.url(self.customer))
        self.assertEqual(response.json()["deals_won"], 3)


class CustomerInvoiceFiguresTests(TenantFixtureMixin, ApiTestCase):
    """``customers/{id}/stats/`` adds what the customer was invoiced, credited, paid and owes."""

    module = "crm"

    def test_invoice_figures_in_the_base_currency_and_null_without_finance(self):
        from valar.finance.documents import (
            document_create,
            document_send,
            document_transition,
            payment_create,
        )

        admin = Membership.objects.get(organization=self.org, user=self.users[Role.ADMIN])
        tenant = Tenant(organization=self.org, membership=admin)
        customer = customer_create(organization=self.org, name="Billed")
        line = {"description": "x", "quantity": Decimal("1"), "unit_price": Decimal("100.00")}

        def issued(**data):
            document = document_create(
                tenant=tenant,
                document_type=data.pop("type", "invoice"),
                data={"customer": customer, "line_items": [line], **data},
            )
            return document_send(tenant=tenant, document=document, email=False)

        first = issued()
        issued(currency="EUR", exchange_rate=Decimal("2"))
        document_transition(document=issued(), action="cancel")
        payment_create(
            tenant=tenant,
            data={"invoice": first, "amount": Decimal("30.00"), "date": datetime.date(2026, 3, 1)},
        )
        note = document_create(
            tenant=tenant,
            document_type="credit_note",
            data={"credits": first, "line_items": [{**line, "unit_price": Decimal("20.00")}]},
        )
        document_send(tenant=tenant, document=note, email=False)
        url = f"/api/v1/crm/customers/{customer.pk}/stats/"
        body = self.clients[Role.ADMIN].get(url).json()
        self.assertEqual(
            (body["invoiced"], body["credited"], body["paid"], body["outstanding"]),
            ("300.00", "20.00", "30.00", "250.00"),
        )
        self.assertIsNotNone(body["last_activity"])
        grant(self.org, self.users[Role.MANAGER], ["crm"])
        body = self.clients[Role.MANAGER].get(url).json()
        self.assertEqual((body["invoiced"], body["paid"]), (None, None))
