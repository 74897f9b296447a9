"""CRM rules pinned after review: stage meaning, pipeline names, lead statuses, exact figures."""

from decimal import Decimal

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm import selectors
from valar.crm.models import Deal, Lead, Pipeline
from valar.crm.services import customer_create

CRM = "/api/v1/crm/"


class CrmRuleTests(TenantFixtureMixin, ApiTestCase):
    """Rules that a PATCH must not get around, and figures that must stay exact."""

    module = "crm"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.pipeline = Pipeline.objects.get(organization=self.org, is_default=True)
        self.stages = list(self.pipeline.stages.order_by("order"))
        self.customer = customer_create(organization=self.org, name="Acme")

    def deal(self, value="100.00"):
        response = self.admin.post(
            f"{CRM}deals/",
            {"title": "D", "customer": str(self.customer.pk), "value": value},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def test_renaming_a_pipeline_to_a_taken_name_is_a_conflict(self):
        other = Pipeline.objects.create(organization=self.org, name="Other")
        response = self.admin.patch(f"{CRM}pipelines/{other.pk}/", {"name": "Sales"}, format="json")
        self.assert_problem(response, 409, code="duplicate")

    def test_a_stage_holding_deals_keeps_its_won_flag_and_its_pipeline(self):
        self.deal()
        first = self.stages[0]
        response = self.admin.patch(f"{CRM}stages/{first.pk}/", {"is_won": True}, format="json")
        self.assert_problem(response, 409, code="in_use")
        other = Pipeline.objects.create(organization=self.org, name="Other")
        response = self.admin.patch(
            f"{CRM}stages/{first.pk}/", {"pipeline": str(other.pk)}, format="json"
        )
        self.assert_problem(response, 400, field="pipeline")
        renamed = self.admin.patch(f"{CRM}stages/{first.pk}/", {"name": "Intake"}, format="json")
        self.assertEqual(renamed.json()["name"], "Intake")

    def test_a_lead_status_beyond_contacted_is_set_only_through_its_actions(self):
        lead = Lead.objects.create(organization=self.org, first_name="A", last_name="B")
        url = f"{CRM}leads/{lead.pk}/"
        for status in ("qualified", "unqualified", "converted"):
            with self.subTest(status=status):
                response = self.admin.patch(url, {"status": status}, format="json")
                self.assert_problem(response, 400, field="status")
        self.admin.post(f"{url}disqualify/", {"reason": "spam"}, format="json")
        reopened = self.admin.patch(url, {"status": "contacted"}, format="json").json()
        self.assertEqual(reopened["status"], "contacted")
        self.assertEqual(reopened["disqualification_reason"], "")

    def test_the_funnel_counts_a_returning_deals_value_once(self):
        deal = self.deal("100.00")
        for stage in (self.stages[1], self.stages[0], self.stages[1]):
            self.admin.post(
                f"{CRM}deals/{deal['id']}/move-stage/", {"stage": str(stage.pk)}, format="json"
            )
        rows = selectors.funnel(organization=self.org, pipeline=self.pipeline)
        by_name = {row["name"]: (row["deals"], row["value"]) for row in rows}
        self.assertEqual(by_name["Lead"], (1, Decimal("100.00")))
        self.assertEqual(by_name["Qualified"], (1, Decimal("100.00")))

    def test_weighted_values_keep_their_cents_for_whole_amounts(self):
        deal = self.deal("123.00")
        Deal.objects.filter(pk=deal["id"]).update(probability=60)
        figures = selectors.deal_figures(
            organization=self.org,
            start_date=self.org.created_at.date(),
            end_date=self.org.created_at.date(),
        )
        self.assertEqual(figures["weighted_value"], Decimal("73.80"))
        by_stage = selectors.pipeline_value_by_stage(organization=self.org, pipeline=self.pipeline)
        self.assertEqual(by_stage[0]["weighted"], Decimal("73.80"))
