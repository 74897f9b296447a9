"""Quotes, invoices, credit notes and payments: rounding, numbering, transitions, the ledger."""

import csv
import io
from decimal import Decimal

from django.http import Http404
from django.utils import timezone

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer
from valar.finance.documents import expire_quotes
from valar.finance.models import Document, LedgerEntry, Payment
from valar.finance.tests.support import API

#: Lines whose per-line rounding differs from rounding the whole document once:
#: 3 x 0.335 = 1.005 -> 1.01 (whole: 3.015 -> 3.02 over three such lines, lines give 3.03);
#: 0.125 x 10% tax = 0.0125 -> 0.01 per line, 0.05 over four lines (whole 0.0500 -> 0.05) ...
ROUNDING_LINES = [
    {"description": "A", "quantity": "3", "unit_price": "0.34", "tax_rate": "10"},
    {"description": "B", "quantity": "0.335", "unit_price": "3.00", "tax_rate": "10"},
    {"description": "C", "quantity": "0.335", "unit_price": "3.00", "tax_rate": "10"},
    {"description": "D", "quantity": "0.335", "unit_price": "3.00", "tax_rate": "10"},
    {
        "description": "E",
        "quantity": "1.5",
        "unit_price": "9.99",
        "discount_percent": "12.5",
        "tax_rate": "7.25",
    },
]


class DocumentTestCase(TenantFixtureMixin, ApiTestCase):
    """An organization with a customer; helpers that drive documents over the API as its admin."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.customer = Customer.objects.create(organization=self.org, name="Acme")

    def create(self, kind: str = "invoices", **body):
        """A new draft through the API (one line of 100.00 unless given)."""
        payload = {
            "customer": str(self.customer.pk),
            "line_items": [{"description": "Work", "quantity": "1", "unit_price": "100.00"}],
            **body,
        }
        response = self.admin.post(f"{API}{kind}/", payload, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def act(self, kind: str, document: dict, action: str, expected: int = 200, client=None):
        """``POST {kind}/{id}/{action}/``, checked for ``expected``."""
        response = (client or self.admin).post(f"{API}{kind}/{document['id']}/{action}/")
        self.assertEqual(response.status_code, expected, response.content)
        return response.json()

    def issued_invoice(self, **body):
        """A sent invoice."""
        return self.act("invoices", self.create(**body), "send")

    def pay(self, invoice: dict, amount: str, expected: int = 201):
        """A payment of ``invoice``."""
        response = self.admin.post(
            f"{API}payments/",
            {"invoice": invoice["id"], "amount": amount, "date": "2026-03-01"},
            format="json",
        )
        self.assertEqual(response.status_code, expected, response.content)
        return response.json()

    def invoice(self, document: dict) -> dict:
        """The invoice as the API shows it now."""
        return self.admin.get(f"{API}invoices/{document['id']}/").json()


class RoundingTests(DocumentTestCase):
    """Each line rounds half-up to cents, then sums: the API and the CSV export agree."""

    def test_lines_round_on_their_own_and_the_document_sums_them(self):
        document = self.create(line_items=ROUNDING_LINES)
        lines = document["line_items"]
        self.assertEqual(
            [(line["amount"], line["discount"], line["tax"], line["total"]) for line in lines],
            [
                ("1.02", "0.00", "0.10", "1.12"),
                ("1.01", "0.00", "0.10", "1.11"),
                ("1.01", "0.00", "0.10", "1.11"),
                ("1.01", "0.00", "0.10", "1.11"),
                ("14.99", "1.87", "0.95", "14.07"),
            ],
        )
        # Whole-document rounding would give a subtotal of 1.02 + 3.015 + 14.985 = 19.02 and
        # a different tax; the policy sums the rounded lines.
        self.assertEqual(document["subtotal"], "19.04")
        self.assertEqual(document["discount_total"], "1.87")
        self.assertEqual(document["tax_total"], "1.35")
        self.assertEqual(document["total"], "18.52")
        self.assertEqual(document["base_total"], "18.52")

    def test_a_second_currency_keeps_the_document_total_and_converts_it_once(self):
        document = self.create(line_items=ROUNDING_LINES, currency="EUR", exchange_rate="1.0837")
        self.assertEqual(document["total"], "18.52")
        # 18.52 x 1.0837 = 20.070124 -> 20.07
        self.assertEqual(document["base_total"], "20.07")
        self.assertEqual(document["currency"], "EUR")

    def test_the_csv_export_shows_the_same_totals(self):
        document = self.create(line_items=ROUNDING_LINES, currency="EUR", exchange_rate="1.0837")
        self.create(line_items=ROUNDING_LINES)
        response = self.admin.get(f"{API}invoices/export/?format=csv")
        self.assertEqual(response.status_code, 200)
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        self.assertEqual(len(rows), 2)
        row = next(row for row in rows if row["id"] == document["id"])
        self.assertEqual(
            (row["subtotal"], row["discount_total"], row["tax_total"], row["total"]),
            ("19.04", "1.87", "1.35", "18.52"),
        )
        self.assertEqual((row["currency"], row["base_total"]), ("EUR", "20.07"))

    def test_a_foreign_currency_needs_a_rate(self):
        response = self.admin.post(
            f"{API}invoices/",
            {"customer": str(self.customer.pk), "currency": "EUR"},
            format="json",
        )
        self.assert_problem(response, 400)
        self.assertIn("exchange_rate", response.json()["errors"])

    def test_bad_lines_are_400s(self):
        for line in (
            {"description": "x", "quantity": "0", "unit_price": "1.00"},
            {"description": "x", "quantity": "1.0001", "unit_price": "1.00"},
            {"description": "x", "quantity": "1", "unit_price": "1.001"},
            {"description": "x", "quantity": "1", "unit_price": "1.00", "tax_rate": "101"},
            {"description": "x", "quantity": "1", "unit_price": "1.00", "discount_percent": "-1"},
            {"description": "", "quantity": "1", "unit_price": "1.00"},
        ):
            response = self.admin.post(
                f"{API}invoices/",
                {"customer": str(self.customer.pk), "line_items": [line]},
                format="json",
            )
            self.assertEqual(response.status_code, 400, (line, response.content))


class NumberingTests(DocumentTestCase):
    """Drafts have no number; issuing gives the next one of the type and year, gap-free."""

    def test_numbers_per_type_and_year_given_when_issued(self):
        first = self.create()
        self.assertEqual(first["number"], "")
        quote = self.act("quotes", self.create("quotes"), "send")
        second = self.issued_invoice()
        first = self.act("invoices", first, "send")
        year = timezone.now().year
        self.assertEqual(quote["number"], f"QUO-{year}-0001")
        self.assertEqual(second["number"], f"INV-{year}-0001")
        self.assertEqual(first["number"], f"INV-{year}-0002")
        dated = self.issued_invoice(issue_date="2025-12-31")
        self.assertEqual(dated["number"], "INV-2025-0001")

    def test_a_deleted_draft_leaves_no_gap(self):
        self.admin.delete(f"{API}invoices/{self.create()['id']}/")
        self.assertEqual(self.issued_invoice()["number"][-4:], "0001")

    def test_the_prefix_is_an_organization_setting(self):
        response = self.admin.patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"document_prefixes": {"invoice": "ACME"}},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["document_prefixes"]["quote"], "QUO")
        self.assertTrue(self.issued_invoice()["number"].startswith("ACME-"))
        response = self.admin.patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"document_prefixes": {"invoice": "a b"}},
            format="json",
        )
        self.assertEqual(response.status_code, 400)

    def test_another_organization_counts_on_its_own(self):
        self.issued_invoice()
        other_customer = Customer.objects.create(organization=self.other, name="Other")
        response = self.other_client.post(
            f"{API}invoices/",
            {
                "customer": str(other_customer.pk),
                "line_items": [{"description": "x", "quantity": "1", "unit_price": "1.00"}],
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        sent = self.act("invoices", response.json(), "send", client=self.other_client)
        self.assertEqual(sent["number"][-4:], "0001")


class TransitionTests(DocumentTestCase):
    """Every transition, and the 409 naming what is allowed instead."""

    def test_quote_sent_then_accepted_then_converted_once(self):
        quote = self.act("quotes", self.create("quotes", terms="30 days"), "send")
        self.assertEqual(quote["status"], "sent")
        self.act("quotes", quote, "send", 409)
        accepted = self.act("quotes", quote, "accept")
        self.assertEqual(accepted["status"], "accepted")
        body = self.act("quotes", quote, "reject", 409)
        self.assertEqual(body["code"], "invalid_transition")
        self.assertIn("convert", body["detail"])
        invoice = self.act("quotes", quote, "convert", 201)
        self.assertEqual(invoice["status"], "draft")
        self.assertEqual(invoice["source_quote"], quote["id"])
        self.assertEqual((invoice["total"], invoice["terms"]), ("100.00", "30 days"))
        self.assertEqual(self.act("quotes", quote, "convert", 409)["code"], "converted")

    def test_quote_rejected_and_a_draft_cannot_be_accepted(self):
        draft = self.create("quotes")
        body = self.act("quotes", draft, "accept", 409)
        self.assertIn("Allowed now: send", body["detail"])
        self.act("quotes", draft, "convert", 409)
        self.act("quotes", draft, "send")
        self.assertEqual(self.act("quotes", draft, "reject")["status"], "rejected")
        self.act("quotes", draft, "accept", 409)

    def test_quotes_expire_by_the_job_and_an_expired_one_cannot_be_accepted(self):
        stale = self.create("quotes", issue_date="2026-01-01", expiry_date="2026-01-31")
        response = self.admin.post(f"{API}quotes/{stale['id']}/send/")
        self.assert_problem(response, 409)
        self.assertIn("expiry_date", response.json()["errors"])
        past = self.act("quotes", self.create("quotes", expiry_date="2199-01-31"), "send")
        # Time passes: the expiry date is behind us, the hourly job has not run yet.
        Document.objects.filter(pk=past["id"]).update(expiry_date="2026-01-31")
        shown = self.admin.get(f"{API}quotes/{past['id']}/").json()
        self.assertEqual(shown["status"], "expired")
        listed = self.admin.get(f"{API}quotes/", {"status": "expired"}).json()["results"]
        self.assertEqual([row["id"] for row in listed], [past["id"]])
        self.assertEqual(self.admin.get(f"{API}quotes/", {"status": "sent"}).json()["count"], 0)
        self.assertEqual(self.act("quotes", past, "accept", 409)["code"], "expired")
        self.assertEqual(self.act("quotes", past, "reject", 409)["code"], "expired")
        self.assertEqual(expire_quotes(), 1)
        self.assertEqual(expire_quotes(), 0)
        shown = self.admin.get(f"{API}quotes/{past['id']}/").json()
        self.assertEqual(shown["status"], "expired")

    def test_invoice_cancelled_only_without_payments(self):
        invoice = self.issued_invoice()
        self.act("invoices", self.create(), "cancel", 409)
        paid = self.issued_invoice()
        self.pay(paid, "10.00")
        self.assertIn("partial", self.act("invoices", paid, "cancel", 409)["detail"])
        self.assertEqual(self.act("invoices", invoice, "cancel")["status"], "cancelled")
        self.pay(invoice, "10.00", 409)

    def test_issued_documents_are_immutable_and_not_deleted(self):
        invoice = self.issued_invoice()
        response = self.admin.patch(
            f"{API}invoices/{invoice['id']}/", {"notes": "changed"}, format="json"
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.admin.delete(f"{API}invoices/{invoice['id']}/").status_code, 409)

    def test_a_draft_changes_and_its_lines_are_replaced(self):
        draft = self.create()
        response = self.admin.patch(
            f"{API}invoices/{draft['id']}/",
            {"line_items": ROUNDING_LINES, "due_date": "2026-12-31", "issue_date": "2026-12-01"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(len(response.json()["line_items"]), 5)
        self.assertEqual(response.json()["total"], "18.52")
        response = self.admin.patch(
            f"{API}invoices/{draft['id']}/", {"due_date": "2026-11-30"}, format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("due_date", response.json()["errors"])

    def test_an_empty_draft_is_not_issued_and_dates_fit_the_type(self):
        self.act("invoices", self.create(line_items=[]), "send", 409)
        response = self.admin.post(
            f"{API}quotes/",
            {
                "customer": str(self.customer.pk),
                "issue_date": "2026-02-01",
                "expiry_date": "2026-01-01",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("expiry_date", response.json()["errors"])

    def test_an_unpaid_invoice_past_its_due_date_shows_overdue_and_filters_so(self):
        late = self.issued_invoice(issue_date="2026-01-01", due_date="2026-01-31")
        current = self.issued_invoice(due_date="2200-01-01")
        self.assertEqual(self.invoice(late)["status"], "overdue")
        self.assertEqual(self.invoice(current)["status"], "sent")
        overdue = self.admin.get(f"{API}invoices/?status=overdue").json()["results"]
        self.assertEqual([row["id"] for row in overdue], [late["id"]])
        sent = self.admin.get(f"{API}invoices/?status=sent").json()["results"]
        self.assertEqual([row["id"] for row in sent], [current["id"]])
        self.pay(late, "100.00")
        self.assertEqual(self.invoice(late)["status"], "paid")


class PaymentTests(DocumentTestCase):
    """Partial payments to paid, overpayment refused, the ledger kept in step."""

    def test_partial_payments_to_paid_each_with_its_ledger_income(self):
        invoice = self.issued_invoice(currency="EUR", exchange_rate="1.5")
        first = self.pay(invoice, "30.01")
        self.assertEqual(self.invoice(invoice)["status"], "partial")
        self.assertEqual(self.invoice(invoice)["balance"], "69.99")
        self.pay(invoice, "69.99")
        shown = self.invoice(invoice)
        self.assertEqual(
            (shown["status"], shown["paid_amount"], shown["balance"]), ("paid", "100.00", "0.00")
        )
        entry = LedgerEntry.objects.get(pk=first["entry"])
        self.assertEqual(
            (entry.kind, entry.amount, entry.currency), ("income", Decimal("30.01"), "EUR")
        )
        self.assertEqual(entry.base_amount, Decimal("45.02"))
        self.assertEqual(entry.payment.pk.hex, first["id"].replace("-", ""))
        self.assertEqual(entry.reference, invoice["number"])
        self.pay(invoice, "0.01", 409)

    def test_an_overpayment_is_refused_and_nothing_is_written(self):
        invoice = self.issued_invoice()
        body = self.pay(invoice, "100.01", 400)
        self.assertEqual(body["code"], "overpayment")
        self.assertFalse(Payment.objects.exists())
        self.assertFalse(LedgerEntry.objects.exists())

    def test_a_draft_is_not_paid(self):
        self.pay(self.create(), "1.00", 409)

    def test_deleting_a_payment_deletes_its_entry_and_the_balance_follows(self):
        invoice = self.issued_invoice()
        payment = self.pay(invoice, "100.00")
        response = self.admin.delete(f"{API}payments/{payment['id']}/")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(LedgerEntry.objects.filter(pk=payment["entry"]).exists())
        shown = self.invoice(invoice)
        self.assertEqual((shown["status"], shown["balance"]), ("sent", "100.00"))
        actions = self.admin.get("/api/v1/audit/events/", {"object_id": payment["id"]}).json()[
            "results"
        ]
        self.assertIn("delete", [event["action"] for event in actions])

    def test_the_ledger_entry_of_a_payment_is_changed_only_through_it(self):
        payment = self.pay(self.issued_invoice(), "50.00")
        url = f"{API}transactions/{payment['entry']}/"
        self.assertEqual(self.admin.patch(url, {"title": "x"}, format="json").status_code, 409)
        self.assertEqual(self.admin.delete(url).status_code, 409)
        self.assertTrue(LedgerEntry.objects.filter(pk=payment["entry"]).exists())

    def test_the_ledger_and_the_invoices_agree_to_the_cent(self):
        invoice = self.issued_invoice(line_items=ROUNDING_LINES)
        self.pay(invoice, "10.01")
        self.pay(invoice, "8.51")
        summary = self.admin.get(
            f"{API}summary/", {"start_date": "2026-03-01", "end_date": "2026-03-31"}
        ).json()
        self.assertEqual(summary["totals"]["income"], "18.52")
        self.assertEqual(self.invoice(invoice)["paid_amount"], "18.52")


class CreditNoteTests(DocumentTestCase):
    """A credit note is a negative document; issuing it lowers the invoice's balance."""

    def credit(self, invoice: dict, price: str, expected: int = 201):
        response = self.admin.post(
            f"{API}credit-notes/",
            {
                "credits": invoice["id"],
                "line_items": [{"description": "Refund", "quantity": "1", "unit_price": price}],
            },
            format="json",
        )
        self.assertEqual(response.status_code, expected, response.content)
        return response.json()

    def test_a_credit_note_lowers_the_balance_and_can_settle_the_invoice(self):
        invoice = self.issued_invoice(currency="EUR", exchange_rate="2")
        note = self.credit(invoice, "40.00")
        self.assertEqual((note["total"], note["base_total"]), ("-40.00", "-80.00"))
        self.assertEqual((note["customer"], note["currency"]), (invoice["customer"], "EUR"))
        self.assertEqual(self.invoice(invoice)["balance"], "100.00")
        issued = self.act("credit-notes", note, "send")
        self.assertEqual(issued["status"], "issued")
        self.assertTrue(issued["number"].startswith("CN-"))
        shown = self.invoice(invoice)
        self.assertEqual(
            (shown["credited_amount"], shown["balance"], shown["status"]),
            ("40.00", "60.00", "partial"),
        )
        self.pay(invoice, "60.00")
        self.assertEqual(self.invoice(invoice)["status"], "paid")
        self.assertEqual(self.act("invoices", invoice, "cancel", 409)["code"], "invalid_transition")

    def test_more_than_the_balance_is_refused_and_a_draft_invoice_is_not_credited(self):
        invoice = self.issued_invoice()
        self.act("credit-notes", self.credit(invoice, "100.01"), "send", 409)
        self.credit(self.create(), "1.00", 400)


class ExpenseLineTests(DocumentTestCase):
    """Only billable, approved expenses are billed, each on one invoice line."""

    def test_an_expense_that_is_not_billable_is_refused(self):
        from valar.finance.tests.support import category, entry

        rent = entry(self.org, category(self.org, name="Rent", kind="expense"))
        response = self.admin.post(
            f"{API}invoices/",
            {
                "customer": str(self.customer.pk),
                "line_items": [
                    {
                        "description": "x",
                        "quantity": "1",
                        "unit_price": "1.00",
                        "expense": str(rent.pk),
                    }
                ],
            },
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)


class PortalFreeTests(DocumentTestCase):
    """Who may do what: the policy table's finance rules, for the new actions too."""

    def test_a_basic_member_and_a_client_cannot_issue(self):
        invoice = self.create()
        for role in (Role.BASIC, Role.CLIENT):
            response = self.clients[role].post(f"{API}invoices/{invoice['id']}/send/")
            self.assertIn(response.status_code, (403, 404), (role, response.content))
        self.assertEqual(Document.objects.get(pk=invoice["id"]).status, "draft")

    def test_another_organization_gets_404_on_every_action(self):
        invoice = self.issued_invoice()
        quote = self.act("quotes", self.create("quotes"), "send")
        hostile = self.other_client
        for url in (
            f"{API}invoices/{invoice['id']}/send/",
            f"{API}invoices/{invoice['id']}/cancel/",
            f"{API}quotes/{quote['id']}/accept/",
            f"{API}quotes/{quote['id']}/reject/",
            f"{API}quotes/{quote['id']}/convert/",
        ):
            self.assertEqual(hostile.post(url).status_code, 404, url)
        response = hostile.post(
            f"{API}payments/",
            {"invoice": invoice["id"], "amount": "1.00", "date": "2026-03-01"},
            format="json",
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("invoice", response.json()["errors"])
        self.assertEqual(self.invoice(invoice)["status"], "sent")
        self.assertEqual(hostile.get(f"{API}invoices/").json()["count"], 0)


class FoundFromOutsideTests(DocumentTestCase):
    """What was found when the real server was driven as users and attackers would."""

    def test_a_payment_deleted_meanwhile_is_a_404_not_a_server_error(self):
        from valar.finance.documents import payment_delete

        invoice = self.issued_invoice()
        payment = Payment.objects.get(pk=self.pay(invoice, "30.00")["id"])
        stale = Payment.objects.get(pk=payment.pk)
        payment_delete(payment=payment)
        with self.assertRaises(Http404):
            payment_delete(payment=stale)
        self.assertEqual(self.invoice(invoice)["paid_amount"], "0.00")

    def test_a_prefix_another_type_has_is_refused(self):
        response = self.admin.patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"document_prefixes": {"invoice": "QUO"}},
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)

    def test_a_billed_expense_stays_billable_until_issued_and_is_then_frozen(self):
        from valar.finance.tests.support import category, entry

        taxi = entry(
            self.org,
            category(self.org, name="Travel", kind="expense"),
            amount="25.00",
            is_billable=True,
        )
        line = {"description": "Taxi", "quantity": "1", "unit_price": "25.00"}
        draft = self.create(line_items=[{**line, "expense": str(taxi.pk)}])
        LedgerEntry.objects.filter(pk=taxi.pk).update(is_billable=False)
        self.assertEqual(self.act("invoices", draft, "send", 409)["code"], "expense_not_billable")
        LedgerEntry.objects.filter(pk=taxi.pk).update(is_billable=True)
        self.act("invoices", draft, "send")
        url = f"{API}expenses/{taxi.pk}/"
        response = self.admin.patch(url, {"amount": "1.00"}, format="json")
        self.assertEqual((response.status_code, response.json()["code"]), (409, "billed"))
        self.assertEqual(self.admin.delete(url).status_code, 409)


class ZeroInvoiceTests(DocumentTestCase):
    """An invoice of 0.00 (a free line, a full discount) owes nothing once issued."""

    def test_it_is_paid_on_issue_and_takes_no_payment(self):
        free = self.create(
            line_items=[
                {"description": "Free", "quantity": "1", "unit_price": "0.00"},
                {
                    "description": "Waived",
                    "quantity": "2",
                    "unit_price": "50.00",
                    "discount_percent": "100",
                },
            ]
        )
        issued = self.act("invoices", free, "send")
        self.assertEqual((issued["total"], issued["balance"]), ("0.00", "0.00"))
        self.assertEqual(issued["status"], "paid")
        self.assertTrue(issued["number"].startswith("INV-"))
        response = self.admin.post(
            f"{API}payments/",
            {"invoice": issued["id"], "amount": "1.00", "date": "2026-03-01"},
            format="json",
        )
        self.assert_problem(response, 409)


class BaseCurrencyChangeTests(DocumentTestCase):
    """A draft in the base currency is at par with the base currency of the day it is issued."""

    def test_a_converted_quote_in_the_base_currency_keeps_no_rate_either(self):
        quote = self.act("quotes", self.create("quotes"), "send")
        self.assertEqual(quote["exchange_rate"], "1.00000000")
        self.act("quotes", quote, "accept")
        invoice = self.act("quotes", quote, "convert", 201)
        self.assertIsNone(invoice["exchange_rate"])

    def test_a_draft_in_the_old_base_currency_needs_a_rate_to_be_issued(self):
        draft = self.create()
        self.assertIsNone(draft["exchange_rate"])
        self.org.base_currency = "JPY"
        self.org.save()
        response = self.admin.post(f"{API}invoices/{draft['id']}/send/")
        self.assert_problem(response, 400)
        self.assertIn("JPY", response.json()["errors"]["exchange_rate"][0])
        self.admin.patch(f"{API}invoices/{draft['id']}/", {"exchange_rate": "150"}, format="json")
        issued = self.act("invoices", draft, "send")
        self.assertEqual(
            (issued["exchange_rate"], issued["base_total"]), ("150.00000000", "15000.00")
        )
        yen = self.act("invoices", self.create(), "send")
        self.assertEqual((yen["currency"], yen["exchange_rate"]), ("JPY", "1.00000000"))


class DocumentInputTests(DocumentTestCase):
    """Input the documents refuse, found driving the real server with odd values."""

    def test_amounts_rates_currencies_and_flags_are_read_strictly(self):
        cases = [
            ({"currency": "ZZZ", "exchange_rate": "1"}, "currency"),
            ({"currency": "XXX", "exchange_rate": "1"}, "currency"),
            ({"currency": "EUR", "exchange_rate": "\u0661.\u0665"}, "exchange_rate"),
            ({"terms": "x" * 5001}, "terms"),
            (
                {"line_items": [{"description": "X", "quantity": "1", "unit_price": "1_0"}]},
                "line_items",
            ),
        ]
        for body, field in cases:
            with self.subTest(field=field, body=str(body)[:60]):
                payload = {"customer": str(self.customer.pk), **body}
                payload.setdefault(
                    "line_items", [{"description": "X", "quantity": "1", "unit_price": "1.00"}]
                )
                response = self.admin.post(f"{API}invoices/", payload, format="json")
                self.assert_problem(response, 400)
                self.assertIn(field, str(response.json()["errors"]))
        huge = [{"description": "X", "quantity": "99999999.999", "unit_price": "999999999999.99"}]
        response = self.admin.post(
            f"{API}invoices/",
            {"customer": str(self.customer.pk), "line_items": huge},
            format="json",
        )
        self.assert_problem(response, 400)
        self.assertEqual(list(response.json()["errors"]), ["line_items"])
        euro = self.create(currency="EUR", exchange_rate="1.1")
        self.assertEqual((euro["currency"], euro["base_total"]), ("EUR", "110.00"))
        for flag in ("yes", "1", 1, "true"):
            with self.subTest(email=flag):
                response = self.admin.post(
                    f"{API}invoices/{euro['id']}/send/", {"email": flag}, format="json"
                )
                self.assert_problem(response, 400)
                self.assertIn("email", response.json()["errors"])
