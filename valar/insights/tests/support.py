"""Builders the insights tests share: module grants, entries, tasks, leads and deals.

Rows are written straight to their tables (with the same ``save`` signals the API triggers),
so every expected figure in the tests is computed from the builders' arguments, never read
back through the code under test.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.crm.models import Deal, Lead, Pipeline
from valar.crm.services import customer_create
from valar.finance.models import Category, LedgerEntry
from valar.organizations.models import Membership, Organization, Team, TeamMembership
from valar.tasks.models import Task

INSIGHTS = "/api/v1/insights/"
DASHBOARDS = "/api/v1/dashboards/"
CENT = Decimal("0.01")
ALL_MODULES = ["insights", "finance", "tasks", "crm"]


def money(value) -> str:
    """A money figure as the API shows it: a decimal string with two places."""
    return f"{Decimal(value).quantize(CENT)}"


def instant(day: datetime.date, hour: int = 12, minute: int = 0, second: int = 0):
    """An aware datetime on ``day`` in the server's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute, second)))


def grant(organization: Organization, user, modules: list[str]) -> Membership:
    """Give ``user`` exactly ``modules`` in ``organization`` (saved, so caches follow)."""
    membership = Membership.objects.get(organization=organization, user=user)
    membership.modules = list(modules)
    membership.save()
    return membership


def team(organization: Organization, name: str, *, lead=None, members=()) -> Team:
    """A team with an optional lead and members."""
    created = Team.objects.create(organization=organization, name=name, lead=lead)
    for user in members:
        TeamMembership.objects.create(team=created, user=user)
    return created


def category(organization: Organization, name: str, kind: str) -> Category:
    """A category of income or of expense."""
    return Category.objects.create(organization=organization, name=name, type=kind)


def entry(
    organization: Organization,
    category: Category,
    amount: str,
    day: datetime.date,
    team: Team | None = None,
    created_by=None,
) -> LedgerEntry:
    """A ledger entry in the base currency (rate 1), of the category's kind (and author)."""
    value = Decimal(amount)
    return LedgerEntry.objects.create(
        organization=organization,
        created_by=created_by,
        kind=category.type,
        title=f"{category.name} {amount}",
        amount=value,
        base_amount=value,
        currency=organization.base_currency,
        date=day,
        category=category,
        team=team,
    )


def task(
    organization: Organization,
    *,
    status: str = Task.Status.TODO,
    team: Team | None = None,
    due: datetime.date | None = None,
    completed_at: datetime.datetime | None = None,
    assignee=None,
    priority: str = Task.Priority.MEDIUM,
    created_at: datetime.datetime | None = None,
) -> Task:
    """A task; ``created_at`` is moved after the insert when given."""
    created = Task.objects.create(
        organization=organization,
        title="Task",
        status=status,
        team=team,
        due_date=due,
        completed_at=completed_at,
        assignee=assignee,
        priority=priority,
    )
    if created_at is not None:
        Task.objects.filter(pk=created.pk).update(created_at=created_at)
    return created


def lead(
    organization: Organization,
    *,
    status: str = Lead.Status.NEW,
    team: Team | None = None,
    source: str = Lead.Source.OTHER,
    converted_at: datetime.datetime | None = None,
    created_at: datetime.datetime | None = None,
    estimated_value: str | None = None,
) -> Lead:
    """A lead; ``created_at`` is moved after the insert when given."""
    created = Lead.objects.create(
        organization=organization,
        first_name="Lead",
        last_name="Person",
        status=status,
        team=team,
        source=source,
        converted_at=converted_at,
        estimated_value=None if estimated_value is None else Decimal(estimated_value),
    )
    if created_at is not None:
        Lead.objects.filter(pk=created.pk).update(created_at=created_at)
    return created


def deal(
    organization: Organization,
    value: str,
    *,
    status: str = Deal.Status.OPEN,
    team: Team | None = None,
    probability: int = 50,
    closed_at: datetime.datetime | None = None,
    expected_close: datetime.date | None = None,
    created_at: datetime.datetime | None = None,
) -> Deal:
    """A deal in the default pipeline's first stage, in the base currency."""
    pipeline = Pipeline.objects.get(organization=organization, is_default=True)
    created = Deal.objects.create(
        organization=organization,
        title=f"Deal {value}",
        customer=customer_create(organization=organization, name=f"Customer {value}"),
        value=Decimal(value),
        base_value=Decimal(value),
        currency=organization.base_currency,
        pipeline=pipeline,
        stage=pipeline.stages.order_by("order").first(),
        probability=probability,
        status=status,
        closed_at=closed_at,
        expected_close_date=expected_close,
        team=team,
    )
    if created_at is not None:
        Deal.objects.filter(pk=created.pk).update(created_at=created_at)
    return created
