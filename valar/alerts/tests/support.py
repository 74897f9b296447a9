"""Builders the alert tests share: an organization with members, rules, entries, tasks."""

import datetime
from decimal import Decimal

from django.utils import timezone

from valar.alerts.models import AlertRule
from valar.finance.models import Category, Kind
from valar.finance.tests.support import entry
from valar.tasks.models import Task

API = "/api/v1/ops/alerts/"


def rule(organization, **fields) -> AlertRule:
    """A rule written straight to the table: expenses this month above 10,000 by default."""
    defaults = {
        "name": "Expenses",
        "source": "expense",
        "measure": "sum",
        "date_field": "date",
        "period": "this_month",
        "comparison": "above",
        "threshold": Decimal("10000.00"),
    }
    return AlertRule.objects.create(organization=organization, **(defaults | fields))


def expense(organization, amount: str, day: datetime.date | None = None, **extra):
    """An expense of ``amount`` today (or on ``day``)."""
    kind_category = Category.objects.get_or_create(
        organization=organization, name="Costs", type=Kind.EXPENSE
    )[0]
    return entry(organization, kind_category, amount, day or timezone.localdate(), **extra)


def task(organization, **fields) -> Task:
    """An open task; ``created_at`` may be set (it is written after the insert)."""
    created_at = fields.pop("created_at", None)
    made = Task.objects.create(organization=organization, title="Work", **fields)
    if created_at is not None:
        Task.objects.filter(pk=made.pk).update(created_at=created_at)
    return made
