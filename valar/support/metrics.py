"""The support source of the metrics engine (chats), and ``support/summary/`` read through it.

The engine's measures are additive (sums and counts per bucket, totals summed over buckets),
so durations are measured as sums of whole seconds next to the counts they divide by:
``response_seconds / answered`` is the mean first response time of the chats counted, and
``resolution_seconds / closed`` the mean resolution time. Bucketed by ``first_response_at``
(or ``closed_at``) every row counted has the duration, so ``count`` is the divisor. The engine
has no percentile aggregate (SQLite has none), so the summary's p50 and p90 come from one
window-function query per duration (:func:`duration_percentiles`), cached like the engine's
figures under the ``support`` version.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.db.models import BigIntegerField, Case, Count, F, Sum, Value, When, Window
from django.db.models.functions import RowNumber

from valar.core.metrics import Dimension, Source, register, run_for
from valar.core.metrics.durations import Seconds
from valar.core.metrics.engine import cached_figures, scoped_rows
from valar.core.tenancy import Tenant
from valar.support.models import Chat

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


#: The percentiles the summary gives, and the bit that marks a row holding one (per agent;
#: the same shifted by 2 over every chat).
PERCENTILES = {"p50_seconds": (50, 1), "p90_seconds": (90, 2)}
#: The key of the figures over every chat in :func:`duration_percentiles`' answer.
ALL = "all"


def _is_rank(rank: str, count: str, percent: int, bit: int) -> Case:
    """``bit`` where row ``rank`` is the nearest rank of ``percent`` (``ceil(p * n / 100)``, in
    integers) among ``count`` rows, else 0."""
    nearest = (F(count) * percent + 99) / 100
    return Case(When(**{rank: nearest}, then=Value(bit)), default=Value(0))


def duration_percentiles(
    *, organization, end_field: str, start_date: datetime.date, end_date: datetime.date
) -> dict[str, dict[str, int]]:
    """p50 and p90 (nearest rank) of the seconds from opening to ``end_field`` of the chats
    whose ``end_field`` falls in the period (days in the organization's time zone), per agent
    (``str`` id; ``"None"`` unassigned) and over all (:data:`ALL`).

    One query: window functions rank each chat's seconds within its agent's chats and within
    all, and only the rows at a percentile's rank come back (at most four per agent).
    """
    tz = zoneinfo.ZoneInfo(getattr(organization, "timezone", None) or "UTC")
    rows = scoped_rows(
        organization,
        SOURCE,
        date_field=end_field,
        start=datetime.datetime.combine(start_date, datetime.time.min, tzinfo=tz),
        end=datetime.datetime.combine(
            end_date + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        ),
        filters={},
    )
    seconds = Seconds(end_field, "created_at")
    agent = [F("assignee_id")]
    ranked = rows.annotate(
        seconds=seconds,
        rank=Window(RowNumber(), partition_by=agent, order_by=[F("seconds").asc(), F("pk")]),
        n=Window(Count("pk"), partition_by=agent),
        rank_all=Window(RowNumber(), order_by=[F("seconds").asc(), F("pk")]),
        n_all=Window(Count("pk")),
    )
    marks = None
    for percent, bit in PERCENTILES.values():
        for mark in (
            _is_rank("rank", "n", percent, bit),
            _is_rank("rank_all", "n_all", percent, bit << 2),
        ):
            marks = mark if marks is None else marks + mark
    picked = ranked.annotate(marks=marks).filter(marks__gt=0).order_by()
    found: dict[str, dict[str, int]] = {}
    for row in picked.values("assignee_id", "seconds", "marks"):
        for name, (_, bit) in PERCENTILES.items():
            if row["marks"] & bit:
                found.setdefault(str(row["assignee_id"]), {})[name] = row["seconds"]
            if row["marks"] & (bit << 2):
                found.setdefault(ALL, {})[name] = row["seconds"]
    return found


def _timing(seconds: int, count: int, percentiles: dict | None = None) -> dict:
    """How many chats a duration covers, its mean and its p50 and p90 in seconds."""
    percentiles = percentiles or {}
    return {
        "count": count,
        "average_seconds": _mean(seconds, count),
        **{name: percentiles.get(name) for name in PERCENTILES},
    }


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

    def ranks(end_field: str) -> dict:
        """The period's percentiles of one duration, cached under the ``support`` version."""
        return cached_figures(
            organization=tenant.organization,
            name=f"support-percentiles-{end_field}",
            params={"start": start_date, "end": end_date},
            sources=("support",),
            compute=lambda: duration_percentiles(
                organization=tenant.organization,
                end_field=end_field,
                start_date=start_date,
                end_date=end_date,
            ),
        )

    response_ranks, resolution_ranks = ranks("first_response_at"), ranks("closed_at")

    def figures_of(row: dict, key: str) -> dict:
        """Counts and times of one row of part totals (``key``: its agent, or :data:`ALL`)."""
        return {
            "opened": row["opened"],
            "closed": row["closed"],
            "first_response": _timing(
                row["response_seconds"], row["answered"], response_ranks.get(key)
            ),
            "resolution": _timing(
                row["resolution_seconds"], row["closed"], resolution_ranks.get(key)
            ),
        }

    ordered = sorted(rows.items(), key=lambda item: (item[0] is None, item[1]["email"] or ""))
    return {
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "interval": interval,
        **figures_of(totals, ALL),
        "by_status": {status: int(by_status.get(status, 0)) for status in Chat.Status.values},
        "labels": labels,
        "series": series,
        "by_assignee": [
            {"assignee": key, "email": row["email"], **figures_of(row, str(key))}
            for key, row in ordered
        ],
    }
