"""Invoice figures: the ``invoices`` and ``payments`` sources and the receivables aging."""

import datetime
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.core.metrics import run
from valar.core.policy import Role
from valar.finance.tests.support import API
from valar.finance.tests.test_documents import ROUNDING_LINES, DocumentTestCase

RECEIVABLES = "/api/v1/insights/receivables/"
AS_OF = datetime.date(2026, 6, 30)


class InvoiceSourceTests(DocumentTestCase):
    """The sources sum the stored base figures: issued invoices, their payments."""

    module = "finance"

    def test_issued_invoices_and_payments_in_the_base_currency(self):
        first = self.issued_invoice(issue_date="2026-05-02", line_items=ROUNDING_LINES)
        self.issued_invoice(issue_date="2026-05-03", currency="EUR", exchange_rate="2")
        self.create(issue_date="2026-05-04")  # a draft: not counted
        cancelled = self.issued_invoice(issue_date="2026-05-05")
        self.act("invoices", cancelled, "cancel")
        self.pay(first, "10.00")
        spec = {"start_date": "2026-05-01", "end_date": "2026-05-31"}
        issued = run(organization=self.org, spec={**spec, "source": "invoices"})
        self.assertEqual(issued["totals"], {"invoices": "218.52"})
        counted = run(
            organization=self.org, spec={**spec, "source": "invoices", "measure": "count"}
        )
        self.assertEqual(counted["totals"], {"invoices": 2})
        outstanding = run(
            organization=self.org, spec={**spec, "source": "invoices", "measure": "outstanding"}
        )
        self.assertEqual(outstanding["totals"], {"invoices": "208.52"})
        paid = run(
            organization=self.org,
            spec={"source": "payments", "start_date": "2026-03-01", "end_date": "2026-03-31"},
        )
        self.assertEqual(paid["totals"], {"payments": "10.00"})


class ReceivablesTests(DocumentTestCase):
    """``insights/receivables/``: open balances aged by days past due, exact, in SQL."""

    module = "finance"

    def setUp(self):
        super().setUp()
        for member in self.org.memberships.exclude(role=Role.ADMIN):
            member.modules = ["finance", "insights"]
            member.save()

    def receivables(self, client=None, **params):
        response = (client or self.admin).get(RECEIVABLES, {"as_of": AS_OF.isoformat(), **params})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_as_of_a_date_leaves_later_invoices_out(self):
        self.issued_invoice(issue_date="2026-07-01", due_date="2026-07-31")
        self.issued_invoice(issue_date="2026-06-01", due_date="2026-06-30")
        body = self.receivables()
        self.assertEqual((body["invoices"], body["outstanding"]), (1, "100.00"))
        later = self.receivables(as_of="2026-08-10")
        self.assertEqual((later["invoices"], later["outstanding"]), (2, "200.00"))

    def test_balances_fall_in_their_buckets_and_add_up(self):
        for day in ("2026-07-15", "2026-06-30", "2026-05-31", "2026-04-30", "2026-03-01"):
            self.issued_invoice(issue_date="2026-01-01", due_date=day)
        eur = self.issued_invoice(
            issue_date="2026-01-01", due_date="2026-05-30", currency="EUR", exchange_rate="1.5"
        )
        self.pay(eur, "33.33")  # balance 66.67 EUR -> 100.01 in the base currency
        self.issued_invoice(issue_date="2026-01-01")  # no due date: not overdue
        paid = self.issued_invoice(issue_date="2026-01-01", due_date="2026-01-31")
        self.pay(paid, "100.00")
        body = self.receivables()
        self.assertEqual(body["as_of"], "2026-06-30")
        buckets = {
            bucket["name"]: (bucket["amount"], bucket["invoices"]) for bucket in body["buckets"]
        }
        self.assertEqual(
            buckets,
            {
                "0-30": ("400.00", 4),
                "31-60": ("100.01", 1),
                "61-90": ("100.00", 1),
                "90+": ("100.00", 1),
            },
        )
        self.assertEqual((body["outstanding"], body["invoices"]), ("700.01", 7))
        self.assertEqual((body["overdue"], body["overdue_invoices"]), ("400.01", 4))
        self.assertEqual(
            body["customers"],
            [
                {
                    "customer": str(self.customer.pk),
                    "name": "Acme",
                    "outstanding": "700.01",
                    "overdue": "400.01",
                    "invoices": 7,
                }
            ],
        )

    def test_two_queries_cold_none_warm_and_a_payment_refreshes(self):
        invoice = self.issued_invoice(issue_date="2026-01-01", due_date="2026-01-31")
        self.receivables()
        with CaptureQueriesContext(connection) as queries:
            self.receivables()
        figures = [q for q in queries.captured_queries if "finance_document" in q["sql"]]
        self.assertEqual(figures, [])
        self.pay(invoice, "40.00")
        with CaptureQueriesContext(connection) as queries:
            body = self.receivables()
        figures = [q for q in queries.captured_queries if "finance_document" in q["sql"]]
        self.assertEqual(len(figures), 2)
        self.assertEqual(body["outstanding"], "60.00")

    def test_own_viewers_see_their_invoices_and_other_roles_are_refused(self):
        self.issued_invoice(issue_date="2026-01-01")
        worker = self.clients[Role.WORKER]
        self.assertEqual(self.receivables(worker)["outstanding"], "0.00")
        for role in (Role.CLIENT,):
            self.assertEqual(self.clients[role].get(RECEIVABLES).status_code, 403)
        self.assertEqual(self.other_client.get(RECEIVABLES).json()["outstanding"], "0.00")

    def test_without_finance_a_member_is_refused(self):
        member = self.org.memberships.get(role=Role.MANAGER)
        member.modules = ["insights"]
        member.save()
        self.assertEqual(self.clients[Role.MANAGER].get(RECEIVABLES).status_code, 403)

    def test_a_bad_date_is_a_400(self):
        self.assertEqual(self.admin.get(RECEIVABLES, {"as_of": "2026-13-01"}).status_code, 400)

    def test_today_is_the_default(self):
        with mock.patch("valar.core.tenancy.local_today", return_value=AS_OF):
            self.assertEqual(self.admin.get(RECEIVABLES).json()["as_of"], "2026-06-30")
        self.assertEqual(self.admin.get(f"{API}invoices/").status_code, 200)
