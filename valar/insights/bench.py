"""The insights rows of ``make bench``: the team leaderboard and a dashboard read.

On the finance benchmark's organization (1M ledger entries, 30 teams) it adds tasks and deals
spread over the teams, then times: the leaderboard computed with the cache bypassed against
the same SQL statements run raw one after the other, and reading a dashboard of 10 stored
charts through the API.
"""

import datetime
import random
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from valar.core.tenancy import Tenant
from valar.crm.models import Customer, Deal, Pipeline
from valar.crm.services import customer_codes
from valar.finance.bench import ledger_admin
from valar.insights import selectors, services
from valar.insights.models import Dashboard
from valar.ops.bench import Case, settle
from valar.organizations.models import Organization, Team
from valar.tasks.models import Task


def seed(organization: Organization, *, tasks: int, deals: int, stdout) -> Tenant:
    """Add (once) tasks, deals, an admin and a 10-chart dashboard to the ledger organization."""
    membership = ledger_admin(organization)
    admin = membership.user
    tenant = Tenant(organization=organization, membership=membership)
    teams = list(Team.objects.filter(organization=organization))
    randomizer = random.Random(11)
    today = timezone.localdate()
    if Task.objects.filter(organization=organization).count() < tasks:
        stdout.write(f"insights: seeding {tasks} tasks and {deals} deals over {len(teams)} teams\n")
        batch = []
        for _ in range(tasks):
            done = randomizer.random() < 0.5
            due = today - datetime.timedelta(days=randomizer.randrange(365))
            batch.append(
                Task(
                    organization=organization,
                    title="Bench task",
                    status=Task.Status.DONE if done else Task.Status.TODO,
                    due_date=due,
                    completed_at=(
                        timezone.now() - datetime.timedelta(days=randomizer.randrange(365))
                        if done
                        else None
                    ),
                    team=teams[randomizer.randrange(len(teams))],
                )
            )
            if len(batch) == 10_000:
                Task.objects.bulk_create(batch)
                batch = []
        Task.objects.bulk_create(batch)
        pipeline = Pipeline.objects.get(organization=organization, is_default=True)
        stages = list(pipeline.stages.order_by("order"))
        with transaction.atomic():
            codes = customer_codes(organization.pk, 200)
            customers = Customer.objects.bulk_create(
                [
                    Customer(organization=organization, code=code, name=f"Customer {i}")
                    for i, code in enumerate(codes)
                ]
            )
        batch = []
        for _ in range(deals):
            won = randomizer.random() < 0.4
            deal = Deal(
                organization=organization,
                title="Bench deal",
                customer=customers[randomizer.randrange(len(customers))],
                value=Decimal(randomizer.randint(1000, 5_000_000)) / 100,
                currency=organization.base_currency,
                pipeline=pipeline,
                stage=stages[4] if won else stages[randomizer.randrange(4)],
                probability=100 if won else 50,
                status=Deal.Status.WON if won else Deal.Status.OPEN,
                closed_at=(
                    timezone.now() - datetime.timedelta(days=randomizer.randrange(365))
                    if won
                    else None
                ),
                team=teams[randomizer.randrange(len(teams))],
            )
            deal.base_value = deal.value  # the base currency: rate 1
            batch.append(deal)
            if len(batch) == 10_000:
                Deal.objects.bulk_create(batch)
                batch = []
        Deal.objects.bulk_create(batch)
        settle()
    if not Dashboard.objects.filter(organization=organization, title="Bench").exists():
        dashboard = Dashboard.objects.create(
            organization=organization, title="Bench", created_by=admin
        )
        start = (today - datetime.timedelta(days=365)).isoformat()
        for index in range(10):
            source = ("income", "expense", "profit", "tasks", "deals")[index % 5]
            services.chart_create(
                tenant=tenant,
                dashboard=dashboard,
                data={
                    "title": f"Chart {index}",
                    "chart_type": "bar",
                    "query": {
                        "source": source,
                        "measure": "count" if source in ("tasks", "deals") else "sum",
                        "start_date": start,
                        "end_date": today.isoformat(),
                        "interval": "month",
                    },
                },
            )
    return tenant


def cases(tenant: Tenant) -> tuple[list[Case], int]:
    """The leaderboard (cache bypassed) vs its statements raw; a dashboard read via the API."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=365)
    teams = list(selectors.visible_teams(tenant=tenant))

    def leaderboard():
        return selectors._team_rows(tenant, teams, start, today)

    # Captured as (i2) runs: the cache cleared (a warm metrics cache would answer some parts
    # and leave their statements out of the raw row), after one untimed run (so a first call's
    # one-off reads are not counted as the leaderboard's).
    compute = _uncached(leaderboard)
    compute()
    with CaptureQueriesContext(connection) as captured:
        compute()
    statements = [query["sql"] for query in captured.captured_queries]

    def raw():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    client = Client()
    client.force_login(tenant.membership.user)
    dashboard = Dashboard.objects.get(organization=tenant.organization, title="Bench")

    def read_dashboard():
        response = client.get(f"/api/v1/dashboards/{dashboard.pk}/")
        assert response.status_code == 200, response.content[:200]

    return [
        Case(f"(i1) leaderboard statements raw ({len(statements)})", raw),
        Case("(i2) leaderboard, cache bypassed", _uncached(leaderboard)),
        Case("(i3) dashboard of 10 stored charts, GET", read_dashboard),
    ], len(statements)


def _uncached(compute):
    """Run ``compute`` with the metrics cache out of the way (every run computes)."""
    from django.core.cache import cache

    def call():
        cache.clear()
        return compute()

    return call
