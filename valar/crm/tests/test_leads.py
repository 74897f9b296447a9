"""Leads: qualify, disqualify, convert (all or nothing), filters, money input, foreign keys."""

import datetime
import json
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from valar.audit.models import AuditEvent
from valar.core.errors import DomainError
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer, Deal, Lead, Pipeline
from valar.crm.services import customer_create
from valar.organizations.models import Team

LEADS = "/api/v1/crm/leads/"


def noon(day: datetime.date) -> datetime.datetime:
    """Midday of ``day`` in the server's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


class LeadCaseMixin(TenantFixtureMixin):
    """Helpers to make leads and call their actions."""

    module = "crm"

    def lead(self, **fields) -> Lead:
        """A lead of ``self.org`` (first and last names by default)."""
        fields.setdefault("first_name", "Grace")
        fields.setdefault("last_name", "Hopper")
        return Lead.objects.create(organization=self.org, **fields)

    def act(self, lead: Lead, action: str, data=None, role: str = Role.MANAGER):
        """POST ``leads/{id}/{action}/`` as ``role``."""
        return self.clients[role].post(f"{LEADS}{lead.pk}/{action}/", data or {}, format="json")


class LeadQualificationTests(LeadCaseMixin, ApiTestCase):
    """``qualify/`` and ``disqualify/`` and every conflict they refuse."""

    def test_qualifying_a_new_lead_marks_it_qualified_and_is_audited(self):
        lead = self.lead(disqualification_reason="old")
        response = self.act(lead, "qualify")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "qualified")
        lead.refresh_from_db()
        self.assertEqual((lead.status, lead.disqualification_reason), ("qualified", ""))
        event = AuditEvent.objects.get(action="lead.qualify", object_id=str(lead.pk))
        self.assertEqual(event.organization_id, self.org.pk)
        self.assertEqual(event.actor_id, self.users[Role.MANAGER].pk)

    def test_qualifying_twice_is_409(self):
        lead = self.lead(status="qualified")
        self.assert_problem(self.act(lead, "qualify"), 409, code="already_qualified")

    def test_qualifying_a_converted_lead_is_409(self):
        lead = self.lead(status="converted")
        self.assert_problem(self.act(lead, "qualify"), 409, code="already_converted")
        lead.refresh_from_db()
        self.assertEqual(lead.status, "converted")

    def test_a_disqualified_lead_can_be_qualified_again(self):
        lead = self.lead(status="unqualified", disqualification_reason="No budget")
        self.assertEqual(self.act(lead, "qualify").json()["disqualification_reason"], "")

    def test_disqualifying_needs_a_reason_and_keeps_it(self):
        lead = self.lead()
        self.assert_problem(self.act(lead, "disqualify"), 400, field="reason")
        self.assert_problem(self.act(lead, "disqualify", {"reason": ""}), 400, field="reason")
        lead.refresh_from_db()
        self.assertEqual(lead.status, "new")
        response = self.act(lead, "disqualify", {"reason": "No budget"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            (response.json()["status"], response.json()["disqualification_reason"]),
            ("unqualified", "No budget"),
        )
        event = AuditEvent.objects.get(action="lead.disqualify", object_id=str(lead.pk))
        self.assertEqual(event.changes, {"reason": "No budget"})

    def test_disqualifying_twice_is_409(self):
        lead = self.lead(status="unqualified", disqualification_reason="First")
        response = self.act(lead, "disqualify", {"reason": "Again"})
        self.assert_problem(response, 409, code="already_unqualified")
        lead.refresh_from_db()
        self.assertEqual(lead.disqualification_reason, "First")

    def test_disqualifying_a_converted_lead_is_409(self):
        lead = self.lead(status="converted")
        response = self.act(lead, "disqualify", {"reason": "Late"})
        self.assert_problem(response, 409, code="already_converted")

    def test_workers_act_on_their_own_leads_only_and_basic_members_never(self):
        mine = self.lead(assigned_to=self.users[Role.WORKER])
        theirs = self.lead(assigned_to=self.users[Role.MANAGER])
        self.assertEqual(self.act(mine, "qualify", role=Role.WORKER).status_code, 200)
        self.assertEqual(self.act(theirs, "qualify", role=Role.WORKER).status_code, 403)
        self.assertEqual(self.act(theirs, "convert", role=Role.BASIC).status_code, 403)
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, "new")

    def test_a_lead_of_another_organization_is_404_for_every_action(self):
        lead = Lead.objects.create(organization=self.other, first_name="A", last_name="B")
        for action in ("qualify", "disqualify", "convert"):
            with self.subTest(action=action):
                self.assert_problem(self.act(lead, action, {"reason": "x"}), 404)
        lead.refresh_from_db()
        self.assertEqual(lead.status, "new")

    def test_the_status_field_cannot_convert_and_a_converted_lead_keeps_its_status(self):
        lead = self.lead()
        url = f"{LEADS}{lead.pk}/"
        client = self.clients[Role.MANAGER]
        response = client.patch(url, {"status": "converted"}, format="json")
        self.assert_problem(response, 400, field="status")
        Lead.objects.filter(pk=lead.pk).update(status="converted")
        response = client.patch(url, {"status": "new"}, format="json")
        self.assert_problem(response, 409, code="already_converted")
        lead.refresh_from_db()
        self.assertEqual(lead.status, "converted")


class LeadConversionTests(LeadCaseMixin, ApiTestCase):
    """``convert/``: a customer (and an open deal) from the lead, all or nothing."""

    def setUp(self) -> None:
        """A qualified lead with everything known."""
        super().setUp()
        self.team = Team.objects.create(organization=self.org, name="Sales team")
        self.qualified = self.lead(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@engines.test",
            phone="+44 1",
            company="Engines Ltd",
            status="qualified",
            assigned_to=self.users[Role.WORKER],
            team=self.team,
        )

    def test_converting_creates_a_customer_from_the_lead_and_is_audited(self):
        response = self.act(self.qualified, "convert")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        customer = Customer.objects.get(organization=self.org)
        self.assertEqual(body["customer"]["id"], str(customer.pk))
        self.assertEqual(
            (customer.name, customer.email, customer.phone, customer.company, customer.status),
            ("Engines Ltd", "ada@engines.test", "+44 1", "Engines Ltd", "active"),
        )
        self.assertEqual(customer.assigned_to, self.users[Role.WORKER])
        self.assertEqual(customer.source_lead, self.qualified)
        self.assertIsNone(body["deal"])
        self.assertEqual(Deal.objects.count(), 0)
        self.qualified.refresh_from_db()
        self.assertEqual(self.qualified.status, "converted")
        self.assertEqual(self.qualified.converted_customer, customer)
        self.assertIsNotNone(self.qualified.converted_at)
        self.assertEqual(body["lead"]["status"], "converted")
        self.assertEqual(body["lead"]["converted_customer"], str(customer.pk))
        self.assertTrue(
            AuditEvent.objects.filter(
                action="lead.convert", object_id=str(self.qualified.pk), organization=self.org
            ).exists()
        )

    def test_a_lead_without_a_company_becomes_a_customer_named_after_the_person(self):
        lead = self.lead(first_name="Alan", last_name="Turing")
        self.assertEqual(self.act(lead, "convert").json()["customer"]["name"], "Alan Turing")

    def test_converting_with_a_deal_opens_it_in_the_default_pipelines_first_stage(self):
        customer_create(organization=self.other, name="Noise")
        response = self.act(self.qualified, "convert", {"create_deal": True, "value": "2500.50"})
        self.assertEqual(response.status_code, 201, response.content)
        deal = Deal.objects.get(organization=self.org)
        pipeline = Pipeline.objects.get(organization=self.org, is_default=True)
        self.assertEqual(deal.pipeline, pipeline)
        self.assertEqual(deal.stage, pipeline.stages.get(order=1))
        self.assertEqual(
            (deal.status, deal.value, deal.currency, deal.probability),
            ("open", Decimal("2500.50"), "USD", 10),
        )
        self.assertEqual(deal.customer_id, Customer.objects.get(organization=self.org).pk)
        self.assertEqual((deal.assigned_to, deal.team), (self.users[Role.WORKER], self.team))
        self.assertEqual(deal.title, "Engines Ltd: first deal")
        self.assertEqual(response.json()["deal"]["id"], str(deal.pk))
        self.assertEqual(response.json()["deal"]["stage_name"], "Lead")
        self.assertEqual(response.json()["customer"]["open_deals_value"], "2500.50")
        self.assertEqual(deal.stage_changes.count(), 1)

    def test_a_deal_title_can_be_given(self):
        data = {"create_deal": True, "value": 10, "title": "Pilot"}
        self.assertEqual(self.act(self.qualified, "convert", data).json()["deal"]["title"], "Pilot")

    def test_converting_twice_is_409_and_creates_nothing_more(self):
        self.assertEqual(self.act(self.qualified, "convert").status_code, 201)
        response = self.act(self.qualified, "convert", {"create_deal": True, "value": "1.00"})
        self.assert_problem(response, 409, code="already_converted")
        self.assertEqual(Customer.objects.count(), 1)
        self.assertEqual(Deal.objects.count(), 0)

    def test_converting_an_unqualified_lead_is_409_and_creates_nothing(self):
        lead = self.lead(status="unqualified", disqualification_reason="No")
        response = self.act(lead, "convert", {"create_deal": True, "value": "1.00"})
        self.assert_problem(response, 409, code="unqualified")
        self.assertEqual(Customer.objects.count(), 0)
        lead.refresh_from_db()
        self.assertEqual(lead.status, "unqualified")

    def test_an_invalid_deal_value_refuses_the_conversion(self):
        response = self.act(self.qualified, "convert", {"create_deal": True, "value": "1.234"})
        self.assert_problem(response, 400, field="value")
        self.assertEqual(Customer.objects.count(), 0)

    def _assert_nothing_persisted(self) -> None:
        """Neither the customer nor the lead's new status survived the failure."""
        self.assertEqual(Customer.objects.count(), 0)
        self.assertEqual(Deal.objects.count(), 0)
        self.qualified.refresh_from_db()
        self.assertEqual(self.qualified.status, "qualified")
        self.assertIsNone(self.qualified.converted_customer)
        self.assertIsNone(self.qualified.converted_at)
        self.assertFalse(AuditEvent.objects.filter(action="lead.convert").exists())

    def test_a_refused_deal_leaves_neither_customer_nor_status_change(self):
        failure = DomainError("No deals today.", errors={"value": ["Refused."]})
        with mock.patch("valar.crm.services.deal_create", side_effect=failure) as deal_create:
            response = self.act(self.qualified, "convert", {"create_deal": True, "value": "9.00"})
        deal_create.assert_called_once()
        self.assert_problem(response, 400, field="value")
        self._assert_nothing_persisted()

    def test_a_crash_while_creating_the_deal_leaves_neither_customer_nor_status_change(self):
        failure = RuntimeError("database went away")
        with (
            mock.patch("valar.crm.services.deal_create", side_effect=failure),
            self.assertLogs("valar.errors", level="ERROR"),
        ):
            response = self.act(self.qualified, "convert", {"create_deal": True, "value": "9.00"})
        self.assert_problem(response, 500)
        self._assert_nothing_persisted()


class LeadFilterTests(LeadCaseMixin, ApiTestCase):
    """Each filter, the search and the orderings of the lead list, on four known leads."""

    def setUp(self) -> None:
        """Four leads with distinct statuses, sources, owners, teams, scores, values, dates."""
        super().setUp()
        self.today = timezone.localdate()
        self.ops = Team.objects.create(organization=self.org, name="Ops")
        self.sales = Team.objects.create(organization=self.org, name="Sales")
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        people = [
            ("Alice", "Archer", "alice@alpha.test", "Alpha", "111"),
            ("Bob", "Baker", "bob@beta.test", "Beta", "222"),
            ("Cara", "Cole", "cara@gamma.test", "Gamma Corp", "333"),
            ("Dan", "Drake", "", "", ""),
        ]
        facts = [
            ("new", "website", worker, self.ops, 10, "300.00", 10),
            ("contacted", "referral", manager, self.sales, 50, "100.00", 5),
            ("qualified", "partner", worker, None, 80, "200.00", 1),
            ("unqualified", "website", None, self.ops, 30, "400.00", 0),
        ]
        for (first, last, email, company, phone), row in zip(people, facts, strict=True):
            status, source, owner, team, score, value, age = row
            lead = self.lead(
                first_name=first,
                last_name=last,
                email=email,
                company=company,
                phone=phone,
                status=status,
                source=source,
                assigned_to=owner,
                team=team,
                score=score,
                estimated_value=Decimal(value),
            )
            Lead.objects.filter(pk=lead.pk).update(
                created_at=noon(self.today - datetime.timedelta(days=age))
            )
        Lead.objects.create(
            organization=self.other, first_name="Alice", last_name="Elsewhere", score=99
        )

    def names(self, query: str = "", role: str = Role.MANAGER) -> list[str]:
        """The first names the list answers for ``query``, in order."""
        response = self.clients[role].get(f"{LEADS}?{query}&page_size=100")
        self.assertEqual(response.status_code, 200, response.content)
        return [row["first_name"] for row in response.json()["results"]]

    def test_status_filter_accepts_one_or_several_statuses(self):
        self.assertEqual(self.names("status=new"), ["Alice"])
        self.assertEqual(set(self.names("status=new&status=qualified")), {"Alice", "Cara"})
        self.assert_problem(self.clients[Role.MANAGER].get(f"{LEADS}?status=lost"), 400)

    def test_source_filter(self):
        self.assertEqual(set(self.names("source=website")), {"Alice", "Dan"})
        self.assertEqual(self.names("source=partner"), ["Cara"])

    def test_assigned_to_me_is_the_caller(self):
        self.assertEqual(set(self.names("assigned_to=me", Role.WORKER)), {"Alice", "Cara"})
        self.assertEqual(self.names("assigned_to=me", Role.MANAGER), ["Bob"])
        self.assertEqual(self.names("assigned_to=me", Role.ADMIN), [])
        manager_id = self.users[Role.MANAGER].pk
        self.assertEqual(self.names(f"assigned_to={manager_id}", Role.WORKER), ["Bob"])
        response = self.clients[Role.MANAGER].get(f"{LEADS}?assigned_to=someone")
        self.assert_problem(response, 400, field="assigned_to")

    def test_team_filter(self):
        self.assertEqual(set(self.names(f"team={self.ops.pk}")), {"Alice", "Dan"})
        self.assertEqual(self.names(f"team={self.sales.pk}"), ["Bob"])

    def test_min_score_is_a_whole_number(self):
        for value in ("0.5", "abc", ""):
            with self.subTest(min_score=value):
                response = self.clients[Role.MANAGER].get(f"{LEADS}?min_score={value}")
                self.assert_problem(response, 400, field="min_score", code="invalid")

    def test_min_score_is_inclusive(self):
        self.assertEqual(set(self.names("min_score=50")), {"Bob", "Cara"})
        self.assertEqual(self.names("min_score=51"), ["Cara"])
        self.assertEqual(len(self.names("min_score=0")), 4)

    def test_created_date_range_is_inclusive(self):
        five_days_ago = (self.today - datetime.timedelta(days=5)).isoformat()
        self.assertEqual(set(self.names(f"start_date={five_days_ago}")), {"Bob", "Cara", "Dan"})
        self.assertEqual(set(self.names(f"end_date={five_days_ago}")), {"Alice", "Bob"})
        both = f"start_date={five_days_ago}&end_date={five_days_ago}"
        self.assertEqual(self.names(both), ["Bob"])
        backwards = f"start_date={self.today.isoformat()}&end_date={five_days_ago}"
        self.assert_problem(self.clients[Role.MANAGER].get(f"{LEADS}?{backwards}"), 400)

    def test_search_covers_names_email_company_and_phone(self):
        cases = {
            "Archer": ["Alice"],
            "bob": ["Bob"],
            "gamma.test": ["Cara"],
            "Gamma Corp": ["Cara"],
            "333": ["Cara"],
            "Dan": ["Dan"],
            "alpha": ["Alice"],
            "nobody": [],
        }
        for term, expected in cases.items():
            with self.subTest(term=term):
                self.assertEqual(self.names(f"search={term}"), expected)

    def test_ordering_by_score_created_at_and_estimated_value(self):
        cases = {
            "score": ["Alice", "Dan", "Bob", "Cara"],
            "-score": ["Cara", "Bob", "Dan", "Alice"],
            "created_at": ["Alice", "Bob", "Cara", "Dan"],
            "-created_at": ["Dan", "Cara", "Bob", "Alice"],
            "estimated_value": ["Bob", "Cara", "Alice", "Dan"],
            "-estimated_value": ["Dan", "Alice", "Cara", "Bob"],
        }
        for ordering, expected in cases.items():
            with self.subTest(ordering=ordering):
                self.assertEqual(self.names(f"ordering={ordering}"), expected)
        self.assertEqual(self.names(), ["Dan", "Cara", "Bob", "Alice"])


class LeadInputTests(LeadCaseMixin, ApiTestCase):
    """Money is exact and foreign keys stay inside the organization."""

    def post_raw(self, body: str):
        """POST a lead from a literal JSON body (so numbers reach the parser untouched)."""
        return self.clients[Role.MANAGER].post(LEADS, body, content_type="application/json")

    def test_estimated_value_refuses_anything_but_an_exact_non_negative_amount(self):
        refused = [
            '"10.123"',
            "10.123",
            "-5",
            '"-5"',
            "-0.01",
            '"NaN"',
            '"Infinity"',
            '"1e400"',
            "1e400",
            '"1000000000000.00"',
            '"ten"',
        ]
        for literal in refused:
            with self.subTest(value=literal):
                body = f'{{"first_name": "A", "last_name": "B", "estimated_value": {literal}}}'
                self.assert_problem(self.post_raw(body), 400, field="estimated_value")
        for constant in ("NaN", "Infinity", "-Infinity"):
            with self.subTest(value=constant):
                body = f'{{"first_name": "A", "last_name": "B", "estimated_value": {constant}}}'
                self.assert_problem(self.post_raw(body), 400)
        self.assertEqual(Lead.objects.count(), 0)

    def test_a_blank_string_is_neither_an_amount_nor_an_id(self):
        for field in ("estimated_value", "team", "assigned_to"):
            with self.subTest(field=field):
                body = f'{{"first_name": "A", "last_name": "B", "{field}": ""}}'
                self.assert_problem(self.post_raw(body), 400, field=field, code="invalid")
        self.assertEqual(Lead.objects.count(), 0)

    def test_estimated_value_keeps_exact_amounts_with_two_decimals(self):
        accepted = {
            "0.1": ("0.10", Decimal("0.10")),
            '"0.1"': ("0.10", Decimal("0.10")),
            "12": ("12.00", Decimal("12")),
            '"999999999999.99"': ("999999999999.99", Decimal("999999999999.99")),
            "0": ("0.00", Decimal("0")),
            "null": (None, None),
        }
        for literal, (shown, stored) in accepted.items():
            with self.subTest(value=literal):
                body = json.dumps({"first_name": "A", "last_name": "B"})[:-1]
                response = self.post_raw(f'{body}, "estimated_value": {literal}}}')
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(response.json()["estimated_value"], shown)
                self.assertEqual(Lead.objects.get(pk=response.json()["id"]).estimated_value, stored)

    def test_a_team_or_member_of_another_organization_is_refused(self):
        foreign_team = Team.objects.create(organization=self.other, name="Theirs")
        own_team = Team.objects.create(organization=self.org, name="Ours")
        client = self.clients[Role.MANAGER]
        base = {"first_name": "A", "last_name": "B"}
        response = client.post(LEADS, {**base, "team": str(foreign_team.pk)}, format="json")
        self.assert_problem(response, 400, field="team")
        response = client.post(
            LEADS, {**base, "assigned_to": str(self.other_admin.pk)}, format="json"
        )
        self.assert_problem(response, 400, field="assigned_to")
        self.assertEqual(Lead.objects.count(), 0)
        response = client.post(
            LEADS,
            {**base, "team": str(own_team.pk), "assigned_to": str(self.users[Role.BASIC].pk)},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        lead = Lead.objects.get()
        response = client.patch(f"{LEADS}{lead.pk}/", {"team": str(foreign_team.pk)}, format="json")
        self.assert_problem(response, 400, field="team")
        lead.refresh_from_db()
        self.assertEqual(lead.team, own_team)

    def test_names_are_required_and_the_source_is_a_known_one(self):
        client = self.clients[Role.MANAGER]
        self.assert_problem(
            client.post(LEADS, {"first_name": "A"}, format="json"), 400, field="last_name"
        )
        response = client.post(
            LEADS, {"first_name": "A", "last_name": "B", "source": "fax"}, format="json"
        )
        self.assert_problem(response, 400, field="source")
