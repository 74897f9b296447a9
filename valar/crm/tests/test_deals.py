"""Deals: defaults, stage/pipeline checks, moves with history, closing, filters, orderings."""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer, Deal, DealStageChange, Pipeline, Stage
from valar.crm.services import customer_create
from valar.organizations.models import Organization, Team

DEALS = "/api/v1/crm/deals/"
CUSTOMERS = "/api/v1/crm/customers/"


class DealCaseMixin(TenantFixtureMixin):
    """An organization working in euros, its default pipeline, a second pipeline, a customer."""

    module = "crm"

    def setUp(self) -> None:
        """Switch the organization to EUR and name the stages."""
        super().setUp()
        Organization.objects.filter(pk=self.org.pk).update(base_currency="EUR")
        self.org.refresh_from_db()
        self.pipeline = Pipeline.objects.get(organization=self.org, is_default=True)
        self.stages = {stage.name: stage for stage in self.pipeline.stages.all()}
        self.second = Pipeline.objects.create(organization=self.org, name="Renewals")
        self.renewal_stage = Stage.objects.create(
            organization=self.org, pipeline=self.second, name="Renew", order=1, probability=60
        )
        self.customer = customer_create(organization=self.org, name="Acme")
        self.manager = self.clients[Role.MANAGER]

    def deal(self, stage: str = "Lead", **fields) -> Deal:
        """A deal of ``self.org`` in a stage of the default pipeline."""
        stage_row = self.stages[stage]
        fields.setdefault("title", "Deal")
        fields.setdefault("customer", self.customer)
        fields.setdefault("currency", "EUR")
        fields.setdefault("probability", stage_row.probability)
        # Written straight to the table as the migration left older deals: in the base
        # currency at rate 1, in another without a rate (and so without a base value).
        if fields["currency"] == self.org.base_currency:
            fields.setdefault("base_value", fields.get("value", Decimal(0)))
        else:
            fields.setdefault("exchange_rate", None)
        return Deal.objects.create(
            organization=self.org, pipeline=self.pipeline, stage=stage_row, **fields
        )

    def post(self, path: str, data=None, role: str = Role.MANAGER):
        """POST to ``deals/{path}`` as ``role``."""
        return self.clients[role].post(f"{DEALS}{path}", data or {}, format="json")


class DealCreateTests(DealCaseMixin, ApiTestCase):
    """What a new deal gets by default and which references it refuses."""

    def test_a_deal_defaults_to_the_default_pipelines_first_stage_and_the_base_currency(self):
        response = self.post("", {"title": "Big one", "customer": str(self.customer.pk)})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        lead_stage = self.stages["Lead"]
        expected = {
            "pipeline": str(self.pipeline.pk),
            "pipeline_name": "Sales",
            "stage": str(lead_stage.pk),
            "stage_name": "Lead",
            "customer_name": "Acme",
            "probability": 10,
            "currency": "EUR",
            "status": "open",
            "value": "0.00",
            "closed_at": None,
        }
        self.assertEqual({key: body[key] for key in expected}, expected)
        deal = Deal.objects.get(pk=body["id"])
        self.assertEqual(deal.created_by, self.users[Role.MANAGER])
        change = DealStageChange.objects.get(deal=deal)
        self.assertEqual((change.from_stage, change.to_stage), (None, lead_stage))

    def test_a_given_stage_sets_the_probability_unless_one_is_given(self):
        proposal = str(self.stages["Proposal"].pk)
        customer = str(self.customer.pk)
        body = self.post("", {"title": "A", "customer": customer, "stage": proposal}).json()
        self.assertEqual((body["stage_name"], body["probability"]), ("Proposal", 50))
        body = self.post(
            "", {"title": "B", "customer": customer, "stage": proposal, "probability": 5}
        ).json()
        self.assertEqual(body["probability"], 5)
        body = self.post(
            "", {"title": "C", "customer": customer, "currency": "GBP", "exchange_rate": "1.2"}
        ).json()
        self.assertEqual(body["currency"], "GBP")

    def test_another_pipeline_without_a_stage_starts_at_its_first_stage(self):
        body = self.post(
            "", {"title": "R", "customer": str(self.customer.pk), "pipeline": str(self.second.pk)}
        ).json()
        self.assertEqual((body["stage_name"], body["probability"]), ("Renew", 60))

    def test_a_stage_of_another_pipeline_is_400(self):
        customer = str(self.customer.pk)
        response = self.post(
            "", {"title": "X", "customer": customer, "stage": str(self.renewal_stage.pk)}
        )
        self.assert_problem(response, 400, field="stage")
        response = self.post(
            "",
            {
                "title": "X",
                "customer": customer,
                "pipeline": str(self.second.pk),
                "stage": str(self.stages["Lead"].pk),
            },
        )
        self.assert_problem(response, 400, field="stage")
        self.assertEqual(Deal.objects.count(), 0)

    def test_references_to_another_organization_are_400(self):
        theirs = customer_create(organization=self.other, name="Theirs")
        their_pipeline = Pipeline.objects.get(organization=self.other, is_default=True)
        their_stage = their_pipeline.stages.get(order=1)
        their_team = Team.objects.create(organization=self.other, name="Their team")
        base = {"title": "X", "customer": str(self.customer.pk)}
        cases = {
            "customer": {**base, "customer": str(theirs.pk)},
            "stage": {**base, "stage": str(their_stage.pk)},
            "pipeline": {**base, "pipeline": str(their_pipeline.pk)},
            "team": {**base, "team": str(their_team.pk)},
            "assigned_to": {**base, "assigned_to": str(self.other_admin.pk)},
        }
        for field, data in cases.items():
            with self.subTest(field=field):
                self.assert_problem(self.post("", data), 400, field=field)
        self.assertEqual(Deal.objects.count(), 0)

    def test_money_and_probability_are_validated(self):
        base = {"title": "X", "customer": str(self.customer.pk)}
        for field, value in (
            ("value", "1.001"),
            ("value", "-1"),
            ("probability", 101),
            ("currency", "eur"),
        ):
            with self.subTest(field=field, value=value):
                self.assert_problem(self.post("", {**base, field: value}), 400, field=field)
        self.assertEqual(Deal.objects.count(), 0)


class DealLifecycleTests(DealCaseMixin, ApiTestCase):
    """Moving between stages (recorded), winning, losing, and the 409s of closed deals."""

    def setUp(self) -> None:
        """One open deal created through the API (its first stage recorded)."""
        super().setUp()
        response = self.post("", {"title": "Deal", "customer": str(self.customer.pk)})
        self.assertEqual(response.status_code, 201, response.content)
        self.deal_row = Deal.objects.get(pk=response.json()["id"])
        self.url = f"{self.deal_row.pk}/"

    def move(self, stage: Stage, role: str = Role.MANAGER):
        """Move the deal to ``stage``."""
        return self.post(f"{self.url}move-stage/", {"stage": str(stage.pk)}, role)

    def test_moves_are_recorded_and_listed_in_the_history_oldest_first(self):
        response = self.move(self.stages["Qualified"])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            (response.json()["stage_name"], response.json()["probability"]), ("Qualified", 25)
        )
        self.assertEqual(self.move(self.stages["Proposal"], Role.ADMIN).status_code, 200)
        history = self.manager.get(f"{DEALS}{self.url}history/").json()
        self.assertEqual(history["count"], 3)
        rows = [
            (row["from_stage_name"], row["to_stage_name"], row["changed_by"])
            for row in history["results"]
        ]
        manager, admin = str(self.users[Role.MANAGER].pk), str(self.users[Role.ADMIN].pk)
        self.assertEqual(
            rows,
            [
                (None, "Lead", manager),
                ("Lead", "Qualified", manager),
                ("Qualified", "Proposal", admin),
            ],
        )
        last = history["results"][-1]
        self.assertEqual(
            (last["from_stage"], last["to_stage"]),
            (str(self.stages["Qualified"].pk), str(self.stages["Proposal"].pk)),
        )
        self.assertIsNotNone(last["changed_at"])

    def test_a_list_filter_sent_to_the_history_does_not_hide_the_deal(self):
        """``?status=lost`` on an open deal's history is ignored, not a 404."""
        response = self.manager.get(f"{DEALS}{self.url}history/", {"status": "lost"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["count"], 1)

    def test_the_history_of_a_deal_of_another_organization_is_404(self):
        response = self.other_client.get(f"{DEALS}{self.url}history/")
        self.assert_problem(response, 404)

    def test_moving_to_the_same_stage_is_409(self):
        self.assert_problem(self.move(self.stages["Lead"]), 409, code="same_stage")
        self.assertEqual(self.deal_row.stage_changes.count(), 1)

    def test_moving_to_a_stage_of_another_pipeline_or_organization_is_400(self):
        self.assert_problem(self.move(self.renewal_stage), 400, field="stage")
        their_stage = Stage.objects.filter(organization=self.other).first()
        self.assert_problem(self.move(their_stage), 400, field="stage")
        self.deal_row.refresh_from_db()
        self.assertEqual(self.deal_row.stage, self.stages["Lead"])
        self.assertEqual(self.deal_row.stage_changes.count(), 1)

    def test_moving_to_the_won_stage_wins_the_deal(self):
        body = self.move(self.stages["Won"]).json()
        self.assertEqual((body["status"], body["probability"]), ("won", 100))
        self.assertIsNotNone(body["closed_at"])

    def test_winning_closes_the_deal_in_the_won_stage_and_is_audited(self):
        response = self.post(f"{self.url}win/")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(
            (body["status"], body["stage_name"], body["probability"]), ("won", "Won", 100)
        )
        self.assertIsNotNone(body["closed_at"])
        last = self.deal_row.stage_changes.order_by("-created_at").first()
        self.assertEqual(
            (last.from_stage, last.to_stage), (self.stages["Lead"], self.stages["Won"])
        )
        self.assertTrue(
            AuditEvent.objects.filter(action="deal.win", object_id=str(self.deal_row.pk)).exists()
        )

    def test_losing_needs_a_reason_and_closes_the_deal_in_the_lost_stage(self):
        self.assert_problem(self.post(f"{self.url}lose/"), 400, field="reason")
        self.deal_row.refresh_from_db()
        self.assertEqual(self.deal_row.status, "open")
        body = self.post(f"{self.url}lose/", {"reason": "Too expensive"}).json()
        self.assertEqual(
            (body["status"], body["stage_name"], body["probability"], body["lost_reason"]),
            ("lost", "Lost", 0, "Too expensive"),
        )
        event = AuditEvent.objects.get(action="deal.lose", object_id=str(self.deal_row.pk))
        self.assertEqual(event.changes, {"reason": "Too expensive"})

    def test_closing_a_closed_deal_is_409(self):
        self.assertEqual(self.post(f"{self.url}win/").status_code, 200)
        self.assert_problem(self.post(f"{self.url}win/"), 409, code="already_closed")
        response = self.post(f"{self.url}lose/", {"reason": "Changed mind"})
        self.assert_problem(response, 409, code="already_closed")
        self.deal_row.refresh_from_db()
        self.assertEqual((self.deal_row.status, self.deal_row.lost_reason), ("won", ""))
        lost = self.deal("Lost", status="lost", lost_reason="Gone")
        self.assert_problem(self.post(f"{lost.pk}/win/"), 409, code="already_closed")
        self.assert_problem(self.post(f"{lost.pk}/lose/", {"reason": "x"}), 409)
        lost.refresh_from_db()
        self.assertEqual((lost.status, lost.lost_reason), ("lost", "Gone"))

    def test_moving_a_closed_deal_is_409(self):
        self.post(f"{self.url}lose/", {"reason": "No"})
        self.assert_problem(self.move(self.stages["Proposal"]), 409, code="already_closed")
        response = self.manager.patch(
            f"{DEALS}{self.url}", {"stage": str(self.stages["Proposal"].pk)}, format="json"
        )
        self.assert_problem(response, 409, code="already_closed")
        self.deal_row.refresh_from_db()
        self.assertEqual((self.deal_row.status, self.deal_row.stage), ("lost", self.stages["Lost"]))

    def test_changing_the_stage_by_patch_is_checked_and_recorded(self):
        url = f"{DEALS}{self.url}"
        response = self.manager.patch(url, {"stage": str(self.renewal_stage.pk)}, format="json")
        self.assert_problem(response, 400, field="stage")
        response = self.manager.patch(url, {"pipeline": str(self.second.pk)}, format="json")
        self.assert_problem(response, 400, field="stage")
        response = self.manager.patch(
            url, {"stage": str(self.stages["Negotiation"].pk)}, format="json"
        )
        self.assertEqual(response.json()["stage_name"], "Negotiation")
        last = self.deal_row.stage_changes.order_by("-created_at").first()
        self.assertEqual(
            (last.from_stage, last.to_stage), (self.stages["Lead"], self.stages["Negotiation"])
        )
        response = self.manager.patch(
            url,
            {"pipeline": str(self.second.pk), "stage": str(self.renewal_stage.pk)},
            format="json",
        )
        self.assertEqual(response.json()["pipeline_name"], "Renewals")
        self.assertEqual(self.deal_row.stage_changes.count(), 3)

    def test_workers_move_their_own_deals_only(self):
        self.assertEqual(self.move(self.stages["Qualified"], Role.WORKER).status_code, 403)
        self.assertEqual(self.move(self.stages["Qualified"], Role.BASIC).status_code, 403)
        Deal.objects.filter(pk=self.deal_row.pk).update(assigned_to=self.users[Role.WORKER])
        self.assertEqual(self.move(self.stages["Qualified"], Role.WORKER).status_code, 200)


class DealListTests(DealCaseMixin, ApiTestCase):
    """Filters, search and orderings of the deal list on five known deals."""

    def setUp(self) -> None:
        """Five deals over stages whose names do not sort like their order."""
        super().setUp()
        self.today = timezone.localdate()
        self.ops = Team.objects.create(organization=self.org, name="Ops")
        self.bolt = customer_create(organization=self.org, name="Bolt Industries")
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]

        def day(offset):
            return self.today + datetime.timedelta(days=offset)

        self.deal(
            "Lead",
            title="Alpha",
            value=Decimal("100.00"),
            expected_close_date=day(30),
            assigned_to=worker,
            team=self.ops,
        )
        self.deal(
            "Negotiation",
            title="Beta",
            value=Decimal("300.00"),
            customer=self.bolt,
            expected_close_date=day(10),
            assigned_to=manager,
        )
        self.deal(
            "Qualified",
            title="Gamma",
            value=Decimal("50.00"),
            expected_close_date=day(20),
            assigned_to=worker,
        )
        self.deal(
            "Won",
            title="Delta",
            value=Decimal("1000.00"),
            status="won",
            expected_close_date=day(-5),
            team=self.ops,
        )
        self.deal(
            "Lost",
            title="Epsilon",
            value=Decimal("20.00"),
            status="lost",
            customer=self.bolt,
            expected_close_date=day(1),
        )
        their_customer = customer_create(organization=self.other, name="Acme")
        their_stage = Stage.objects.filter(organization=self.other, order=1).get()
        Deal.objects.create(
            organization=self.other,
            title="Alpha elsewhere",
            customer=their_customer,
            currency="USD",
            pipeline=their_stage.pipeline,
            stage=their_stage,
            probability=10,
        )

    def titles(self, query: str = "", role: str = Role.MANAGER) -> list[str]:
        """The deal titles the list answers for ``query``, in order."""
        response = self.clients[role].get(f"{DEALS}?{query}&page_size=100")
        self.assertEqual(response.status_code, 200, response.content)
        return [row["title"] for row in response.json()["results"]]

    def test_each_filter_keeps_exactly_its_deals(self):
        day = self.today.isoformat()
        ten = (self.today + datetime.timedelta(days=10)).isoformat()
        cases = {
            "status=open": {"Alpha", "Beta", "Gamma"},
            "status=won&status=lost": {"Delta", "Epsilon"},
            f"stage={self.stages['Negotiation'].pk}": {"Beta"},
            f"pipeline={self.pipeline.pk}": {"Alpha", "Beta", "Gamma", "Delta", "Epsilon"},
            f"pipeline={self.second.pk}": set(),
            f"customer={self.bolt.pk}": {"Beta", "Epsilon"},
            f"team={self.ops.pk}": {"Alpha", "Delta"},
            "min_value=100": {"Alpha", "Beta", "Delta"},
            "max_value=50": {"Gamma", "Epsilon"},
            "min_value=50&max_value=300": {"Alpha", "Beta", "Gamma"},
            f"start_date={day}": {"Alpha", "Beta", "Gamma", "Epsilon"},
            f"end_date={ten}": {"Beta", "Delta", "Epsilon"},
            f"start_date={day}&end_date={ten}": {"Beta", "Epsilon"},
            "search=bolt": {"Beta", "Epsilon"},
            "search=gamma": {"Gamma"},
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                self.assertEqual(set(self.titles(query)), expected)
        self.assertEqual(set(self.titles("assigned_to=me", Role.WORKER)), {"Alpha", "Gamma"})

    def test_orderings_follow_stage_order_status_value_and_close_date(self):
        cases = {
            "stage": ["Alpha", "Gamma", "Beta", "Delta", "Epsilon"],
            "-stage": ["Epsilon", "Delta", "Beta", "Gamma", "Alpha"],
            "status,value": ["Epsilon", "Gamma", "Alpha", "Beta", "Delta"],
            "-status,value": ["Delta", "Gamma", "Alpha", "Beta", "Epsilon"],
            "value": ["Epsilon", "Gamma", "Alpha", "Beta", "Delta"],
            "-value": ["Delta", "Beta", "Alpha", "Gamma", "Epsilon"],
            "expected_close_date": ["Delta", "Epsilon", "Beta", "Gamma", "Alpha"],
            "-expected_close_date": ["Alpha", "Gamma", "Beta", "Epsilon", "Delta"],
        }
        for ordering, expected in cases.items():
            with self.subTest(ordering=ordering):
                self.assertEqual(self.titles(f"ordering={ordering}"), expected)


class CustomerFiguresTests(DealCaseMixin, ApiTestCase):
    """``customers/{id}/`` sums its open and won deals in the base currency, exactly."""

    def test_open_and_won_values_are_exact_sums_of_the_customers_own_deals(self):
        self.deal("Lead", value=Decimal("100.10"))
        self.deal("Proposal", value=Decimal("200.20"))
        self.deal("Won", value=Decimal("0.01"), status="won")
        self.deal("Won", value=Decimal("999.99"), status="won")
        self.deal("Lost", value=Decimal("50.00"), status="lost")
        self.deal("Lead", value=Decimal("7000.00"), currency="USD")
        other = customer_create(organization=self.org, name="Other")
        self.deal("Lead", value=Decimal("1.00"), customer=other)
        body = self.manager.get(f"{CUSTOMERS}{self.customer.pk}/").json()
        self.assertEqual(
            (body["open_deals_value"], body["won_deals_value"]),
            (f"{Decimal('100.10') + Decimal('200.20')}", f"{Decimal('0.01') + Decimal('999.99')}"),
        )
        self.assertEqual((body["open_deals_value"], body["won_deals_value"]), ("300.30", "1000.00"))
        rows = self.manager.get(CUSTOMERS).json()["results"]
        figures = {row["name"]: (row["open_deals_value"], row["won_deals_value"]) for row in rows}
        self.assertEqual(figures, {"Acme": ("300.30", "1000.00"), "Other": ("1.00", "0.00")})

    def test_a_customer_without_deals_shows_zeros_and_one_with_deals_cannot_be_deleted(self):
        body = self.manager.get(f"{CUSTOMERS}{self.customer.pk}/").json()
        self.assertEqual((body["open_deals_value"], body["won_deals_value"]), ("0.00", "0.00"))
        self.deal("Lead", value=Decimal("5.00"))
        response = self.manager.delete(f"{CUSTOMERS}{self.customer.pk}/")
        self.assert_problem(response, 409, code="in_use")
        self.assertTrue(Customer.objects.filter(pk=self.customer.pk).exists())
