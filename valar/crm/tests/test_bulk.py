"""``POST /api/v1/crm/leads|customers/bulk/`` and ``import/``: generic tests and CRM rules."""

from decimal import Decimal

from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.bulk import BulkResourceTestsMixin
from valar.crm.models import Customer, Deal, Lead
from valar.crm.services import customer_create, deal_create
from valar.organizations.models import Membership, Team


class LeadBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """Leads in bulk: scored, statuses only as the single path allows."""

    module = "crm"
    url = "/api/v1/crm/leads/"
    update_data = {"company": "Changed Ltd"}
    invalid_item = ({"first_name": "", "last_name": "X"}, "first_name")

    def make_object(self, organization, index=0):
        return Lead.objects.create(
            organization=organization, first_name="Lead", last_name=str(index)
        )

    def create_data(self, index):
        return {
            "first_name": "Ada",
            "last_name": f"Lead {index}",
            "email": f"lead{index}@example.com",
            "source": "referral",
            "estimated_value": "1250.00",
        }

    def foreign_item(self):
        team = Team.objects.create(organization=self.other, name="Theirs")
        return {"first_name": "A", "last_name": "B", "team": str(team.pk)}, "team"

    def import_row(self, index):
        return {
            "first_name": "Imported",
            "last_name": str(index),
            "email": f"imported{index}@example.com",
            "source": "referral",
            "estimated_value": "99.50",
        }

    def test_leads_are_scored_and_keep_the_status_rules(self):
        converted = Lead.objects.create(
            organization=self.org, first_name="C", last_name="D", status="converted"
        )
        response = self.bulk(
            {
                "create": [self.create_data(1), {**self.create_data(2), "status": "qualified"}],
                "update": [{"id": str(converted.pk), "status": "new"}],
            }
        )
        errors = self.assert_problem(response, 400)["errors"]
        self.assertEqual(
            errors,
            {
                "create.1.status": ["Use qualify/, disqualify/ or convert/ for this status."],
                "update.0": ["A converted lead keeps its status."],
            },
        )
        response = self.bulk({"create": [self.create_data(3)]})
        single = self.clients["admin"].post(self.url, self.create_data(4), format="json").json()
        self.assertEqual(response.json()["created"][0]["score"], single["score"])
        self.assertGreater(single["score"], 0)

    def test_a_dry_run_shows_the_score_a_row_would_get(self):
        response = self.upload(self.csv_file([self.import_row(0)]), dry_run=True)
        row = response.json()["rows"][0]
        self.assertGreater(row["data"]["score"], 0)
        self.assertEqual(row["data"]["estimated_value"], "99.50")


class CustomerBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """Customers in bulk: one with deals is not deleted."""

    module = "crm"
    url = "/api/v1/crm/customers/"
    update_data = {"company": "Changed Ltd"}
    invalid_item = ({"name": ""}, "name")

    def make_object(self, organization, index=0):
        return customer_create(organization=organization, name=f"Customer {index}")

    def create_data(self, index):
        return {"name": f"New customer {index}", "email": f"c{index}@example.com"}

    def foreign_item(self):
        other_admin = self.other_admin
        return {"name": "Mine", "assigned_to": str(other_admin.pk)}, "assigned_to"

    def import_row(self, index):
        return {"name": f"Imported {index}", "status": "vip"}

    def test_a_customer_with_deals_is_an_item_error_as_the_single_delete_refuses_it(self):
        free = customer_create(organization=self.org, name="Free")
        busy = customer_create(organization=self.org, name="Busy")
        membership = Membership.objects.get(organization=self.org, user=self.users["admin"])
        deal_create(
            tenant=Tenant(organization=self.org, membership=membership),
            data={"title": "D", "customer": busy, "value": Decimal("10.00")},
        )
        response = self.bulk({"delete": [str(free.pk), str(busy.pk)]})
        self.assertEqual(
            self.assert_problem(response, 400)["errors"], {"delete.1": ["The customer has deals."]}
        )
        self.assertEqual(Customer.objects.filter(pk__in=[free.pk, busy.pk]).count(), 2)
        single = self.clients["admin"].delete(f"{self.url}{busy.pk}/")
        self.assertEqual(self.assert_problem(single, 409)["detail"], "The customer has deals.")
        self.assertEqual(Deal.objects.filter(customer=busy).count(), 1)

    def test_deleting_a_customer_clears_the_references_to_it_as_a_single_delete_does(self):
        customer = customer_create(organization=self.org, name="Gone")
        lead = Lead.objects.create(
            organization=self.org, first_name="A", last_name="B", converted_customer=customer
        )
        response = self.bulk({"delete": [str(customer.pk)]})
        self.assertEqual(response.status_code, 200, response.content)
        lead.refresh_from_db()
        self.assertIsNone(lead.converted_customer_id)
