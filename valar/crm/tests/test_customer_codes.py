"""Customer codes (``CUST-0001``): gap-free per organization, never reused, on every create."""

import datetime
import importlib

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from valar.core.models import Sequence
from valar.core.policy import Role
from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer, Lead
from valar.crm.services import customer_create

CUSTOMERS = "/api/v1/crm/customers/"
BACKFILL = importlib.import_module("valar.crm.migrations.0005_customer_code_backfill")


class CustomerCodeTests(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """Every way a customer is created gives it the organization's next code."""

    module = "crm"

    def post(self, data, role: str = Role.ADMIN):
        """POST ``customers/`` as ``role``."""
        return self.clients[role].post(CUSTOMERS, data, format="json")

    def codes(self, organization=None) -> list[str]:
        """The organization's customer codes, in order."""
        rows = Customer.objects.filter(organization=organization or self.org)
        return sorted(rows.values_list("code", flat=True))

    def test_codes_are_sequential_per_organization_and_never_reused_after_a_delete(self):
        first = self.post({"name": "Acme"}).json()
        second = self.post({"name": "Bolt"}).json()
        self.assertEqual((first["code"], second["code"]), ("CUST-0001", "CUST-0002"))
        theirs = self.other_client.post(CUSTOMERS, {"name": "Theirs"}, format="json")
        self.assertEqual(theirs.json()["code"], "CUST-0001")
        deleted = self.clients["admin"].delete(f"{CUSTOMERS}{second['id']}/")
        self.assertEqual(deleted.status_code, 204)
        self.assertEqual(self.post({"name": "Crane"}).json()["code"], "CUST-0003")
        self.assertEqual(self.codes(), ["CUST-0001", "CUST-0003"])

    def test_the_code_is_read_only(self):
        response = self.post({"name": "Acme", "code": "MINE-1"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["code"], "CUST-0001")
        patched = self.clients["admin"].patch(
            f"{CUSTOMERS}{response.json()['id']}/", {"code": "MINE-2"}, format="json"
        )
        self.assertEqual(patched.status_code, 200, patched.content)
        self.assertEqual(patched.json()["code"], "CUST-0001")
        self.assertEqual(self.codes(), ["CUST-0001"])

    def test_a_failed_create_gives_its_number_back(self):
        customer_create(organization=self.org, name="One")
        with self.assertRaises(ZeroDivisionError), transaction.atomic():
            customer_create(organization=self.org, name="Rolled back")
            _ = 1 / 0
        self.assertEqual(customer_create(organization=self.org, name="Two").code, "CUST-0002")

    def test_the_code_is_unique_in_its_organization(self):
        customer_create(organization=self.org, name="One")
        Customer.objects.create(organization=self.other, name="Elsewhere", code="CUST-0001")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Customer.objects.create(organization=self.org, name="Twin", code="CUST-0001")

    def test_bulk_creates_number_the_items_in_request_order(self):
        customer_create(organization=self.org, name="Before")
        response = self.clients["admin"].post(
            f"{CUSTOMERS}bulk/",
            {"create": [{"name": "A"}, {"name": "B"}, {"name": "C"}]},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        created = response.json()["created"]
        self.assertEqual([row["code"] for row in created], ["CUST-0002", "CUST-0003", "CUST-0004"])
        self.assertEqual([row["name"] for row in created], ["A", "B", "C"])
        # A refused bulk write takes no number.
        refused = self.clients["admin"].post(
            f"{CUSTOMERS}bulk/", {"create": [{"name": "D"}, {"name": ""}]}, format="json"
        )
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(self.post({"name": "E"}).json()["code"], "CUST-0005")

    def test_an_import_numbers_its_rows_and_a_dry_run_takes_no_number(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        def upload(dry_run: bool):
            """POST a CSV of two customers to ``import/``."""
            body = b"name,status\nFirst,vip\nSecond,active\n"
            with self.captureOnCommitCallbacks(execute=True):
                return self.clients["admin"].post(
                    f"{CUSTOMERS}import/",
                    {
                        "file": SimpleUploadedFile("c.csv", body, content_type="text/csv"),
                        "dry_run": "true" if dry_run else "false",
                    },
                    format="multipart",
                )

        self.assertEqual(upload(dry_run=True).status_code, 200)
        self.assertEqual(self.codes(), [])
        self.assertEqual(upload(dry_run=False).status_code, 202)
        named = dict(Customer.objects.filter(organization=self.org).values_list("name", "code"))
        self.assertEqual(named, {"First": "CUST-0001", "Second": "CUST-0002"})

    def test_a_converted_lead_becomes_a_customer_with_the_next_code(self):
        customer_create(organization=self.org, name="Before")
        lead = Lead.objects.create(organization=self.org, first_name="Ada", last_name="L")
        response = self.clients["admin"].post(f"/api/v1/crm/leads/{lead.pk}/convert/", {})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["customer"]["code"], "CUST-0002")

    def test_the_code_is_searchable_filterable_and_exported(self):
        for name in ("Acme", "Bolt", "Crane"):
            customer_create(organization=self.org, name=name)
        customer_create(organization=self.other, name="Theirs")
        client = self.clients["basic"]
        found = client.get(CUSTOMERS, {"search": "0002"}).json()["results"]
        self.assertEqual([row["name"] for row in found], ["Bolt"])
        filtered = client.get(CUSTOMERS, {"code": "cust-0003"}).json()["results"]
        self.assertEqual([row["name"] for row in filtered], ["Crane"])
        ordered = client.get(CUSTOMERS, {"ordering": "-code"}).json()["results"]
        self.assertEqual([row["code"] for row in ordered], ["CUST-0003", "CUST-0002", "CUST-0001"])
        export = client.get(f"{CUSTOMERS}export/")
        text = b"".join(export.streaming_content).decode()
        self.assertIn("code", text.splitlines()[0])
        self.assertIn("CUST-0003", text)


class CustomerCodeBackfillTests(TenantFixtureMixin, ApiTestCase):
    """The migration numbers existing customers by creation and moves each counter on."""

    module = "crm"

    def test_existing_customers_are_numbered_by_creation_per_organization(self):
        now = timezone.now()
        for organization, names in ((self.org, ("Late", "Early", "Middle")), (self.other, ("X",))):
            for name in names:
                Customer.objects.create(organization=organization, name=name, code=f"old-{name}")
        for offset, name in ((2, "Late"), (0, "Early"), (1, "Middle"), (0, "X")):
            Customer.objects.filter(name=name).update(
                created_at=now - datetime.timedelta(days=10 - offset)
            )
        BACKFILL.number_customers(apps, None)
        codes = dict(Customer.objects.values_list("name", "code"))
        self.assertEqual(
            codes,
            {"Early": "CUST-0001", "Middle": "CUST-0002", "Late": "CUST-0003", "X": "CUST-0001"},
        )
        counters = dict(
            Sequence.objects.filter(key="customer").values_list("organization_id", "last")
        )
        self.assertEqual(counters, {self.org.pk: 3, self.other.pk: 1})
        self.assertEqual(customer_create(organization=self.org, name="New").code, "CUST-0004")
