"""The finance rows of ``make bench``: the transaction list, and the metrics engine.

The transaction list: ``rows`` entries in the task benchmark's two organizations, timed
beside its own raw-SQL floor (same page of 25, same count, JSON written by hand).

The bulk create: ``POST transactions/bulk/`` of 1,000 new entries beside one raw multi-row
``INSERT`` of the same entries.

The engine: a ledger of ``rows`` entries over three years (20 categories, 30 teams) in one
organization, plus 10% noise in a second, then times: the same GROUP BY as raw SQL (the
floor), the engine with the cache bypassed (cold), and the engine answering from the cache
(warm).
"""

import datetime
import json
import random
import uuid
from decimal import Decimal

from django.db import connection
from django.test import Client

from valar.accounts.models import User
from valar.core.metrics import engine
from valar.core.metrics.registry import get_source
from valar.finance.models import Category, LedgerEntry
from valar.ops.bench import Case, columns_floor, drop_organizations, list_rows, settle
from valar.organizations.models import Organization, Team

ORGANIZATIONS = ("bench-ledger", "bench-ledger-noise")
CATEGORIES = 20
TEAMS = 30
YEARS = 3
TRANSACTIONS_QUERY = "kind=expense&page_size=25"
TRANSACTION_FIELDS = (
    "id", "kind", "title", "description", "amount", "currency", "exchange_rate", "base_amount",
    "date", "time", "category", "category_name", "subcategory", "subcategory_name", "team",
    "team_name", "customer", "vendor", "reference", "receipt_number", "tax_amount",
    "is_billable", "approval_status", "rejection_reason", "decided_by", "decided_at",
    "recurrence", "period", "created_by", "created_at", "updated_at",
)  # fmt: skip


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
    settle()
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


def seed_transactions(organizations: list[Organization], rows: int, *, stdout) -> None:
    """Create (once) ``rows`` ledger entries split between the list benchmark's organizations."""
    share = rows // len(organizations)
    if LedgerEntry.objects.filter(organization=organizations[0]).count() >= share:
        stdout.write(f"finance: reusing {rows}+ seeded transactions\n")
        return
    stdout.write(f"finance: seeding {rows} transactions...\n")
    randomizer = random.Random(3)
    for organization in organizations:
        LedgerEntry.objects.filter(organization=organization)._raw_delete(LedgerEntry.objects.db)
        Category.objects.filter(organization=organization).delete()
        Team.objects.filter(organization=organization, name__startswith="Ledger team").delete()
        _seed_organization(organization, share, randomizer)
    settle()


def transaction_cases(organization: Organization, admin: User) -> tuple[str, list[Case]]:
    """The transaction list (expenses, newest first) beside its floor."""
    client = Client()
    client.force_login(admin)
    related = {
        "category", "subcategory", "team", "customer", "vendor", "created_by", "decided_by",
        "recurrence",
    }  # fmt: skip
    names = {"category_name": "category__name", "subcategory_name": "subcategory__name"}
    names["team_name"] = "team__name"
    columns = [
        (key, names.get(key) or (f"{key}_id" if key in related else key))
        for key in TRANSACTION_FIELDS
    ]
    url = f"/api/v1/finance/transactions/?{TRANSACTIONS_QUERY}"
    return list_rows(
        "transactions",
        client,
        url,
        columns_floor(
            "(t) SQL floor: transactions page + count, JSON by hand",
            filtered=LedgerEntry.objects.filter(organization=organization, kind="expense"),
            ordering=("-date", "-created_at"),
            columns=columns,
            next_url=f"http://testserver{url.replace('?', '?page=2&')}",
        ),
    )


#: Ledger entries one bulk create writes (the largest bulk request).
BULK_ROWS = 1000
#: The columns of the raw floor's INSERT.
BULK_COLUMNS = (
    "id", "created_at", "updated_at", "created_by_id", "organization_id", "kind", "title",
    "description", "amount", "currency", "exchange_rate", "base_amount", "date", "time",
    "category_id", "subcategory_id", "team_id", "customer_id", "vendor_id", "reference",
    "receipt_number", "tax_amount", "is_billable", "approval_status", "rejection_reason",
)  # fmt: skip


def bulk_cases(organization: Organization, admin: User) -> list[Case]:
    """``POST finance/transactions/bulk/`` of 1,000 new entries beside a raw ``INSERT`` of them.

    Valar's row goes through the middleware, session authentication, each item's serializer
    and the ledger rules, and writes the rows, their 1,000 audit rows and the version bump.
    The floor is one hand-written multi-row ``INSERT`` of the same 1,000 entries (ids, amounts,
    base amounts computed beforehand), nothing else. Each row's entries (and audit rows) are
    deleted before the next call, outside the timing, so the tables keep their size.
    """
    from valar.audit.models import AuditEvent

    client = Client()
    client.force_login(admin)
    category = Category.objects.filter(organization=organization, type="income").first()
    items = [
        {
            "kind": "income",
            "title": f"Bulk entry {i}",
            "amount": f"{10 + i % 90}.{i % 100:02d}",
            "date": (datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 365)).isoformat(),
            "category": str(category.pk),
            "reference": f"B-{i:04d}",
        }
        for i in range(BULK_ROWS)
    ]
    body = json.dumps({"create": items})
    fields = [LedgerEntry._meta.get_field(column) for column in BULK_COLUMNS]
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in BULK_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(BULK_COLUMNS)) + ")"
    sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholders] * BULK_ROWS)}"

    def raw():
        now = datetime.datetime.now(datetime.UTC)
        params: list = []
        for item in items:
            amount = Decimal(item["amount"])
            row = [
                uuid.uuid4(), now, now, admin.pk, organization.pk, "income", item["title"], "",
                amount, organization.base_currency, Decimal(1), amount,
                datetime.date.fromisoformat(item["date"]), None, category.pk, None, None, None,
                None, item["reference"], "", Decimal(0), False, "approved", "",
            ]  # fmt: skip
            params += [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, row, strict=True)
            ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def valar():
        response = client.post(
            "/api/v1/finance/transactions/bulk/", body, content_type="application/json"
        )
        if response.status_code != 200:
            raise RuntimeError(f"bulk create answered {response.status_code}")

    def clean():
        LedgerEntry.objects.filter(
            organization=organization, title__startswith="Bulk entry "
        )._raw_delete(LedgerEntry.objects.db)
        AuditEvent.objects.filter(
            organization=organization, object_type="finance.ledgerentry"
        )._raw_delete(AuditEvent.objects.db)

    return [
        Case(f"(b1) raw SQL: one INSERT of {BULK_ROWS:,} entries", raw, before=clean),
        Case(f"(b2) Valar: POST transactions/bulk/ of {BULK_ROWS:,} entries", valar, before=clean),
    ]
