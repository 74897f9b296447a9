"""Lead scoring: the rule against its weights, organization weights, and the SQL twin."""

import itertools
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Lead
from valar.crm.scoring import DEFAULT_WEIGHTS, score, score_expression, weights_of

LEADS = "/api/v1/crm/leads/"


def lead_like(**fields) -> SimpleNamespace:
    """An unsaved lead with nothing known except ``fields``."""
    base = {
        "email": "",
        "phone": "",
        "company": "",
        "job_title": "",
        "source": "other",
        "estimated_value": None,
    }
    return SimpleNamespace(**{**base, **fields})


#: (what is known, expected score with DEFAULT_WEIGHTS)
DEFAULT_TABLE = [
    ({}, 0),
    ({"email": "a@b.test"}, 10),
    ({"phone": "+1 555"}, 10),
    ({"company": "Acme"}, 15),
    ({"job_title": "CTO"}, 10),
    ({"email": "a@b.test", "phone": "1", "company": "Acme", "job_title": "CTO"}, 45),
    ({"source": "website"}, 15),
    ({"source": "referral"}, 25),
    ({"source": "social_media"}, 0),
    ({"source": "partner"}, 20),
    ({"source": "event"}, 10),
    ({"source": "cold_call"}, 0),
    ({"source": "advertisement"}, 0),
    ({"source": "other"}, 0),
    ({"estimated_value": None}, 0),
    ({"estimated_value": Decimal("0")}, 0),
    ({"estimated_value": Decimal("10000")}, 0),
    ({"estimated_value": Decimal("10000.01")}, 10),
    ({"estimated_value": Decimal("50000")}, 10),
    ({"estimated_value": Decimal("50000.01")}, 15),
    ({"estimated_value": Decimal("100000")}, 15),
    ({"estimated_value": Decimal("100000.01")}, 20),
    ({"estimated_value": Decimal("999999999999.99")}, 20),
    ({"email": "a@b.test", "source": "partner", "estimated_value": Decimal("60000")}, 45),
    (
        {
            "email": "a@b.test",
            "phone": "1",
            "company": "Acme",
            "job_title": "CTO",
            "source": "referral",
            "estimated_value": Decimal("100000.01"),
        },
        90,
    ),
]

#: Every weight distinct, so a test notices when the wrong one is applied.
DISTINCT_WEIGHTS = {key: index + 1 for index, key in enumerate(DEFAULT_WEIGHTS)}
SOURCES = [choice for choice, _ in Lead.Source.choices]
VALUES = [
    None,
    Decimal("0"),
    Decimal("10000"),
    Decimal("10000.01"),
    Decimal("50000"),
    Decimal("50000.01"),
    Decimal("100000"),
    Decimal("100000.01"),
]
PRESENCE = {"email": "x@y.test", "phone": "555", "company": "Acme", "job_title": "Buyer"}


class ScoreFunctionTests(SimpleTestCase):
    """``score()`` against a table of leads and the default and other weights."""

    def test_each_fact_source_and_value_band_scores_its_default_weight(self):
        for fields, expected in DEFAULT_TABLE:
            with self.subTest(fields=fields):
                self.assertEqual(score(lead_like(**fields), DEFAULT_WEIGHTS), expected)

    def test_each_weight_is_read_from_its_own_key(self):
        weights = DISTINCT_WEIGHTS
        for field in PRESENCE:
            with self.subTest(field=field):
                self.assertEqual(
                    score(lead_like(**{field: PRESENCE[field]}), weights), weights[field]
                )
        for source in ("referral", "partner", "website", "event"):
            with self.subTest(source=source):
                self.assertEqual(
                    score(lead_like(source=source), weights), weights[f"source_{source}"]
                )
        bands = [
            ("10000.01", "value_over_10k"),
            ("50000.01", "value_over_50k"),
            ("100000.01", "value_over_100k"),
        ]
        for value, key in bands:
            with self.subTest(value=value):
                self.assertEqual(
                    score(lead_like(estimated_value=Decimal(value)), weights), weights[key]
                )

    def test_only_the_highest_value_band_counts(self):
        weights = {**DEFAULT_WEIGHTS, "value_over_100k": 1, "value_over_50k": 2}
        self.assertEqual(score(lead_like(estimated_value=Decimal("200000")), weights), 1)

    def test_the_score_is_capped_at_100(self):
        weights = {**DEFAULT_WEIGHTS, "email": 60, "phone": 60}
        self.assertEqual(score(lead_like(email="a@b.test", phone="1"), weights), 100)
        exact = {**DEFAULT_WEIGHTS, "email": 50, "phone": 50}
        self.assertEqual(score(lead_like(email="a@b.test", phone="1"), exact), 100)
        under = {**DEFAULT_WEIGHTS, "email": 50, "phone": 49}
        self.assertEqual(score(lead_like(email="a@b.test", phone="1"), under), 99)

    def test_configured_weights_override_the_defaults_and_unknown_keys_are_ignored(self):
        weights = weights_of({"lead_scoring_weights": {"email": 33, "surprise": 99}})
        self.assertEqual(weights, {**DEFAULT_WEIGHTS, "email": 33})
        self.assertEqual(weights_of({}), DEFAULT_WEIGHTS)
        self.assertEqual(weights_of(None), DEFAULT_WEIGHTS)


class ScoreExpressionTests(TenantFixtureMixin, ApiTestCase):
    """The SQL ``UPDATE`` expression gives exactly what ``score()`` gives."""

    module = "crm"

    def _varied_leads(self) -> list[Lead]:
        """Every combination of known facts, source and value band, saved unscored."""
        leads = []
        subsets = itertools.chain.from_iterable(
            itertools.combinations(PRESENCE, size) for size in range(len(PRESENCE) + 1)
        )
        for index, (known, source, value) in enumerate(
            itertools.product(list(subsets), SOURCES, VALUES)
        ):
            leads.append(
                Lead(
                    organization=self.org,
                    first_name=f"L{index}",
                    last_name="Varied",
                    source=source,
                    estimated_value=value,
                    score=0,
                    **{field: PRESENCE[field] for field in known},
                )
            )
        return Lead.objects.bulk_create(leads)

    def test_the_sql_expression_matches_score_for_every_combination(self):
        self._varied_leads()
        capped = {key: 30 for key in DEFAULT_WEIGHTS}
        for weights in (DEFAULT_WEIGHTS, DISTINCT_WEIGHTS, capped):
            with self.subTest(weights=weights):
                Lead.objects.filter(organization=self.org).update(score=score_expression(weights))
                leads = list(Lead.objects.filter(organization=self.org))
                self.assertEqual(len(leads), 16 * len(SOURCES) * len(VALUES))
                mismatches = [
                    (lead.first_name, lead.score, score(lead, weights))
                    for lead in leads
                    if lead.score != score(lead, weights)
                ]
                self.assertEqual(mismatches, [])
                if weights is capped:
                    self.assertEqual(max(lead.score for lead in leads), 100)


class OrganizationWeightsTests(TenantFixtureMixin, ApiTestCase):
    """Weights set in the organization's settings score new leads and re-score open ones."""

    module = "crm"

    def setUp(self) -> None:
        """Leads of every status, scored with the default weights, and one elsewhere."""
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.settings_url = f"/api/v1/organizations/{self.org.pk}/settings/"
        self.leads = {}
        for status in ("new", "contacted", "qualified", "unqualified", "converted"):
            response = self.admin.post(
                LEADS,
                {
                    "first_name": status,
                    "last_name": "Lead",
                    "email": f"{status}@lead.test",
                    "source": "referral",
                },
                format="json",
            )
            self.assertEqual(response.status_code, 201, response.content)
            self.assertEqual(response.json()["score"], 35)
            self.leads[status] = Lead.objects.get(pk=response.json()["id"])
        Lead.objects.filter(pk=self.leads["contacted"].pk).update(status="contacted")
        Lead.objects.filter(pk=self.leads["qualified"].pk).update(status="qualified")
        disqualify = f"{LEADS}{self.leads['unqualified'].pk}/disqualify/"
        self.assertEqual(self.admin.post(disqualify, {"reason": "No budget"}).status_code, 200)
        convert = f"{LEADS}{self.leads['converted'].pk}/convert/"
        self.assertEqual(self.admin.post(convert, {}, format="json").status_code, 201)
        self.elsewhere = Lead.objects.create(
            organization=self.other, first_name="Far", last_name="Away", email="f@a.test", score=10
        )

    def _scores(self) -> dict[str, int]:
        """The stored score of each lead by status."""
        return {status: Lead.objects.get(pk=lead.pk).score for status, lead in self.leads.items()}

    def test_new_weights_rescore_open_leads_only_in_one_update(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.admin.patch(
                self.settings_url,
                {"lead_scoring_weights": {"email": 40, "source_referral": 5}},
                format="json",
            )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json()["lead_scoring_weights"], {"email": 40, "source_referral": 5}
        )
        self.assertEqual(
            self._scores(),
            {"new": 45, "contacted": 45, "qualified": 45, "unqualified": 35, "converted": 35},
        )
        self.elsewhere.refresh_from_db()
        self.assertEqual(self.elsewhere.score, 10)
        lead_updates = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].startswith('UPDATE "crm_lead"')
        ]
        self.assertEqual(len(lead_updates), 1, lead_updates)

    def test_leads_saved_after_the_change_use_the_new_weights(self):
        weights = {"email": 1, "company": 2, "source_partner": 3, "value_over_10k": 4}
        self.admin.patch(self.settings_url, {"lead_scoring_weights": weights}, format="json")
        response = self.admin.post(
            LEADS,
            {
                "first_name": "After",
                "last_name": "Change",
                "email": "after@lead.test",
                "company": "Acme",
                "source": "partner",
                "estimated_value": "20000.00",
            },
            format="json",
        )
        self.assertEqual(response.json()["score"], 1 + 2 + 3 + 4)
        lead_id = self.leads["new"].pk
        changed = self.admin.patch(f"{LEADS}{lead_id}/", {"phone": "555"}, format="json")
        self.assertEqual(changed.json()["score"], 1 + 25 + 10)

    def test_unchanged_weights_do_not_rescore(self):
        Lead.objects.filter(pk=self.leads["new"].pk).update(score=3)
        self.admin.patch(self.settings_url, {"timezone": "Europe/Paris"}, format="json")
        self.assertEqual(self._scores()["new"], 3)

    def test_only_admins_change_the_weights(self):
        response = self.clients[Role.MANAGER].patch(
            self.settings_url, {"lead_scoring_weights": {"email": 90}}, format="json"
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._scores()["new"], 35)

    def test_weights_outside_0_to_100_are_refused(self):
        for weight in (-1, 101, "many"):
            with self.subTest(weight=weight):
                response = self.admin.patch(
                    self.settings_url, {"lead_scoring_weights": {"email": weight}}, format="json"
                )
                self.assert_problem(response, 400, field="lead_scoring_weights.email")
        self.assertEqual(self._scores()["new"], 35)


class ScoreReadOnlyTests(TenantFixtureMixin, ApiTestCase):
    """The API computes ``score``; a client cannot set it."""

    module = "crm"

    def test_a_score_in_the_body_is_ignored_on_create_and_update(self):
        client = self.clients[Role.MANAGER]
        response = client.post(
            LEADS, {"first_name": "A", "last_name": "B", "score": 99}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["score"], 0)
        url = f"{LEADS}{response.json()['id']}/"
        response = client.patch(url, {"score": 77, "company": "Acme"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["score"], 15)
        self.assertEqual(Lead.objects.get(pk=response.json()["id"]).score, 15)

    def test_options_describes_the_score_as_read_only(self):
        fields = self.clients[Role.MANAGER].options(LEADS).json()["actions"]["POST"]
        self.assertTrue(fields["score"]["read_only"])
        self.assertFalse(fields["estimated_value"]["read_only"])
