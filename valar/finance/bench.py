"""The finance rows of ``make bench``: the transaction list, and the metrics engine.

The transaction list: ``rows`` entries in the task benchmark's two organizations, timed
beside its own raw-SQL floor (same page of 25, same count, JSON written by hand).

The bulk create: ``POST transactions/bulk/`` of 1,000 new entries beside one raw multi-row
``INSERT`` of the same entries.

The engine: a ledger of ``rows`` entries over three years (20 categories, 30 teams) in one
organization, plus 10% noise in a second, then times: the same GROUP BY as raw SQL (the
floor), the engine with the cache bypassed (cold), and the engine answering from the cache
(warm).

The invoices: ``invoices`` issued invoices (two lines each, sent, partly paid or paid, due
over the past 120 days) in the ledger organization, plus 10% noise in the second. The invoice
list is timed beside its raw-SQL floor (same page of 25 with its lines, same count, JSON by
hand); receivables aging (``insights/receivables/``, computed from the open invoices' stored
balances, not from the ledger) is timed cold and warm beside one raw ``GROUP BY`` customer
that gives the same figures, which the bench checks are equal before and after timing.
"""

import datetime
import json
import random
import uuid
from decimal import Decimal

from django.db import connection, models, transaction
from django.test import Client

from valar.accounts.models import User
from valar.core import tenancy, versions
from valar.core.metrics import engine
from valar.core.metrics.registry import get_source
from valar.core.policy import MODULES, Role
from valar.core.sequences import formatted, next_numbers
from valar.crm.models import Customer
from valar.crm.services import customer_codes
from valar.finance import pricing
from valar.finance.models import Category, Document, DocumentLine, LedgerEntry
from valar.finance.selectors import AGING_BUCKETS, RECEIVABLE_CUSTOMERS
from valar.ops.bench import (
    Case,
    columns_floor,
    compiled,
    drop_organizations,
    get_case,
    list_rows,
    settle,
)
from valar.organizations.models import Membership, Organization, Team

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


# -- invoices and receivables ---------------------------------------------------------------

#: The ledger organization's admin (the insights rows sign in as the same member).
ADMIN_EMAIL = "bench-admin@bench-ledger.test"
#: The seeded invoices' statuses and weights: sent and partly paid are open, paid is not.
INVOICE_STATUSES = {"sent": 45, "partial": 20, "paid": 35}
#: Due dates are spread over this many days before today (issued 30 days before that).
AGING_DAYS = 120
#: One customer for every this many invoices (at least 20: the receivables list's length).
INVOICES_PER_CUSTOMER = 50
#: The seeded customers' name prefix (the customers other rows seed are left alone).
CUSTOMER_PREFIX = "Billed customer"
INVOICES_QUERY = "page_size=25"
#: The invoice list's fields, in the serializer's order (``InvoiceSerializer``).
INVOICE_FIELDS = (
    "id", "number", "customer", "customer_name", "status", "issue_date", "currency",
    "exchange_rate", "terms", "notes", "line_items", "subtotal", "discount_total", "tax_total",
    "total", "base_total", "issued_at", "emailed_to", "emailed_at", "created_by", "created_at",
    "updated_at", "due_date", "paid_amount", "credited_amount", "balance", "base_balance",
    "source_quote", "recurrence", "period",
)  # fmt: skip
#: A line's fields, in ``LineItemSerializer``'s order, and the column each is read from.
LINE_FIELDS = (
    ("position", "position"), ("description", "description"), ("quantity", "quantity"),
    ("unit_price", "unit_price"), ("discount_percent", "discount_percent"),
    ("tax_rate", "tax_rate"), ("expense", "expense_id"), ("amount", "amount"),
    ("discount", "discount"), ("tax", "tax"), ("total", "total"),
)  # fmt: skip
OPEN = (Document.Status.SENT, Document.Status.PARTIAL)


def ledger_admin(organization: Organization) -> Membership:
    """The admin membership of the ledger organization (created once)."""
    admin = User.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = User.objects.create_user(email=ADMIN_EMAIL, password=None)
    membership, _ = Membership.objects.get_or_create(
        organization=organization,
        user=admin,
        defaults={"role": Role.ADMIN, "modules": list(MODULES), "is_default": True},
    )
    return membership


def _invoice(organization, customer, due: datetime.date, randomizer, admin) -> tuple:
    """One issued invoice (no number yet) and its two lines, totals by the rounding policy."""
    figures = [
        (
            Decimal(randomizer.randint(1, 10)),
            Decimal(randomizer.randint(1_000, 200_000)) / 100,
            Decimal(randomizer.choice((0, 10, 20))),
        )
        for _ in range(2)
    ]
    rounded = [pricing.line_figures(q, price, Decimal(0), rate) for q, price, rate in figures]
    totals = pricing.document_totals(rounded)
    status = randomizer.choices(list(INVOICE_STATUSES), list(INVOICE_STATUSES.values()))[0]
    paid = {
        "sent": Decimal("0.00"),
        "partial": pricing.to_cents(totals.total * randomizer.randint(10, 90) / 100),
        "paid": totals.total,
    }[status]
    issued = due - datetime.timedelta(days=30)
    document = Document(
        organization=organization,
        type=Document.Type.INVOICE,
        customer=customer,
        status=status,
        issue_date=issued,
        due_date=due,
        currency=organization.base_currency,
        exchange_rate=Decimal(1),
        terms="Net 30",
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        base_total=totals.total,
        paid_amount=paid,
        balance=totals.total - paid,
        base_balance=totals.total - paid,
        issued_at=datetime.datetime.combine(issued, datetime.time(9), tzinfo=datetime.UTC),
        created_by=admin,
    )
    lines = [
        DocumentLine(
            organization=organization,
            document=document,
            position=position,
            description=f"Service {position}",
            quantity=quantity,
            unit_price=price,
            tax_rate=rate,
            amount=line.amount,
            discount=line.discount,
            tax=line.tax,
            total=line.total,
            created_by=admin,
        )
        for position, ((quantity, price, rate), line) in enumerate(
            zip(figures, rounded, strict=True), start=1
        )
    ]
    return document, lines


def _seed_invoices(organization: Organization, count: int, randomizer, admin) -> None:
    """``count`` issued invoices over a customer per 50 of them, numbered as issuing does."""
    today = tenancy.local_today(organization)
    with transaction.atomic():
        wanted = max(RECEIVABLE_CUSTOMERS, count // INVOICES_PER_CUSTOMER)
        codes = customer_codes(organization.pk, wanted)
        customers = Customer.objects.bulk_create(
            [
                Customer(organization=organization, code=code, name=f"{CUSTOMER_PREFIX} {i:05d}")
                for i, code in enumerate(codes)
            ],
            batch_size=5000,
        )
        invoices = [
            _invoice(
                organization,
                customers[randomizer.randrange(len(customers))],
                today - datetime.timedelta(days=randomizer.randint(0, AGING_DAYS)),
                randomizer,
                admin,
            )
            for _ in range(count)
        ]
        # Numbered in issue order, gap-free per year, from the counters issuing uses.
        invoices.sort(key=lambda pair: pair[0].issue_date)
        years: dict[int, list[Document]] = {}
        for document, _ in invoices:
            years.setdefault(document.issue_date.year, []).append(document)
        for year, documents in years.items():
            numbers = next_numbers(organization.pk, f"invoice:{year}", len(documents))
            for document, number in zip(documents, numbers, strict=True):
                document.number = formatted("INV", number, year=year)
        randomizer.shuffle(invoices)  # created in no particular order of number or date
        for start in range(0, count, 10_000):
            batch = invoices[start : start + 10_000]
            _insert(Document, [document for document, _ in batch])
            _insert(DocumentLine, [line for _, lines in batch for line in lines])


def _insert(model, objects: list) -> None:
    """Write ``objects`` as ``bulk_create`` does (no signals), by ``COPY`` on PostgreSQL.

    ``COPY`` takes the fields' values as the instances hold them (after ``pre_save``, which
    sets the timestamps), adapted by psycopg: about ten times faster than ``bulk_create``.
    """
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=5000)
        return
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for instance in objects:
                copy.write_row([field.pre_save(instance, True) for field in fields])


def seed_invoices(organizations: list[Organization], invoices: int, *, stdout) -> None:
    """Create (once) ``invoices`` issued invoices in the first organization, 10% in the second."""
    measured = organizations[0]
    found = Document.objects.filter(organization=measured, type=Document.Type.INVOICE).count()
    if found >= invoices:
        stdout.write(f"finance: reusing {invoices}+ seeded invoices\n")
        return
    stdout.write(f"finance: seeding {invoices} invoices (+10% noise), two lines each...\n")
    admin = ledger_admin(measured).user
    randomizer = random.Random(5)
    for organization, count in zip(organizations, (invoices, invoices // 10), strict=False):
        for model in (DocumentLine, Document):
            model.objects.filter(organization=organization)._raw_delete(model.objects.db)
        Customer.objects.filter(
            organization=organization, name__startswith=CUSTOMER_PREFIX
        )._raw_delete(Customer.objects.db)
        _seed_invoices(organization, count, randomizer, admin)
    settle()


def _invoice_page(organization: Organization) -> tuple[models.QuerySet, list[str]]:
    """The floor's page: 25 invoices newest first, their shown status, customer name."""
    today = tenancy.local_today(organization)
    filtered = Document.objects.filter(organization=organization, type=Document.Type.INVOICE)
    shown = models.Case(
        models.When(status__in=OPEN, due_date__lt=today, then=models.Value("overdue")),
        default=models.F("status"),
        output_field=models.CharField(),
    )
    related = {"customer", "created_by", "source_quote", "recurrence"}
    paths = {"customer_name": "customer__name", "status": "shown_status"}
    keys = [key for key in INVOICE_FIELDS if key != "line_items"]
    columns = [paths.get(key) or (f"{key}_id" if key in related else key) for key in keys]
    page = filtered.annotate(shown_status=shown).order_by("-created_at").values_list(*columns)
    return page[:25], keys


def invoice_floor(organization: Organization, url: str) -> Case:
    """(v) The invoice list's SQL run raw: its page, the page's lines, its count; JSON by hand."""
    page, keys = _invoice_page(organization)
    page_sql, page_params = compiled(page)
    filtered = Document.objects.filter(organization=organization, type=Document.Type.INVOICE)
    count_sql, count_params = compiled(filtered.values("pk").order_by())
    count_sql = f"SELECT COUNT(*) FROM ({count_sql}) counted"
    quote = connection.ops.quote_name
    lines_sql = (
        f"SELECT {quote('document_id')}, "
        + ", ".join(quote(column) for _, column in LINE_FIELDS)
        + f" FROM {quote(DocumentLine._meta.db_table)} WHERE {quote('document_id')} IN (%s)"
        + f" ORDER BY {quote('document_id')}, {quote('position')}"
    )
    line_keys = [key for key, _ in LINE_FIELDS]
    next_url = f"http://testserver{url.replace('?', '?page=2&')}"

    def call():
        with connection.cursor() as cursor:
            cursor.execute(page_sql, page_params)
            rows = cursor.fetchall()
            lines: dict = {}
            if rows:
                cursor.execute(lines_sql % ", ".join(["%s"] * len(rows)), [row[0] for row in rows])
                for line in cursor.fetchall():
                    lines.setdefault(line[0], []).append(
                        dict(zip(line_keys, line[1:], strict=True))
                    )
            cursor.execute(count_sql, count_params)
            total = cursor.fetchone()[0]
        results = []
        for row in rows:
            values = dict(zip(keys, row, strict=True))
            values["line_items"] = lines.get(row[0], [])
            results.append({key: values[key] for key in INVOICE_FIELDS})
        return json.dumps(
            {"count": total, "next": next_url, "previous": None, "results": results},
            default=str,
        ).encode()

    return Case(
        "(v) SQL floor: invoices page + lines + count, JSON by hand",
        call,
        floor_count=(count_sql, count_params),
    )


def invoice_cases(organization: Organization) -> tuple[str, list[Case]]:
    """The invoice list (newest first) beside its floor; no count cache row (the invoice list
    keeps no count in the cache: it declares no ``count_sources``)."""
    client = Client()
    client.force_login(ledger_admin(organization).user)
    url = f"/api/v1/finance/invoices/?{INVOICES_QUERY}"
    return list_rows("invoices", client, url, invoice_floor(organization, url), count_cache=False)


def _cents(value) -> str:
    """A sum as a money string, as the API writes it (``0.00`` over no row).

    PostgreSQL sums ``numeric`` exactly (a ``Decimal``); SQLite's sums are floats, rounded
    to cents here.
    """
    if value is None:
        return "0.00"
    if not isinstance(value, Decimal):
        value = pricing.to_cents(Decimal(str(value)))
    return f"{value:.2f}"


def _exact(value) -> Decimal | int:
    """A sum or count as an exact number (``None``: 0; SQLite's float sums by their digits)."""
    if value is None:
        return 0
    return Decimal(str(value)) if isinstance(value, float) else value


def receivables_floor(organization: Organization) -> Case:
    """(r1) Receivables aging as one raw ``GROUP BY`` customer; totals summed in Python.

    The open invoices (sent or partly paid) grouped by customer: the balance, the overdue
    balance and each aging bucket's balance and count, ordered by balance (then name) in SQL;
    the organization's totals are the exact sums of the customers' rows, and the first 20
    rows are the customers the answer lists.
    """
    today = tenancy.local_today(organization)
    quote = connection.ops.quote_name
    sums: list[str] = []
    params: list = []
    for low, high in [(low, high) for _, low, high in AGING_BUCKETS]:
        if low == 0:
            condition = "d.due_date IS NULL OR d.due_date >= %s"
            values = [today - datetime.timedelta(days=high)]
        else:
            condition = "d.due_date <= %s"
            values = [today - datetime.timedelta(days=low)]
            if high is not None:
                condition += " AND d.due_date >= %s"
                values.append(today - datetime.timedelta(days=high))
        sums += [
            f"SUM(d.base_balance) FILTER (WHERE {condition})",
            f"COUNT(*) FILTER (WHERE {condition})",
        ]
        params += values * 2
    sql = (
        "SELECT d.customer_id, c.name, SUM(d.base_balance), COUNT(*), "
        "SUM(d.base_balance) FILTER (WHERE d.due_date < %s), "
        "COUNT(*) FILTER (WHERE d.due_date < %s), "
        + ", ".join(sums)
        + f" FROM {quote(Document._meta.db_table)} d"
        + f" JOIN {quote(Customer._meta.db_table)} c ON c.id = d.customer_id"
        + " WHERE d.organization_id = %s AND d.type = %s AND d.status IN (%s, %s)"
        + " AND d.issue_date <= %s"
        + " GROUP BY d.customer_id, c.name ORDER BY SUM(d.base_balance) DESC, c.name"
    )
    organization_id = Document._meta.get_field("organization").get_db_prep_value(
        organization.pk, connection
    )
    params = [today, today, *params, organization_id, Document.Type.INVOICE, *OPEN, today]

    def call():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # Column-wise exact sums over the customers (amounts are Decimals on PostgreSQL).
        totals = [sum((_exact(row[i]) for row in rows), Decimal(0)) for i in range(2, 14)]
        answer = {
            "as_of": today.isoformat(),
            "currency": organization.base_currency,
            "outstanding": _cents(totals[0] if rows else None),
            "invoices": int(totals[1]),
            "overdue": _cents(totals[2] if rows else None),
            "overdue_invoices": int(totals[3]),
            "buckets": [
                {
                    "name": name,
                    "from_days": low,
                    "to_days": high,
                    "amount": _cents(totals[4 + 2 * index] if rows else None),
                    "invoices": int(totals[5 + 2 * index]),
                }
                for index, (name, low, high) in enumerate(AGING_BUCKETS)
            ],
            "customers": [
                {
                    "customer": str(uuid.UUID(str(row[0]))),
                    "name": row[1],
                    "outstanding": _cents(row[2]),
                    "overdue": _cents(row[4]),
                    "invoices": row[3],
                }
                for row in rows[:RECEIVABLE_CUSTOMERS]
            ],
        }
        return json.dumps(answer).encode()

    return Case("(r1) raw SQL: GROUP BY customer, aging buckets", call)


def receivables_cases(organization: Organization) -> list[Case]:
    """Receivables aging: the raw GROUP BY, the API cold (a cache miss) and warm (a hit).

    Cold: the organization's ``finance`` version is bumped before each call, untimed, so the
    API misses its cache and computes (as after any finance write); warm: the cached answer.
    """
    client = Client()
    client.force_login(ledger_admin(organization).user)
    url = "/api/v1/insights/receivables/"
    return [
        receivables_floor(organization),
        get_case(
            "(r2) Valar GET insights/receivables/, cold (cache miss)",
            client,
            url,
            before=lambda: versions.bump(organization.pk, "finance"),
        ),
        get_case("(r3) Valar GET insights/receivables/, warm (cache hit)", client, url),
    ]


def receivables_agree(cases: list[Case]) -> dict:
    """The floor's answer, after checking that the API's (cold and warm) is exactly it.

    Every figure is compared as the JSON writes it (money as exact decimal strings); a
    difference raises, so no row is reported for a wrong answer.
    """
    floor, cold, warm = cases
    expected = json.loads(floor.call())
    for case in (cold, warm):
        if case.before is not None:
            case.before()
        answer = json.loads(case.call().content)
        if answer != expected:
            differing = sorted(key for key in expected if answer.get(key) != expected[key])
            raise RuntimeError(f"{case.name} differs from the raw GROUP BY in {differing}")
    return expected
