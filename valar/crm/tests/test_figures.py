"""Sales figures from the selectors and endpoints, against numbers computed in the test."""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from valar.core.filters import DateRangeFilterSet
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm import selectors, services
from valar.crm.models import Deal, Lead, Pipeline, Stage
from valar.crm.services import customer_create
from valar.organizations.models import Membership, Organization, Team

CENT = Decimal("0.01")
PIPELINES = "/api/v1/crm/pipelines/"


@dataclass
class DealSpec:
    """One deal of the scenario and everything the expected figures are computed from."""

    key: str
    value: str
    path: list[str]
    outcome: str = "open"
    owner: str | None = None
    team: str | None = None
    currency: str = "USD"
    #: The rate to the base currency (USD) a deal in another currency is fixed at.
    rate: str = "1"
    probability: int | None = None
    closed_days_ago: int | None = None
    pipeline: str = "default"
    visited: list[str] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """The deal's value."""
        return Decimal(self.value)

    @property
    def base(self) -> Decimal:
        """The deal's value in the base currency: value x rate, half-up to the cent."""
        return (self.amount * Decimal(self.rate)).quantize(CENT, ROUND_HALF_UP)


def scenario() -> list[DealSpec]:
    """The deals of the scenario: stages walked, outcome, owner, team, currency."""
    return [
        DealSpec("d1", "1000.00", ["Lead", "Qualified", "Proposal"], owner="worker", team="ops"),
        DealSpec("d2", "250.50", ["Lead", "Qualified"], "won", "worker", "ops"),
        DealSpec("d3", "99.99", ["Lead"], "lost", "manager", "sales"),
        DealSpec("d4", "333.33", ["Negotiation"], owner="manager", probability=33),
        DealSpec(
            "d5",
            "4000.00",
            ["Lead", "Qualified", "Proposal", "Negotiation"],
            "won",
            "manager",
            "sales",
        ),
        DealSpec("d6", "10.00", ["Lead"]),
        DealSpec("d7", "5000.00", ["Lead"], "won", "worker", "ops", currency="EUR", rate="1.085"),
        DealSpec("d8", "700.00", ["Lead"], "won", "worker", "ops", closed_days_ago=40),
        DealSpec("d9", "123.45", ["Renew"], owner="worker", pipeline="second"),
        DealSpec("d10", "5.00", ["Lead"], "lost", "worker", "ops", closed_days_ago=40),
        DealSpec("d11", "777.00", ["Lead", "Qualified"], currency="EUR", rate="1.1234"),
    ]


class FiguresCaseMixin(TenantFixtureMixin):
    """The scenario built through the services in ``org``, and a smaller copy in ``other``."""

    module = "crm"

    def setUp(self) -> None:
        """Build the deals by creating, moving, winning and losing them."""
        super().setUp()
        self.today = timezone.localdate()
        self.pipeline = Pipeline.objects.get(organization=self.org, is_default=True)
        self.stages = {stage.name: stage for stage in self.pipeline.stages.all()}
        self.second = Pipeline.objects.create(organization=self.org, name="Renewals")
        self.renew = Stage.objects.create(
            organization=self.org, pipeline=self.second, name="Renew", order=1, probability=60
        )
        self.teams = {
            name: Team.objects.create(organization=self.org, name=name) for name in ("ops", "sales")
        }
        self.specs = scenario()
        self.deals = {spec.key: self.build(self.org, spec) for spec in self.specs}
        self.build_other_organization()

    def tenant(self, organization: Organization) -> Tenant:
        """The organization acting through its admin."""
        membership = Membership.objects.get(organization=organization, role=Role.ADMIN)
        return Tenant(organization=organization, membership=membership)

    def build(self, organization: Organization, spec: DealSpec) -> Deal:
        """Create the deal of ``spec``, walk its path and close it as it says."""
        tenant = self.tenant(organization)
        pipeline = Pipeline.objects.get(organization=organization, is_default=True)
        if spec.pipeline == "second":
            pipeline = Pipeline.objects.get(organization=organization, name="Renewals")
        stages = {stage.name: stage for stage in pipeline.stages.all()}
        data = {
            "title": spec.key,
            "customer": customer_create(organization=organization, name=spec.key),
            "value": spec.amount,
            "currency": spec.currency,
            "exchange_rate": Decimal(spec.rate),
            "pipeline": pipeline,
            "stage": stages[spec.path[0]],
        }
        if spec.probability is not None:
            data["probability"] = spec.probability
        if organization == self.org:
            data["assigned_to"] = self.users[spec.owner] if spec.owner else None
            data["team"] = self.teams[spec.team] if spec.team else None
        deal = services.deal_create(tenant=tenant, data=data)
        spec.visited = list(spec.path)
        for name in spec.path[1:]:
            deal = services.deal_move_stage(tenant=tenant, deal=deal, stage=stages[name])
        if spec.outcome == "won":
            deal = services.deal_win(tenant=tenant, deal=deal)
            spec.visited.append("Won")
        elif spec.outcome == "lost":
            deal = services.deal_lose(tenant=tenant, deal=deal, reason="No")
            spec.visited.append("Lost")
        if spec.closed_days_ago is not None:
            closed = timezone.now() - datetime.timedelta(days=spec.closed_days_ago)
            Deal.objects.filter(pk=deal.pk).update(closed_at=closed)
        return deal

    def build_other_organization(self) -> None:
        """Deals of another organization that must never count."""
        Pipeline.objects.create(organization=self.other, name="Renewals")
        for spec in scenario():
            if spec.pipeline == "default":
                self.build(self.other, spec)

    def period(self, days: int) -> dict:
        """The last ``days`` days up to today."""
        return {"start_date": self.today - datetime.timedelta(days=days), "end_date": self.today}

    def closed_within(self, spec: DealSpec, days: int) -> bool:
        """Whether the deal of ``spec`` was closed within the last ``days`` days."""
        return spec.outcome != "open" and (spec.closed_days_ago or 0) <= days

    def in_base(self) -> list[DealSpec]:
        """Every deal: each counts, at its value in the base currency (``base``)."""
        return list(self.specs)


class DealFiguresTests(FiguresCaseMixin, ApiTestCase):
    """Win rate, won value and the weighted open pipeline."""

    def test_deal_figures_match_the_scenario(self):
        for days in (7, 60):
            with self.subTest(days=days):
                closed = [s for s in self.in_base() if self.closed_within(s, days)]
                won = [s for s in closed if s.outcome == "won"]
                lost = [s for s in closed if s.outcome == "lost"]
                open_ = [s for s in self.in_base() if s.outcome == "open"]
                probability = {"Renew": 60, **{n: s.probability for n, s in self.stages.items()}}
                weighted = sum(
                    s.base * (s.probability or probability[s.path[-1]]) / 100 for s in open_
                )
                expected = {
                    "won": len(won),
                    "lost": len(lost),
                    "won_value": sum(s.base for s in won),
                    "open": len(open_),
                    "pipeline_value": sum(s.base for s in open_),
                    "weighted_value": weighted.quantize(CENT, ROUND_HALF_UP),
                    "win_rate": len(won) / (len(won) + len(lost)),
                }
                figures = selectors.deal_figures(organization=self.org, **self.period(days))
                self.assertEqual(figures, expected)
        figures = selectors.deal_figures(organization=self.org, **self.period(7))
        # d7 (EUR 5000.00 at 1.085) and d11 (EUR 777.00 at 1.1234) count in USD.
        self.assertEqual((figures["won"], figures["lost"]), (3, 1))
        self.assertEqual(figures["won_value"], Decimal("9675.50"))
        self.assertAlmostEqual(figures["win_rate"], 3 / 4)
        self.assertEqual(figures["pipeline_value"], Decimal("2339.66"))
        self.assertEqual(figures["weighted_value"], Decimal("903.29"))

    def test_a_period_without_closed_deals_has_no_win_rate(self):
        long_ago = self.today - datetime.timedelta(days=400)
        figures = selectors.deal_figures(
            organization=self.org, start_date=long_ago, end_date=long_ago
        )
        self.assertEqual((figures["won"], figures["lost"], figures["win_rate"]), (0, 0, None))
        self.assertEqual(figures["won_value"], Decimal("0"))
        self.assertEqual(figures["open"], 5)

    def test_won_value_by_assignee_and_team(self):
        ids = {"worker": self.users[Role.WORKER].pk, "manager": self.users[Role.MANAGER].pk}
        teams = {name: team.pk for name, team in self.teams.items()}
        for days in (7, 60):
            for group_by, keys, attribute in (
                ("assigned_to", ids, "owner"),
                ("team", teams, "team"),
            ):
                with self.subTest(days=days, group_by=group_by):
                    totals: dict = {}
                    for spec in self.in_base():
                        key = getattr(spec, attribute)
                        if spec.outcome == "won" and key and self.closed_within(spec, days):
                            count, value = totals.get(keys[key], (0, Decimal(0)))
                            totals[keys[key]] = (count + 1, value + spec.base)
                    expected = sorted(
                        (
                            {group_by: key, "deals": count, "value": value}
                            for key, (count, value) in totals.items()
                        ),
                        key=lambda row: (-row["value"], str(row[group_by])),
                    )
                    rows = selectors.won_value_by(
                        organization=self.org, group_by=group_by, **self.period(days)
                    )
                    self.assertEqual(rows, expected)
        rows = selectors.won_value_by(organization=self.org, group_by="team", **self.period(60))
        self.assertEqual(
            [(row["team"], row["value"]) for row in rows],
            [(teams["ops"], Decimal("6375.50")), (teams["sales"], Decimal("4000.00"))],
        )

    def test_won_value_by_refuses_other_groupings(self):
        with self.assertRaises(ValueError):
            selectors.won_value_by(organization=self.org, group_by="customer", **self.period(7))


class StageFiguresTests(FiguresCaseMixin, ApiTestCase):
    """Value by stage and the funnel, from the selectors and the endpoints."""

    def expected_value_by_stage(self) -> list[tuple]:
        """(name, count, value, weighted) per stage of the default pipeline, open deals only."""
        rows = []
        for stage in self.pipeline.stages.order_by("order"):
            here = [
                s
                for s in self.in_base()
                if s.outcome == "open" and s.pipeline == "default" and s.path[-1] == stage.name
            ]
            weighted = sum(
                (s.base * (s.probability or stage.probability) / 100 for s in here), Decimal(0)
            )
            rows.append(
                (
                    stage.name,
                    len(here),
                    sum((s.base for s in here), Decimal(0)),
                    weighted.quantize(CENT, ROUND_HALF_UP),
                )
            )
        return rows

    def expected_funnel(self) -> list[tuple]:
        """(name, deals that ever reached the stage, their value) per stage."""
        rows = []
        for stage in self.pipeline.stages.order_by("order"):
            reached = [
                s for s in self.in_base() if s.pipeline == "default" and stage.name in s.visited
            ]
            rows.append((stage.name, len(reached), sum((s.base for s in reached), Decimal(0))))
        return rows

    def test_pipeline_value_by_stage_weights_open_deals_by_probability(self):
        rows = selectors.pipeline_value_by_stage(organization=self.org, pipeline=self.pipeline)
        self.assertEqual(
            [(r["name"], r["deal_count"], r["value"], r["weighted"]) for r in rows],
            self.expected_value_by_stage(),
        )
        self.assertEqual(
            [(r["name"], r["weighted"]) for r in rows if r["deal_count"]],
            [
                ("Lead", Decimal("1.00")),
                ("Qualified", Decimal("218.22")),
                ("Proposal", Decimal("500.00")),
                ("Negotiation", Decimal("110.00")),
            ],
        )

    def test_the_funnel_counts_every_deal_that_reached_each_stage(self):
        rows = selectors.funnel(organization=self.org, pipeline=self.pipeline)
        self.assertEqual(
            [(r["name"], r["deals"], r["value"]) for r in rows], self.expected_funnel()
        )
        self.assertEqual(
            [(r["name"], r["deals"]) for r in rows],
            [
                ("Lead", 9),
                ("Qualified", 4),
                ("Proposal", 2),
                ("Negotiation", 2),
                ("Won", 4),
                ("Lost", 2),
            ],
        )

    def test_a_deal_that_returns_to_a_stage_is_counted_once_there(self):
        tenant = self.tenant(self.org)
        deal = self.deals["d6"]
        for name in ("Qualified", "Lead", "Qualified"):
            deal = services.deal_move_stage(tenant=tenant, deal=deal, stage=self.stages[name])
        rows = {
            r["name"]: r["deals"]
            for r in selectors.funnel(organization=self.org, pipeline=self.pipeline)
        }
        self.assertEqual((rows["Lead"], rows["Qualified"]), (9, 5))

    def test_the_endpoints_answer_the_same_figures_as_strings(self):
        client = self.clients[Role.BASIC]
        funnel = client.get(f"{PIPELINES}{self.pipeline.pk}/funnel/")
        self.assertEqual(funnel.status_code, 200, funnel.content)
        self.assertEqual(
            [(r["name"], r["order"], r["deals"], r["value"]) for r in funnel.json()],
            [
                (name, order, deals, f"{value.quantize(CENT)}")
                for order, (name, deals, value) in enumerate(self.expected_funnel(), 1)
            ],
        )
        self.assertEqual(funnel.json()[0]["id"], str(self.stages["Lead"].pk))
        by_stage = client.get(f"{PIPELINES}{self.pipeline.pk}/value-by-stage/")
        self.assertEqual(by_stage.status_code, 200, by_stage.content)
        self.assertEqual(
            [(r["name"], r["deal_count"], r["value"], r["weighted"]) for r in by_stage.json()],
            [
                (name, count, f"{value.quantize(CENT)}", f"{weighted}")
                for name, count, value, weighted in self.expected_value_by_stage()
            ],
        )

    def test_the_second_pipeline_has_its_own_figures(self):
        rows = selectors.pipeline_value_by_stage(organization=self.org, pipeline=self.second)
        self.assertEqual(
            [(r["name"], r["deal_count"], r["value"], r["weighted"]) for r in rows],
            [("Renew", 1, Decimal("123.45"), Decimal("74.07"))],
        )
        rows = selectors.funnel(organization=self.org, pipeline=self.second)
        self.assertEqual([(r["name"], r["deals"]) for r in rows], [("Renew", 1)])

    def test_another_organization_cannot_read_these_figures(self):
        for path in ("funnel", "value-by-stage"):
            with self.subTest(path=path):
                response = self.other_client.get(f"{PIPELINES}{self.pipeline.pk}/{path}/")
                self.assert_problem(response, 404)

    def test_the_other_organization_sees_only_its_own_deals(self):
        theirs = Pipeline.objects.get(organization=self.other, is_default=True)
        rows = selectors.funnel(organization=self.other, pipeline=theirs)
        self.assertEqual(rows[0]["deals"], 9)
        figures = selectors.deal_figures(organization=self.other, **self.period(7))
        self.assertEqual((figures["won"], figures["open"]), (3, 4))


class LeadFiguresTests(TenantFixtureMixin, ApiTestCase):
    """Leads created in a period: counts, conversion rate, by source and status."""

    module = "crm"

    def setUp(self) -> None:
        """Leads at known instants, some at the period's edges, and some elsewhere."""
        super().setUp()
        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=7)
        start_of = DateRangeFilterSet._day_start
        after_end = start_of(self.today + datetime.timedelta(days=1))
        self.specs = [
            ("website", "converted", start_of(self.start)),
            ("website", "new", start_of(self.today)),
            ("referral", "converted", after_end - datetime.timedelta(microseconds=1)),
            ("partner", "unqualified", start_of(self.start) + datetime.timedelta(days=3)),
            ("event", "qualified", start_of(self.today) + datetime.timedelta(hours=1)),
            ("website", "contacted", start_of(self.start) - datetime.timedelta(microseconds=1)),
            ("referral", "converted", after_end),
        ]
        for organization in (self.org, self.other):
            for index, (source, status, created_at) in enumerate(self.specs):
                lead = Lead.objects.create(
                    organization=organization,
                    first_name=f"L{index}",
                    last_name="Lead",
                    source=source,
                    status=status,
                )
                Lead.objects.filter(pk=lead.pk).update(created_at=created_at)

    def test_lead_figures_count_leads_created_in_the_inclusive_period(self):
        lower = DateRangeFilterSet._day_start(self.start)
        upper = DateRangeFilterSet._day_start(self.today + datetime.timedelta(days=1))
        inside = [(src, st) for src, st, at in self.specs if lower <= at < upper]
        by_source: dict[str, int] = {}
        by_status: dict[str, int] = {}
        for source, status in inside:
            by_source[source] = by_source.get(source, 0) + 1
            by_status[status] = by_status.get(status, 0) + 1
        converted = by_status.get("converted", 0)
        expected = {
            "total": len(inside),
            "converted": converted,
            "conversion_rate": converted / len(inside),
            "by_source": by_source,
            "by_status": by_status,
        }
        figures = selectors.lead_figures(
            organization=self.org, start_date=self.start, end_date=self.today
        )
        self.assertEqual(figures, expected)
        self.assertEqual((figures["total"], figures["converted"]), (5, 2))
        self.assertEqual(figures["conversion_rate"], 0.4)
        self.assertEqual(
            figures["by_source"], {"website": 2, "referral": 1, "partner": 1, "event": 1}
        )

    def test_a_period_without_leads_has_no_conversion_rate(self):
        long_ago = self.today - datetime.timedelta(days=400)
        figures = selectors.lead_figures(
            organization=self.org, start_date=long_ago, end_date=long_ago
        )
        self.assertEqual(
            figures,
            {"total": 0, "converted": 0, "conversion_rate": None, "by_source": {}, "by_status": {}},
        )
