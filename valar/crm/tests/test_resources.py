"""Generic resource tests for ``/api/v1/crm/``: isolation, role matrix, pages, pinned queries."""

from decimal import Decimal

from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.crm.models import Deal, Lead, Pipeline, Stage, Vendor
from valar.crm.services import customer_create


def default_pipeline(organization) -> Pipeline:
    """The organization's default pipeline (created by a receiver with the organization)."""
    return Pipeline.objects.get(organization=organization, is_default=True)


def first_stage(organization) -> Stage:
    """The first stage of the organization's default pipeline."""
    return default_pipeline(organization).stages.order_by("order").first()


class LeadResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/leads/``."""

    module = "crm"
    url = "/api/v1/crm/leads/"
    update_data = {"notes": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Lead.objects.create(
            organization=organization, first_name=f"Ada{index}", last_name="Lovelace"
        )

    def create_data(self, index):
        return {"first_name": f"New{index}", "last_name": "Lead"}


class CustomerResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/customers/`` (with their deal values)."""

    module = "crm"
    url = "/api/v1/crm/customers/"
    update_data = {"status": "vip"}
    list_queries = 3

    def make_object(self, organization, index=0):
        customer = customer_create(organization=organization, name=f"Customer {index}")
        stage = first_stage(organization)
        Deal.objects.create(
            organization=organization,
            title=f"Deal {index}",
            customer=customer,
            value=Decimal("10.00"),
            currency=organization.base_currency,
            pipeline=stage.pipeline,
            stage=stage,
            probability=stage.probability,
        )
        return customer

    def create_data(self, index):
        return {"name": f"New customer {index}"}

    def test_each_role_gets_what_the_policy_table_says(self):
        # Customers with deals cannot be deleted, so the matrix runs on customers without any.
        self.make_object = lambda organization, index=0: customer_create(
            organization=organization, name=f"Bare {index}"
        )
        super().test_each_role_gets_what_the_policy_table_says()


class PipelineResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/pipelines/`` (with their stages)."""

    module = "crm"
    url = "/api/v1/crm/pipelines/"
    update_data = {"is_default": True}
    list_queries = 4

    def make_object(self, organization, index=0):
        pipeline = Pipeline.objects.create(organization=organization, name=f"Pipeline {index}")
        for order in (1, 2):
            Stage.objects.create(
                organization=organization,
                pipeline=pipeline,
                name=f"Step {order}",
                order=order,
                probability=order * 10,
            )
        return pipeline

    def create_data(self, index):
        return {
            "name": f"New pipeline {index}",
            "stages": [
                {"name": "Open", "order": 1, "probability": 20},
                {"name": "Done", "order": 2, "probability": 100, "is_won": True},
            ],
        }


class StageResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/stages/``."""

    module = "crm"
    url = "/api/v1/crm/stages/"
    update_data = {"name": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Stage.objects.create(
            organization=organization,
            pipeline=default_pipeline(organization),
            name=f"Stage {index}",
            order=10 + index,
            probability=30,
        )

    def create_data(self, index):
        return {
            "pipeline": str(default_pipeline(self.org).pk),
            "name": f"New stage {index}",
            "order": 10 + index,
            "probability": 40,
        }


class DealResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/deals/``: customer and stage names come without one query per row."""

    module = "crm"
    url = "/api/v1/crm/deals/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        customer = customer_create(organization=organization, name=f"Customer {index}")
        stage = first_stage(organization)
        return Deal.objects.create(
            organization=organization,
            title=f"Deal {index}",
            customer=customer,
            value=Decimal("100.00") + index,
            currency=organization.base_currency,
            pipeline=stage.pipeline,
            stage=stage,
            probability=stage.probability,
        )

    def create_data(self, index):
        customer = customer_create(organization=self.org, name=f"Buyer {index}")
        return {"title": f"New deal {index}", "customer": str(customer.pk), "value": "5.00"}

    def test_list_rows_carry_the_customer_and_stage_names(self):
        deal = self.make_object(self.org, index=7)
        rows = self.clients["admin"].get(self.list_url()).json()["results"]
        self.assertEqual(
            [(row["customer_name"], row["stage_name"], row["pipeline_name"]) for row in rows],
            [("Customer 7", "Lead", "Sales")],
        )
        self.assertEqual(rows[0]["id"], str(deal.pk))


class VendorResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/crm/vendors/``."""

    module = "crm"
    url = "/api/v1/crm/vendors/"
    update_data = {"category": "Office"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Vendor.objects.create(organization=organization, name=f"Vendor {index}")

    def create_data(self, index):
        return {"name": f"New vendor {index}"}


class CrmExportTests(TenantFixtureMixin, ApiTestCase):
    """``export/`` of each CRM list holds the organization's rows only."""

    module = "crm"

    def test_each_export_lists_only_the_callers_rows(self):
        for organization, name in ((self.org, "Ours"), (self.other, "Theirs")):
            Lead.objects.create(organization=organization, first_name=name, last_name="L")
            customer = customer_create(organization=organization, name=name)
            Vendor.objects.create(organization=organization, name=name)
            stage = first_stage(organization)
            Deal.objects.create(
                organization=organization,
                title=name,
                customer=customer,
                currency="USD",
                pipeline=stage.pipeline,
                stage=stage,
                probability=stage.probability,
            )
        for resource in ("leads", "customers", "deals", "vendors"):
            with self.subTest(resource=resource):
                response = self.clients["basic"].get(f"/api/v1/crm/{resource}/export/")
                self.assertEqual(response.status_code, 200)
                text = b"".join(response.streaming_content).decode()
                self.assertIn("Ours", text)
                self.assertNotIn("Theirs", text)
