"""Generic resource tests for ``/api/v1/finance/``: isolation, role matrix, pages, queries."""

import datetime
from decimal import Decimal

from django.core.files.base import ContentFile

from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.crm.models import Customer
from valar.finance.models import Attachment, Category, Document, Kind, Subcategory
from valar.finance.tests.support import API, PDF, category, entry


def income_category(organization) -> Category:
    """The organization's income category the entries of these tests use."""
    found, _ = Category.objects.get_or_create(
        organization=organization, type=Kind.INCOME, name="Sales"
    )
    return found


def expense_category(organization) -> Category:
    """The organization's expense category the entries of these tests use."""
    found, _ = Category.objects.get_or_create(
        organization=organization, type=Kind.EXPENSE, name="Rent"
    )
    return found


class CategoryResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/categories/``."""

    module = "finance"
    url = f"{API}categories/"
    update_data = {"description": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return category(organization, name=f"Category {index}")

    def create_data(self, index):
        return {"name": f"New category {index}", "type": "expense", "color": "#112233"}


class SubcategoryResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/subcategories/``."""

    module = "finance"
    url = f"{API}subcategories/"
    update_data = {"description": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Subcategory.objects.create(
            organization=organization, category=income_category(organization), name=f"Sub {index}"
        )

    def create_data(self, index):
        return {"category": str(income_category(self.org).pk), "name": f"New sub {index}"}


class TransactionResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/transactions/`` (both kinds)."""

    module = "finance"
    url = f"{API}transactions/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return entry(organization, income_category(organization), title=f"Entry {index}")

    def create_data(self, index):
        return {
            "kind": "income",
            "title": f"New entry {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(income_category(self.org).pk),
        }


class IncomeResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/incomes/``."""

    module = "finance"
    url = f"{API}incomes/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return entry(organization, income_category(organization), title=f"Income {index}")

    def create_data(self, index):
        return {
            "title": f"New income {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(income_category(self.org).pk),
        }


class ExpenseResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/expenses/``."""

    module = "finance"
    url = f"{API}expenses/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return entry(organization, expense_category(organization), title=f"Expense {index}")

    def create_data(self, index):
        return {
            "title": f"New expense {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(expense_category(self.org).pk),
        }


class AttachmentResourceTests(MediaRootMixin, TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/attachments/`` (uploads are multipart: see ``test_attachments``)."""

    module = "finance"
    url = f"{API}attachments/"
    verbs = ("list", "retrieve", "delete")
    list_queries = 3

    def make_object(self, organization, index=0):
        owner = entry(organization, income_category(organization), title=f"Entry {index}")
        return Attachment.objects.create(
            organization=organization,
            entry=owner,
            file=ContentFile(PDF, name=f"receipt-{index}.pdf"),
            original_name=f"receipt-{index}.pdf",
            content_type="application/pdf",
            size=len(PDF),
        )


def _customer(organization):
    """The organization's customer the documents of these tests are for."""
    found, _ = Customer.objects.get_or_create(organization=organization, name="Acme")
    return found


def _document(organization, document_type: str, index: int = 0, **extra) -> Document:
    """A draft document of one line, written through the service as the organization's admin."""
    from valar.core.tenancy import Tenant
    from valar.finance.documents import document_create
    from valar.organizations.models import Membership

    membership = Membership.objects.filter(organization=organization, role="admin").first()
    return document_create(
        tenant=Tenant(organization=organization, membership=membership),
        document_type=document_type,
        data={
            "customer": _customer(organization),
            "notes": f"Document {index}",
            "line_items": [
                {"description": "Work", "quantity": Decimal("2"), "unit_price": Decimal("50")}
            ],
            **extra,
        },
    )


def _issued_invoice(organization, index: int = 0) -> Document:
    """A sent invoice of 100.00."""
    from valar.core.tenancy import Tenant
    from valar.finance.documents import document_send
    from valar.organizations.models import Membership

    membership = Membership.objects.filter(organization=organization, role="admin").first()
    return document_send(
        tenant=Tenant(organization=organization, membership=membership),
        document=_document(organization, Document.Type.INVOICE, index),
    )


class QuoteResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/quotes/`` (drafts: changed and deleted freely)."""

    module = "finance"
    url = f"{API}quotes/"
    update_data = {"notes": "Changed"}
    list_queries = 4

    def make_object(self, organization, index=0):
        return _document(organization, Document.Type.QUOTE, index)

    def create_data(self, index):
        return {
            "customer": str(_customer(self.org).pk),
            "line_items": [{"description": f"Line {index}", "quantity": "1", "unit_price": "9.99"}],
        }


class InvoiceResourceTests(QuoteResourceTests):
    """``/api/v1/finance/invoices/``."""

    url = f"{API}invoices/"

    def make_object(self, organization, index=0):
        return _document(organization, Document.Type.INVOICE, index)


class CreditNoteResourceTests(QuoteResourceTests):
    """``/api/v1/finance/credit-notes/`` (each credits an issued invoice)."""

    url = f"{API}credit-notes/"

    def make_object(self, organization, index=0):
        return _document(
            organization,
            Document.Type.CREDIT_NOTE,
            index,
            credits=_issued_invoice(organization, index),
        )

    def create_data_as(self, role, index):
        invoice = self.give_to(_issued_invoice(self.org, index), self.users[role])
        return {**self.create_data(index), "credits": str(invoice.pk)}

    def create_data(self, index):
        return {
            "credits": str(_issued_invoice(self.org, index).pk),
            "line_items": [{"description": f"Line {index}", "quantity": "1", "unit_price": "1.00"}],
        }


class PaymentResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/payments/`` (no update: delete and record again)."""

    module = "finance"
    url = f"{API}payments/"
    verbs = ("list", "retrieve", "create", "delete")
    list_queries = 3

    def make_object(self, organization, index=0):
        from valar.core.tenancy import Tenant
        from valar.finance.documents import payment_create
        from valar.organizations.models import Membership

        membership = Membership.objects.filter(organization=organization, role="admin").first()
        return payment_create(
            tenant=Tenant(organization=organization, membership=membership),
            data={
                "invoice": _issued_invoice(organization, index),
                "amount": Decimal("10.00"),
                "date": datetime.date(2026, 3, 1),
            },
        )

    def create_data_as(self, role, index):
        invoice = self.give_to(_issued_invoice(self.org, index), self.users[role])
        return {**self.create_data(index), "invoice": str(invoice.pk)}

    def create_data(self, index):
        return {
            "invoice": str(_issued_invoice(self.org, index).pk),
            "amount": "10.00",
            "date": "2026-03-01",
        }
