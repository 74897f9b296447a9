"""The support source of the metrics engine (chats), and ``support/summary/`` read through it.

The engine's measures are additive (sums and counts per bucket, totals summed over buckets),
so durations are measured as sums of whole seconds next to the counts they divide by:
``response_seconds / answered`` is the mean first response time of the chats counted, and
``resolution_seconds / closed`` the mean resolution time. Bucketed by ``first_response_at``
(or ``closed_at``) every row counted has the duration, so ``count`` is the divisor. The engine
has no percentile aggregate (SQLite has none), so the summary gives means only.
"""

import datetime
from decimal import Decimal

from django.db.models import (
    BigIntegerField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Sum,
)

from valar.core.metrics import Dimension, Source, register, run_for
from valar.core.tenancy import Tenant
from valar.support.models import Chat


class Seconds(Func):
    """Whole seconds from the datetime ``start`` to the datetime ``end`` (null if either is).

    The difference is Django's own (``connection.ops.subtract_temporals``): microseconds on
    SQLite, an interval on PostgreSQL; each is cut to whole seconds, towards zero.
    """

    output_field = BigIntegerField()

    def __init__(self, end: str, start: str):
        """The seconds from column ``start`` to column ``end``."""
        super().__init__(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))

    def as_sqlite(self, compiler, connection, **extra_context):
        """Integer microseconds divided by a million (SQLite divides integers exactly)."""
        return self.as_sql(compiler, connection, template="(%(expressions)s / 1000000)")

    def as_postgresql(self, compiler, connection, **extra_context):
        """The interval's seconds, truncated."""
        return self.as_sql(
            compiler, connection, template="TRUNC(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        )


#: The source's measures besides ``count`` (names of at most 20 characters: alert rules).
EXTRA_MEASURES = {
    # Chats first answered, and the seconds from their opening to that answer.
    "answered": Count("first_response_at"),
    "response_seconds": Sum(
        Seconds("first_response_at", "created_at"), output_field=BigIntegerField()
    ),
    # Chats closed, and the seconds from their opening to their closing.
    "closed": Count("closed_at"),
    "resolution_seconds": Sum(Seconds("closed_at", "created_at"), output_field=BigIntegerField()),
}

SOURCE = register(
    Source(
        name="support",
        model=Chat,
        date_field="created_at",
        date_fields=("closed_at", "first_response_at"),
        value=F("pk"),
        measures=("count", *EXTRA_MEASURES),
        extra_measures=EXTRA_MEASURES,
        dimensions={
            "assignee": Dimension("assignee_id", "assignee__email"),
            "status": Dimension("status", kind="text"),
            "priority": Dimension("priority", kind="text"),
        },
        version="support",
        money=False,
        module="support",
        description=(
            "Support chats, counted by when they were opened, first answered or closed; "
            "seconds to the first response and to the close, summed."
        ),
    )
)


def _mean(seconds: int, count: int) -> float | None:
    """Mean seconds, to the hundredth; ``None`` over no chat."""
    if not count:
        return None
    return float((Decimal(seconds) / count).quantize(Decimal("0.01")))


def _timing(seconds: int, count: int) -> dict:
    """How many chats a duration covers and its mean in seconds."""
    return {"count": count, "average_seconds": _mean(seconds, count)}


def support_summary(
    *,
    tenant: Tenant,
    start_date: datetime.date,
    end_date: datetime.date,
    interval: str = "month",
) -> dict:
    """The organization's support figures over ``start_date``..``end_date``, via the engine.

    ``opened``, ``by_status`` (those chats by their status now) and the ``opened`` series count
    chats by ``created_at``; ``closed`` and ``resolution`` by ``closed_at``; ``first_response``
    by ``first_response_at``. Each figure is one cached engine query; ``by_assignee`` splits
    them by agent (unassigned chats last, with ``assignee`` null).
    """
    base = {"source": "support", "start_date": start_date, "end_date": end_date}

    def document(measure: str, date_field: str, **spec) -> dict:
        """One engine document of the source."""
        query = {**base, "measure": measure, "date_field": date_field, **spec}
        return run_for(tenant=tenant, spec=query)

    by_status = document("count", "created_at", group_by="status")["totals"]
    parts = {
        "opened": document("count", "created_at", group_by="assignee"),
        "closed": document("count", "closed_at", group_by="assignee"),
        "resolution_seconds": document("resolution_seconds", "closed_at", group_by="assignee"),
        "answered": document("count", "first_response_at", group_by="assignee"),
        "response_seconds": document("response_seconds", "first_response_at", group_by="assignee"),
    }
    rows: dict[str | None, dict] = {}
    for part, figures in parts.items():
        for line in figures["series"]:
            email = line["name"] if line["key"] is not None else None
            row = rows.setdefault(line["key"], {"email": email, **dict.fromkeys(parts, 0)})
            row[part] = int(figures["totals"][line["name"]])
    totals = {part: sum(row[part] for row in rows.values()) for part in parts}
    labels: list[str] = []
    series: list[dict] = []
    for name, date_field in (("opened", "created_at"), ("closed", "closed_at")):
        counted = document("count", date_field, interval=interval)
        labels = counted["labels"]
        series.append({**counted["series"][0], "name": name})

    def figures_of(row: dict) -> dict:
        """Counts and mean times of one row of part totals."""
        return {
            "opened": row["opened"],
            "closed": row["closed"],
            "first_response": _timing(row["response_seconds"], row["answered"]),
            "resolution": _timing(row["resolution_seconds"], row["closed"]),
        }

    ordered = sorted(rows.items(), key=lambda item: (item[0] is None, item[1]["email"] or ""))
    return {
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "interval": interval,
        **figures_of(totals),
        "by_status": {status: int(by_status.get(status, 0)) for status in Chat.Status.values},
        "labels": labels,
        "series": series,
        "by_assignee": [
            {"assignee": key, "email": row["email"], **figures_of(row)} for key, row in ordered
        ],
    }
