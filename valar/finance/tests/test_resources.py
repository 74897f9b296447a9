"""Generic resource tests for ``/api/v1/finance/``: isolation, role matrix, pages, queries."""

from django.core.files.base import ContentFile

from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.finance.models import Attachment, Category, Kind, Subcategory
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
