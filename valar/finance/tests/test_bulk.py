"""``POST /api/v1/finance/transactions|incomes/bulk/`` and ``import/``: generic tests, rules."""

from decimal import Decimal

from django.core.files.base import ContentFile

from valar.core.testing import ApiTestCase
from valar.core.testing.bulk import BulkResourceTestsMixin
from valar.finance.models import Attachment, Category, Kind, LedgerEntry
from valar.finance.tests.support import API, PDF, category, entry


def sales(organization) -> Category:
    """The organization's income category."""
    found, _ = Category.objects.get_or_create(
        organization=organization, type=Kind.INCOME, name="Sales"
    )
    return found


class TransactionBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """Ledger entries in bulk (``transactions/``: the kind in each item)."""

    module = "finance"
    url = f"{API}transactions/"
    update_data = {"title": "Changed", "amount": "99.99"}

    @property
    def invalid_item(self):
        return {**self.create_data(0), "amount": "-5"}, "amount"

    def make_object(self, organization, index=0):
        return entry(organization, sales(organization), title=f"Entry {index}")

    def create_data(self, index):
        return {
            "kind": "income",
            "title": f"New entry {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(sales(self.org).pk),
        }

    def foreign_item(self):
        return {**self.create_data(0), "category": str(sales(self.other).pk)}, "category"

    def import_row(self, index):
        return {
            "kind": "income",
            "title": f"Imported {index}",
            "amount": "10.50",
            "date": "2026-02-01",
            "category": str(sales(self.org).pk),
        }

    def test_the_ledger_rules_apply_to_each_item(self):
        rent = category(self.org, name="Rent", kind=Kind.EXPENSE)
        own = self.make_object(self.org, 1)
        response = self.bulk(
            {
                "create": [
                    {**self.create_data(1), "category": str(rent.pk)},
                    {**self.create_data(2), "currency": "EUR"},
                    {**self.create_data(3), "currency": "EUR", "exchange_rate": "1.5"},
                    {key: value for key, value in self.create_data(4).items() if key != "kind"},
                ],
                "update": [{"id": str(own.pk), "kind": "expense"}],
            }
        )
        errors = self.assert_problem(response, 400)["errors"]
        self.assertEqual(
            errors,
            {
                "create.0.category": ["Choose a category of income."],
                "create.1.exchange_rate": ["Give the rate to USD for an entry in EUR."],
                "create.3.kind": ["This field is required."],
                "update.0.kind": ["The kind of an entry cannot change."],
            },
        )
        response = self.bulk(
            {"create": [{**self.create_data(3), "currency": "EUR", "exchange_rate": "1.5"}]}
        )
        self.assertEqual(response.json()["created"][0]["base_amount"], "18.51")

    def test_deleting_entries_deletes_their_attachments_and_files(self):
        own = self.make_object(self.org, 1)
        attachment = Attachment.objects.create(
            organization=self.org,
            entry=own,
            file=ContentFile(PDF, name="r.pdf"),
            original_name="r.pdf",
            content_type="application/pdf",
            size=len(PDF),
        )
        path = attachment.file.path
        response = self.bulk({"delete": [str(own.pk)]})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertFalse(Attachment.objects.filter(pk=attachment.pk).exists())
        self.assertFalse(LedgerEntry.objects.filter(pk=own.pk).exists())
        import os

        self.assertFalse(os.path.exists(path))
        self.assertTrue(
            self.events()
            .model.objects.filter(action="delete", object_id=str(attachment.pk))
            .exists()
        )

    def test_an_xlsx_import_reads_amounts_typed_as_numbers_exactly(self):
        rows = [{**self.import_row(0), "amount": 12.34}, {**self.import_row(1), "amount": 7}]
        self.imported(self.upload(self.xlsx_file(rows)))
        amounts = sorted(
            LedgerEntry.objects.filter(organization=self.org).values_list("amount", flat=True)
        )
        self.assertEqual(amounts, [Decimal("7.00"), Decimal("12.34")])


class IncomeBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """``incomes/bulk/``: the kind is the URL's."""

    module = "finance"
    url = f"{API}incomes/"
    update_data = {"title": "Changed"}

    @property
    def invalid_item(self):
        return {**self.create_data(0), "title": ""}, "title"

    def make_object(self, organization, index=0):
        return entry(organization, sales(organization), title=f"Entry {index}")

    def create_data(self, index):
        return {
            "title": f"New income {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(sales(self.org).pk),
        }

    def foreign_item(self):
        return {**self.create_data(0), "category": str(sales(self.other).pk)}, "category"

    def import_row(self, index):
        return {
            "title": f"Imported {index}",
            "amount": "10.50",
            "date": "2026-02-01",
            "category": str(sales(self.org).pk),
        }
