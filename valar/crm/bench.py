"""The CRM rows of ``make bench``: the leads, customers and deals lists, each against its floor.

Seeds, in the task benchmark's two organizations (same members and teams), ``rows`` leads,
customers and deals split between them; each list is timed beside its own raw-SQL floor (the
same page of 25 and the same count, run raw, JSON written by hand).
"""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.test import Client
from django.utils import timezone

from valar.accounts.models import User
from valar.crm import selectors
from valar.crm.models import Customer, Deal, Lead, Pipeline
from valar.crm.services import customer_codes
from valar.ops.bench import Case, columns_floor, list_rows, settle
from valar.organizations.models import Organization, Team

BATCH = 5000
LEADS_QUERY = "status=new&ordering=-created_at&page_size=25"
CUSTOMERS_QUERY = "status=active&ordering=name&page_size=25"
DEALS_QUERY = "status=open&ordering=-created_at&page_size=25"


def _bulk(model, rows) -> list:
    """``bulk_create`` in batches; the created rows."""
    created = []
    for start in range(0, len(rows), BATCH):
        created.extend(model.objects.bulk_create(rows[start : start + BATCH]))
    return created


def _seed_organization(organization: Organization, share: int, randomizer) -> None:
    """``share`` leads, customers and deals in ``organization``, over its members and teams."""
    members = list(User.objects.filter(memberships__organization=organization))
    teams = list(Team.objects.filter(organization=organization))
    now = timezone.now()

    def when():
        return now - datetime.timedelta(minutes=randomizer.randrange(365 * 24 * 60))

    _bulk(
        Lead,
        [
            Lead(
                organization=organization,
                first_name=f"Lead{i}",
                last_name="Prospect",
                email=f"lead{i}@example.com",
                company=f"Company {i % 500}",
                source=randomizer.choice(Lead.Source.values),
                status=randomizer.choice(Lead.Status.values),
                estimated_value=Decimal(randomizer.randint(0, 1_000_000)) / 100,
                score=randomizer.randrange(101),
                assigned_to=randomizer.choice(members),
                team=randomizer.choice(teams),
                created_by=members[0],
                created_at=when(),
            )
            for i in range(share)
        ],
    )
    codes = customer_codes(organization.pk, share)
    customers = _bulk(
        Customer,
        [
            Customer(
                organization=organization,
                code=codes[i],
                name=f"Customer {i:06d}",
                email=f"customer{i}@example.com",
                company=f"Company {i % 500}",
                status=randomizer.choice(Customer.Status.values),
                assigned_to=randomizer.choice(members),
                created_by=members[0],
            )
            for i in range(share)
        ],
    )
    pipeline = Pipeline.objects.get(organization=organization, is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    deals = []
    for i in range(share):
        stage = randomizer.choice(stages)
        status = Deal.Status.WON if stage.is_won else Deal.Status.LOST if stage.is_lost else "open"
        deal = Deal(
            organization=organization,
            title=f"Deal {i}",
            customer=randomizer.choice(customers),
            value=Decimal(randomizer.randint(1000, 5_000_000)) / 100,
            currency=organization.base_currency,
            pipeline=pipeline,
            stage=stage,
            probability=stage.probability,
            status=status,
            assigned_to=randomizer.choice(members),
            team=randomizer.choice(teams),
            created_by=members[0],
            created_at=when(),
        )
        deal.base_value = deal.value  # the base currency: rate 1
        deals.append(deal)
    _bulk(Deal, deals)


def seed(organizations: list[Organization], rows: int, *, stdout) -> None:
    """Create (once) ``rows`` leads, customers and deals, split between ``organizations``."""
    share = rows // len(organizations)
    if Lead.objects.filter(organization=organizations[0]).count() >= share:
        stdout.write(f"crm: reusing {rows}+ seeded leads, customers and deals\n")
        return
    stdout.write(f"crm: seeding {rows} leads, customers and deals...\n")
    randomizer = random.Random(5)
    for organization in organizations:
        with transaction.atomic():
            Deal.objects.filter(organization=organization)._raw_delete(Deal.objects.db)
            Lead.objects.filter(organization=organization)._raw_delete(Lead.objects.db)
            Customer.objects.filter(organization=organization)._raw_delete(Customer.objects.db)
            _seed_organization(organization, share, randomizer)
    settle()


def _columns(*names: str) -> list[tuple[str, str]]:
    """``(key, path)`` pairs: foreign keys read as their ``_id`` column."""
    return [(name, path) for name, path in (_column(name) for name in names)]


def _column(name: str) -> tuple[str, str]:
    """A serializer field and the column it reads."""
    foreign = {
        "assigned_to",
        "team",
        "created_by",
        "customer",
        "pipeline",
        "stage",
        "source_lead",
        "converted_customer",
    }
    return name, f"{name}_id" if name in foreign else name


def cases(organization: Organization, admin: User) -> list[tuple[str, list[Case]]]:
    """Per list: a title and its rows (floor, Valar, Valar with the count cache when built)."""
    client = Client()
    client.force_login(admin)
    lists = []

    leads = Lead.objects.filter(organization=organization, status="new")
    lead_columns = _columns(
        "id", "first_name", "last_name", "email", "phone", "company", "job_title", "source",
        "status", "estimated_value", "score", "assigned_to", "team", "notes",
        "disqualification_reason", "converted_customer", "converted_at", "created_by",
        "created_at", "updated_at",
    )  # fmt: skip
    lists.append(
        list_rows(
            "leads",
            client,
            f"/api/v1/crm/leads/?{LEADS_QUERY}",
            columns_floor(
                "(l) SQL floor: leads page + count, JSON by hand",
                filtered=leads,
                ordering=("-created_at",),
                columns=lead_columns,
                next_url=f"http://testserver/api/v1/crm/leads/?page=2&{LEADS_QUERY}",
            ),
        )
    )

    customers = Customer.objects.filter(organization=organization, status="active")
    # The page the list needs carries the open and won deal values: the same correlated
    # subqueries, per page row only (the selector's, which is what a hand-written one would be).
    customer_page = selectors.customer_display(customers, organization=organization)
    lists.append(
        list_rows(
            "customers",
            client,
            f"/api/v1/crm/customers/?{CUSTOMERS_QUERY}",
            columns_floor(
                "(u) SQL floor: customers page + count, JSON by hand",
                filtered=customers,
                page=customer_page,
                ordering=("name",),
                columns=_columns(
                    "id",
                    "code",
                    "name",
                    "email",
                    "phone",
                    "company",
                    "address",
                    "tax_number",
                    "status",
                    "assigned_to",
                    "source_lead",
                    "open_deals_value",
                    "won_deals_value",
                    "watchlist_flagged",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),  # fmt: skip
                next_url=f"http://testserver/api/v1/crm/customers/?page=2&{CUSTOMERS_QUERY}",
            ),
        )
    )

    deals = Deal.objects.filter(organization=organization, status="open")
    names = {
        "customer_name": "customer__name",
        "pipeline_name": "pipeline__name",
        "stage_name": "stage__name",
    }
    deal_columns = [
        (key, names.get(key, path))
        for key, path in _columns(
            "id",
            "title",
            "customer",
            "customer_name",
            "value",
            "currency",
            "exchange_rate",
            "base_value",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "probability",
            "expected_close_date",
            "assigned_to",
            "team",
            "status",
            "closed_at",
            "lost_reason",
            "created_by",
            "created_at",
            "updated_at",
        )  # fmt: skip
    ]
    lists.append(
        list_rows(
            "deals",
            client,
            f"/api/v1/crm/deals/?{DEALS_QUERY}",
            columns_floor(
                "(d) SQL floor: deals page + count, JSON by hand",
                filtered=deals,
                ordering=("-created_at",),
                columns=deal_columns,
                next_url=f"http://testserver/api/v1/crm/deals/?page=2&{DEALS_QUERY}",
            ),
        )
    )
    return lists
