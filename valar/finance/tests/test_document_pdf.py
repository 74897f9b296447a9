"""Documents as PDF: the API's exact totals in the text, markup kept as text, e-mailed on send."""

import io
from unittest import mock

from django.core import mail
from pypdf import PdfReader

from valar.core.mail import MailUnavailable
from valar.finance.models import Document
from valar.finance.tasks import email_document
from valar.finance.tests.support import API
from valar.finance.tests.test_documents import ROUNDING_LINES, DocumentTestCase
from valar.jobs.models import Job


def text_of(content: bytes) -> str:
    """The text of a PDF, every run of white space (table cells, lines) one space."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def pdf_text(response) -> str:
    """The text of a PDF answer."""
    return text_of(b"".join(response.streaming_content) if response.streaming else response.content)


class DocumentPdfTests(DocumentTestCase):
    """``{type}/{id}/pdf/`` shows the organization, the customer, the lines and the totals."""

    def test_the_pdf_shows_exactly_the_api_totals_in_two_currencies(self):
        self.admin.patch(
            f"/api/v1/organizations/{self.org.pk}/settings/",
            {"document_issuer": {"address": "1 Harbour Road", "tax_number": "VAT-77"}},
            format="json",
        )
        for currency, rate in (("USD", None), ("EUR", "1.0837")):
            body = {"line_items": ROUNDING_LINES, "currency": currency, "due_date": "2200-01-01"}
            if rate:
                body["exchange_rate"] = rate
            invoice = self.act("invoices", self.create(**body), "send")
            response = self.admin.get(f"{API}invoices/{invoice['id']}/pdf/")
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response["Content-Type"], "application/pdf")
            self.assertIn(f'filename="{invoice["number"]}.pdf"', response["Content-Disposition"])
            text = pdf_text(response)
            for expected in (
                f"Invoice {invoice['number']}",
                "Org",
                "1 Harbour Road",
                "VAT-77",
                "Acme",
                f"Subtotal {invoice['subtotal']}",
                f"Discount {invoice['discount_total']}",
                f"Tax {invoice['tax_total']}",
                f"Total {invoice['total']} {currency}",
                f"Balance due {invoice['balance']} {currency}",
            ):
                self.assertIn(expected, text, (currency, text))
            for line in invoice["line_items"]:
                self.assertIn(line["total"], text)
            if rate:
                self.assertIn(f"Total in USD at 1.0837 {invoice['base_total']}", text)

    def test_a_quote_draft_with_markup_and_other_scripts_renders_as_text(self):
        quote = self.create(
            "quotes",
            notes="<b>bold?</b> & <script>x</script>",
            line_items=[
                {"description": "Kopi 漢字 Ω <i>", "quantity": "1.5", "unit_price": "2.00"}
            ],
        )
        response = self.admin.get(f"{API}quotes/{quote['id']}/pdf/")
        self.assertEqual(response.status_code, 200)
        text = pdf_text(response)
        self.assertIn("Quote (draft)", text)
        self.assertIn("<b>bold?</b> & <script>x</script>", text)
        self.assertIn("3.00", text)

    def test_another_organization_gets_404_and_a_client_403(self):
        invoice = self.create()
        self.assertEqual(
            self.other_client.get(f"{API}invoices/{invoice['id']}/pdf/").status_code, 404
        )
        self.assertEqual(
            self.clients["client"].get(f"{API}invoices/{invoice['id']}/pdf/").status_code, 403
        )


class DocumentEmailTests(DocumentTestCase):
    """Issuing e-mails the PDF by a job, to the customer or the address given."""

    def test_sending_emails_the_pdf_to_the_customer(self):
        self.customer.email = "billing@acme.test"
        self.customer.save()
        with self.captureOnCommitCallbacks(execute=True):
            invoice = self.act("invoices", self.create(), "send")
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["billing@acme.test"])
        self.assertIn(invoice["number"], message.subject)
        name, content, mimetype = message.attachments[0]
        self.assertEqual((name, mimetype), (f"{invoice['number']}.pdf", "application/pdf"))
        self.assertIn("Total 100.00 USD", text_of(content))
        shown = self.invoice(invoice)
        self.assertEqual(shown["emailed_to"], "billing@acme.test")
        self.assertIsNotNone(shown["emailed_at"])

    def test_another_address_or_no_email(self):
        document = self.create("quotes")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.admin.post(
                f"{API}quotes/{document['id']}/send/", {"to": "buyer@acme.test"}, format="json"
            )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(mail.outbox[0].to, ["buyer@acme.test"])
        self.customer.email = "billing@acme.test"
        self.customer.save()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.admin.post(
                f"{API}invoices/{self.create()['id']}/send/", {"email": False}, format="json"
            )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(response.json()["status"], "sent")

    def test_a_mail_outage_keeps_the_document_issued_and_the_job_retries(self):
        self.customer.email = "billing@acme.test"
        self.customer.save()
        with (
            mock.patch(
                "valar.core.mail.get_connection",
                return_value=mock.Mock(open=mock.Mock(side_effect=OSError("down"))),
            ),
            self.captureOnCommitCallbacks(execute=True),
        ):
            invoice = self.act("invoices", self.create(), "send")
        self.assertEqual(Document.objects.get(pk=invoice["id"]).status, "sent")
        self.assertIsNone(self.invoice(invoice)["emailed_at"])
        job = Job.objects.get(kind="finance.email_document")
        self.assertIn("down", job.error)
        self.assertEqual(len(mail.outbox), 0)
        # Nothing was sent, so the job may run again: an outage is one of its retry reasons.
        self.assertIn(MailUnavailable, email_document.retry_for)
