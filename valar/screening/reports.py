"""Screening figures and files: ``screening/summary/``, ``insights/screening/``, the exports.

Every figure is SQL counting: matches and runs go through the metrics engine (one cached
GROUP BY each, sources in ``screening.metrics``); the entries held per list and the insights'
stock figures are GROUP BYs cached under the organization's ``screening`` version
(``cached_figures``), so a write anywhere in the module shows at once. The median review time
is one window-function query (nearest rank). Exports stream rows straight from a values
query, at most ``EXPORT_MAX_ROWS``.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from valar.core.metrics import run_for
from valar.core.metrics.durations import Seconds
from valar.core.metrics.engine import cached_figures, scoped_rows
from valar.core.tenancy import Tenant
from valar.core.viewsets import EXPORT_MAX_ROWS
from valar.screening import metrics
from valar.screening.models import Entry, ListDocument, Match, Run

#: Decimals of a rate (``confirmed_rate``).
RATE = Decimal("0.0001")
#: Nationalities the insights list.
TOP_NATIONALITIES = 10
#: Months the insights' series covers (this one included).
MONTHS = 12


def _now() -> str:
    """This instant as the API writes it."""
    return timezone.now().isoformat().replace("+00:00", "Z")


def _counted(document: dict, keys) -> dict[str, int]:
    """The engine document's totals per group, every key present (0 when none)."""
    return {key: int(document["totals"].get(key, 0)) for key in keys}


def entry_figures(*, organization) -> dict:
    """The entries the organization holds now: total, per list (most first), per kind."""
    entries = Entry.objects.filter(organization=organization)
    per_document = list(
        entries.values("document_id", "document__name")
        .annotate(entries=Count("pk"))
        .order_by("-entries", "document__name", "document_id")
    )
    per_kind = dict(entries.values_list("kind").annotate(n=Count("pk")).order_by())
    return {
        "total": sum(row["entries"] for row in per_document),
        "by_document": [
            {
                "document": str(row["document_id"]),
                "name": row["document__name"],
                "entries": row["entries"],
            }
            for row in per_document
        ],
        "by_kind": {kind: per_kind.get(kind, 0) for kind in Entry.Kind.values},
    }


def median_review_seconds(
    *, organization, start_date: datetime.date, end_date: datetime.date
) -> int | None:
    """The nearest-rank median of the seconds from a match's making to its review, over the
    matches reviewed in the period (days in the organization's time zone); ``None`` when none.

    A match that carried an earlier review of the same pair (reviewed before it was made) is
    not a review and is left out. One query: the rows are ranked by their seconds and only
    the one at rank ``ceil(n / 2)`` comes back.
    """
    tz = zoneinfo.ZoneInfo(getattr(organization, "timezone", None) or "UTC")
    rows = scoped_rows(
        organization,
        metrics.MATCHES,
        date_field="reviewed_at",
        start=datetime.datetime.combine(start_date, datetime.time.min, tzinfo=tz),
        end=datetime.datetime.combine(
            end_date + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        ),
        filters={},
    ).filter(reviewed_at__gte=F("created_at"))
    ranked = rows.annotate(
        seconds=Seconds("reviewed_at", "created_at"),
        rank=Window(RowNumber(), order_by=[F("seconds").asc(), F("pk").asc()]),
        n=Window(Count("pk")),
    )
    found = ranked.filter(rank=(F("n") + 1) / 2).order_by().values_list("seconds", flat=True)
    return next(iter(found), None)


def _rate(part: int, whole: int) -> str | None:
    """``part / whole`` to four decimals, as a string; ``None`` over nothing."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE))


def screening_summary(
    *, tenant: Tenant, start_date: datetime.date, end_date: datetime.date
) -> dict:
    """The organization's screening over ``start_date``..``end_date`` (see docs/api.md).

    Runs and matches are those made in the period (by status: as they stand now); the
    entries are those held now; the median review time covers the matches reviewed in the
    period.
    """
    organization = tenant.organization
    period = {"start_date": start_date, "end_date": end_date}

    def engine(source: str, measure: str = "count", **spec) -> dict:
        """One engine document of a screening source over the period."""
        return run_for(tenant=tenant, spec={"source": source, "measure": measure, **period, **spec})

    matches = _counted(engine("screening_matches", group_by="status"), Match.Status.values)
    past = engine("screening_matches", "past_threshold")["totals"]["screening_matches"]
    runs = _counted(engine("screening_runs", group_by="status"), Run.Status.values)
    entries = cached_figures(
        organization=organization,
        name="screening-entries",
        params={},
        sources=(metrics.VERSION,),
        compute=lambda: entry_figures(organization=organization),
    )
    median = cached_figures(
        organization=organization,
        name="screening-median-review",
        params={"start": start_date, "end": end_date},
        sources=(metrics.VERSION,),
        compute=lambda: median_review_seconds(
            organization=organization, start_date=start_date, end_date=end_date
        ),
    )
    reviewed = matches[Match.Status.CONFIRMED] + matches[Match.Status.DISMISSED]
    return {
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "entries": entries,
        "runs": {"total": sum(runs.values()), "by_status": runs},
        "matches": {
            "total": sum(matches.values()),
            "by_status": matches,
            "past_threshold": int(past),
        },
        "confirmed_rate": _rate(matches[Match.Status.CONFIRMED], reviewed),
        "median_review_seconds": median,
        "generated_at": _now(),
    }


# -- insights ------------------------------------------------------------------------------


def stock_figures(*, organization) -> dict:
    """What the organization holds now: entries, lists, matches by status, top nationalities."""
    statuses = dict(
        Match.objects.filter(organization=organization)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_status = {status: statuses.get(status, 0) for status in Match.Status.values}
    nationalities = (
        Entry.objects.filter(organization=organization)
        .exclude(nationality="")
        .values("nationality")
        .annotate(entries=Count("pk"))
        .order_by("-entries", "nationality")[:TOP_NATIONALITIES]
    )
    return {
        "entries": Entry.objects.filter(organization=organization).count(),
        "documents": ListDocument.objects.filter(organization=organization).count(),
        "matches_by_status": by_status,
        "top_nationalities": [dict(row) for row in nationalities],
        "confirmed_hits": by_status[Match.Status.CONFIRMED],
    }


def screening_insights(*, tenant: Tenant) -> dict:
    """``insights/screening/``: the stock figures (cached under the screening version) and
    the matches made per month over the last :data:`MONTHS` months (the engine)."""
    organization = tenant.organization
    today = timezone.localdate()
    month_index = today.year * 12 + today.month - 1 - (MONTHS - 1)
    start = datetime.date(month_index // 12, month_index % 12 + 1, 1)
    monthly = run_for(
        tenant=tenant,
        spec={
            "source": "screening_matches",
            "measure": "count",
            "start_date": start,
            "end_date": today,
            "interval": "month",
        },
    )
    stock = cached_figures(
        organization=organization,
        name="insights-screening",
        params={},
        sources=(metrics.VERSION,),
        compute=lambda: stock_figures(organization=organization),
    )
    return {
        **stock,
        "matches_by_month": [
            {"month": label, "count": count}
            for label, count in zip(monthly["labels"], monthly["series"][0]["data"], strict=True)
        ],
        "generated_at": _now(),
    }


# -- exports -------------------------------------------------------------------------------

#: The columns of an entries export.
ENTRY_COLUMNS = [
    "id",
    "document",
    "document_name",
    "kind",
    "name",
    "names",
    "birth_dates",
    "birth_place",
    "nationality",
    "identifiers",
    "address",
    "reference",
    "created_at",
]
#: The columns of a matches export.
MATCH_COLUMNS = [
    "id",
    "run",
    "subject_kind",
    "subject_id",
    "subject_name",
    "entry",
    "entry_name",
    "document_name",
    "score",
    "threshold",
    "is_match",
    "status",
    "reason",
    "reviewed_at",
    "created_at",
]


def _instant(value: datetime.datetime | None) -> str:
    """An instant as the API writes it (UTC, ``Z``), or an empty cell."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _identifiers(items: list) -> list[str]:
    """An entry's identity numbers as ``kind:value`` cells."""
    return [f"{item.get('kind') or 'other'}:{item.get('value', '')}" for item in items or []]


def export_entries(*, organization, document: ListDocument | None = None):
    """``(columns, rows)`` of the organization's entries (of one list), by name."""
    entries = Entry.objects.filter(organization=organization)
    if document is not None:
        entries = entries.filter(document=document)
    values = entries.order_by("name_key", "pk").values_list(
        "id",
        "document_id",
        "document__name",
        "kind",
        "name",
        "names",
        "birth_dates",
        "birth_place",
        "nationality",
        "identifiers",
        "address",
        "reference",
        "created_at",
    )[:EXPORT_MAX_ROWS]

    def rows():
        """Each entry's cells (identifiers as ``kind:value``)."""
        for row in values.iterator(chunk_size=2000):
            row = list(row)
            row[9] = _identifiers(row[9])
            row[12] = _instant(row[12])
            yield row

    return ENTRY_COLUMNS, rows()


def export_matches(*, organization, run: Run | None = None, document: ListDocument | None = None):
    """``(columns, rows)`` of the organization's matches (of one run, or against one list's
    entries), best first."""
    matches = Match.objects.filter(organization=organization)
    if run is not None:
        matches = matches.filter(run=run)
    if document is not None:
        matches = matches.filter(entry__document=document)
    values = matches.order_by("-score", "created_at", "pk").values_list(
        "id",
        "run_id",
        "subject_kind",
        "subject_id",
        "subject_name",
        "entry_id",
        "entry__name",
        "entry__document__name",
        "score",
        "threshold",
        "is_match",
        "status",
        "reason",
        "reviewed_at",
        "created_at",
    )[:EXPORT_MAX_ROWS]

    def rows():
        """Each match's cells (instants as ISO text: spreadsheets hold no time zone)."""
        for row in values.iterator(chunk_size=2000):
            yield [*row[:13], _instant(row[13]), _instant(row[14])]

    return MATCH_COLUMNS, rows()
