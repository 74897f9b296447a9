"""The finance rows of ``make bench``: the engine's month x category query against raw SQL.

Seeds a ledger of ``rows`` entries over three years (20 categories, 30 teams) in one
organization, plus 10% noise in a second, then times: the same GROUP BY as raw SQL (the
floor), the engine with the cache bypassed (cold), and the engine answering from the cache
(warm).
"""

import datetime
import random
from decimal import Decimal

from django.db import connection

from valar.core.metrics import engine
from valar.core.metrics.registry import get_source
from valar.finance.models import Category, LedgerEntry
from valar.ops.bench import Case, drop_organizations
from valar.organizations.models import Organization, Team

ORGANIZATIONS = ("bench-ledger", "bench-ledger-noise")
CATEGORIES = 20
TEAMS = 30
YEARS = 3


def _seed_organization(organization: Organization, rows: int, randomizer: random.Random) -> None:
    """Categories, teams and ``rows`` entries spread over three years."""
    categories = Category.objects.bulk_create(
        [
            Category(organization=organization, name=f"Category {i}", type=kind)
            for i in range(CATEGORIES // 2)
            for kind in ("income", "expense")
        ]
    )
    teams = Team.objects.bulk_create(
        [Team(organization=organization, name=f"Ledger team {i}") for i in range(TEAMS)]
    )
    first_day = datetime.date.today() - datetime.timedelta(days=365 * YEARS)
    batch: list[LedgerEntry] = []
    for _ in range(rows):
        category = categories[randomizer.randrange(len(categories))]
        amount = Decimal(randomizer.randint(100, 500_000)) / 100
        batch.append(
            LedgerEntry(
                organization=organization,
                kind=category.type,
                title="Entry",
                amount=amount,
                currency="USD",
                exchange_rate=1,
                base_amount=amount,
                date=first_day + datetime.timedelta(days=randomizer.randrange(365 * YEARS)),
                category=category,
                team=teams[randomizer.randrange(TEAMS)],
            )
        )
        if len(batch) == 10_000:
            LedgerEntry.objects.bulk_create(batch)
            batch = []
    LedgerEntry.objects.bulk_create(batch)


def seed(rows: int, *, stdout) -> Organization:
    """Create (once) the ledger organizations; return the measured one."""
    organization = Organization.objects.filter(slug=ORGANIZATIONS[0]).first()
    if organization is not None and (
        LedgerEntry.objects.filter(organization=organization).count() >= rows
    ):
        stdout.write(f"finance: reusing {rows}+ seeded entries\n")
        return organization
    stdout.write(f"finance: seeding {rows} ledger entries (+10% noise)...\n")
    drop_organizations(ORGANIZATIONS)
    randomizer = random.Random(7)
    measured = Organization.objects.create(name="Bench ledger", slug=ORGANIZATIONS[0])
    noise = Organization.objects.create(name="Bench noise", slug=ORGANIZATIONS[1])
    _seed_organization(measured, rows, randomizer)
    _seed_organization(noise, rows // 10, randomizer)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return measured


def cases(organization: Organization) -> list[Case]:
    """Raw SQL, the engine cold and the engine warm, for one year by month x category."""
    today = datetime.date.today()
    spec = engine.validate(
        {
            "source": "expense",
            "measure": "sum",
            "start_date": (today - datetime.timedelta(days=365)).isoformat(),
            "end_date": today.isoformat(),
            "interval": "month",
            "group_by": "category",
        }
    )
    queryset, _ = engine.grouped_queryset(organization, spec, get_source("expense"))
    sql, params = queryset.query.sql_with_params()

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    engine.run(organization=organization, spec=spec)  # fill the cache for the warm row
    return [
        Case("(f1) raw SQL: month x category GROUP BY", raw),
        Case(
            "(f2) engine, cold (cache bypassed)",
            lambda: engine.run(organization=organization, spec=spec, use_cache=False),
        ),
        Case(
            "(f3) engine, warm (cache hit)",
            lambda: engine.run(organization=organization, spec=spec),
        ),
    ]
