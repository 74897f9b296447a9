"""Validating and running metric queries: one GROUP BY, filled buckets, cached documents."""

import datetime
import hashlib
import json
import logging
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DateTimeField, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncQuarter, TruncWeek, TruncYear
from django.utils import timezone
from rest_framework import status

from valar.core import versions
from valar.core.errors import DomainError
from valar.core.limits import MAX_DATE, MAX_REPORT_CELLS, MIN_DATE
from valar.core.metrics.registry import Source, get_source, sources
from valar.core.policy import Access, owner_filter, view_access

logger = logging.getLogger("valar.cache")

INTERVALS = {
    "day": TruncDay,
    "week": TruncWeek,
    "month": TruncMonth,
    "quarter": TruncQuarter,
    "year": TruncYear,
}
#: The longest range a day-by-day query may cover.
MAX_DAY_RANGE = datetime.timedelta(days=5 * 366)
#: Dates whose buckets (a week back, a year on) stay inside Python's calendar.
COMPUTABLE_DATES = (datetime.date(2, 1, 1), datetime.date(9998, 12, 31))
CACHE_TTL = 3600
CENT = Decimal("0.01")


class MetricsError(DomainError):
    """A query spec the engine refuses (400 with the fields at fault)."""

    status = status.HTTP_400_BAD_REQUEST
    code = "invalid_query"


def _parse_date(
    value: Any, name: str, errors: dict, within: tuple[datetime.date, datetime.date]
) -> datetime.date | None:
    """A ``YYYY-MM-DD`` date from the spec within ``within``, or an error under ``name``."""
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.datetime.strptime(str(value), "%Y-%m-%d").date()
        except (TypeError, ValueError):
            errors[name] = ["Give a date as YYYY-MM-DD."]
            return None
    if not within[0] <= day <= within[1]:
        errors[name] = [f"Give a date from {within[0].isoformat()} to {within[1].isoformat()}."]
        return None
    return day


def check_size(spec: dict[str, Any], groups: int) -> None:
    """Refuse a validated spec whose report would hold more than ``MAX_REPORT_CELLS`` cells.

    A report holds one cell per bucket (label) and series (group); ``groups`` is the number of
    series the query found.
    """
    start = datetime.date.fromisoformat(spec["start_date"])
    end = datetime.date.fromisoformat(spec["end_date"])
    labels = len(buckets(start, end, spec["interval"])) if spec["interval"] else 1
    cells = labels * max(groups, 1)
    if cells > MAX_REPORT_CELLS:
        message = (
            f"The report would hold {cells} cells ({labels} buckets x {groups} series); "
            f"at most {MAX_REPORT_CELLS} are allowed: choose a longer interval, a shorter "
            "period, filters or no group_by."
        )
        raise MetricsError(message, code="report_too_large", errors={"interval": [message]})


def validate(spec: dict[str, Any], *, bounded: bool = True) -> dict[str, Any]:
    """Check a query spec; return it normalised, or raise :class:`MetricsError`.

    Callers' specs are ``bounded``: their dates lie in the API's range (1900-01-01 to
    2200-12-31). :func:`run` re-checks specs unbounded, so that a report's own look-back (the
    period before one starting in 1900) still computes; bucket arithmetic stays safe there.
    """
    if not isinstance(spec, dict):
        raise MetricsError("The query must be an object.", errors={"query": ["Not an object."]})
    errors: dict[str, list[str]] = {}
    known = {
        "source",
        "measure",
        "start_date",
        "end_date",
        "interval",
        "group_by",
        "filters",
        "date_field",
    }
    for key in sorted(set(spec) - known):
        errors[key] = ["Unknown key."]
    for key in ("source", "measure", "interval", "group_by", "date_field"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            errors[key] = ["Give a string."]
    if errors:
        raise MetricsError("The query is invalid; see errors.", errors=errors)
    source = get_source(str(spec.get("source", "")))
    if source is None:
        errors["source"] = [f"Choose one of: {', '.join(sorted(sources()))}."]
    measure = spec.get("measure") or "sum"
    if source is not None and measure not in source.measures:
        errors["measure"] = [f"Choose one of: {', '.join(source.measures)}."]
    within = (MIN_DATE, MAX_DATE) if bounded else COMPUTABLE_DATES
    start = _parse_date(spec.get("start_date"), "start_date", errors, within)
    end = _parse_date(spec.get("end_date"), "end_date", errors, within)
    if start and end and end < start:
        errors["end_date"] = ["end_date must not be before start_date."]
    interval = spec.get("interval") or None
    if interval is not None and interval not in INTERVALS:
        errors["interval"] = [f"Choose one of: {', '.join(INTERVALS)}, or none."]
    if interval == "day" and start and end and end - start > MAX_DAY_RANGE:
        errors["interval"] = ["A day-by-day query covers at most 5 years."]
    date_field = spec.get("date_field") or (source.date_field if source else None)
    if source is not None and date_field not in source.allowed_date_fields():
        errors["date_field"] = [f"Choose one of: {', '.join(source.allowed_date_fields())}."]
    group_by = spec.get("group_by") or None
    if source is not None and group_by is not None and group_by not in source.dimensions:
        errors["group_by"] = [f"Choose one of: {', '.join(source.dimensions)}, or none."]
    filters = spec.get("filters") or {}
    if not isinstance(filters, dict):
        errors["filters"] = ["Give an object of dimension -> id or ids."]
        filters = {}
    clean_filters: dict[str, list[str]] = {}
    for name, value in filters.items():
        if source is not None and name not in source.dimensions:
            errors.setdefault("filters", []).append(f"Unknown dimension: {name}.")
            continue
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str | int) for item in values):
            errors.setdefault("filters", []).append(f"{name}: give an id or a list of ids.")
            continue
        if source is not None and source.dimensions[name].kind == "uuid":
            try:
                values = [str(uuid.UUID(str(item))) for item in values]
            except ValueError:
                errors.setdefault("filters", []).append(f"{name}: give ids (UUIDs).")
                continue
        clean_filters[name] = sorted(str(item) for item in values)
    if errors:
        raise MetricsError("The query is invalid; see errors.", errors=errors)
    return {
        "source": source.name,
        "measure": measure,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "interval": interval,
        "group_by": group_by,
        "filters": clean_filters,
        "date_field": date_field,
    }


def _bucket_start(day: datetime.date, interval: str) -> datetime.date:
    """The first day of the bucket that holds ``day``."""
    if interval == "day":
        return day
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _next_bucket(day: datetime.date, interval: str) -> datetime.date:
    """The first day of the bucket after the one starting on ``day``."""
    if interval == "day":
        return day + datetime.timedelta(days=1)
    if interval == "week":
        return day + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[interval]
    month_index = day.month - 1 + months
    return day.replace(year=day.year + month_index // 12, month=month_index % 12 + 1, day=1)


def bucket_label(day: datetime.date, interval: str) -> str:
    """How a bucket is named: a date, ``2026-01``, ``2026-Q1`` or ``2026``."""
    if interval in ("day", "week"):
        return day.isoformat()
    if interval == "month":
        return f"{day.year}-{day.month:02d}"
    if interval == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def buckets(start: datetime.date, end: datetime.date, interval: str) -> list[datetime.date]:
    """Every bucket start from the one holding ``start`` to the one holding ``end``."""
    current, last, result = _bucket_start(start, interval), _bucket_start(end, interval), []
    while current <= last:
        result.append(current)
        current = _next_bucket(current, interval)
    return result


def _format(value: Any, source: Source, measure: str) -> Any:
    """A measure's value as the document carries it (money: decimal strings)."""
    if value is None:
        return None
    if measure == "count":
        return int(value)
    if source.money:
        return str(Decimal(value).quantize(CENT))
    if measure == "avg":
        return float(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        # A whole sum that is not money (seconds): totals are summed as Decimals.
        return int(value)
    return value


def _cache_key(organization, spec: dict[str, Any], source: Source) -> str:
    """The cache key: the spec and the organization's current version of the source."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]
    version = versions.version(organization.pk, source.version or source.name)
    return f"metrics:{organization.pk}:{digest}:{version}"


def run(
    *, organization, spec: dict[str, Any], use_cache: bool = True, owner: str | None = None
) -> dict[str, Any]:
    """Validate and run a query spec for ``organization``; the result document, cached.

    ``owner`` (a user id) counts only the rows that user owns. Figures shown to a member go
    through :func:`run_for`, which sets it from what they may read.
    """
    spec = validate(spec, bounded=False)
    if owner is not None:
        spec["owner"] = str(owner)
    source = get_source(spec["source"])
    key = None
    if use_cache:
        key, cached = _read_cached(lambda: _cache_key(organization, spec, source))
        if cached is not None:
            return cached
    document = _compute(organization, spec, source)
    _store_cached(key, document)
    return document


def _read_cached(make_key) -> tuple[str | None, Any]:
    """``(key, cached value or None)``; ``(None, None)`` when the cache cannot be reached.

    Without a key nothing is stored: a result is never cached under a version that could not
    be read.
    """
    try:
        key = make_key()
        return key, cache.get(key)
    except Exception:  # noqa: BLE001  the cache is down: compute from the database
        logger.warning("Cache unavailable; figures computed from the database")
        return None, None


def _store_cached(key: str | None, value: Any) -> None:
    """Cache ``value`` under ``key`` when there is one (a cache error is only logged)."""
    if key is None:
        return
    try:
        cache.set(key, value, CACHE_TTL)
    except Exception:  # noqa: BLE001
        logger.warning("Cache unavailable; figures not cached")


def owner_scope(tenant, module: str) -> str | None:
    """Whose rows alone the caller's figures of ``module`` count: their id under ``view: own``.

    ``None`` means every row of the organization. Whether the caller may see the module at
    all is the caller's check (``NONE`` is not answered here).
    """
    if module and view_access(membership=tenant.membership, module=module) == Access.OWN:
        return str(tenant.membership.user_id)
    return None


def run_for(*, tenant, spec: dict[str, Any], use_cache: bool = True) -> dict[str, Any]:
    """Validate and run a query spec as ``tenant``'s member may see it; cached.

    A member whose ``view`` of the source's module is ``own`` gets figures of the rows they
    own only (the source model's ``owner_fields``): the spec carries ``owner``, so the
    document says so and the cache keeps restricted and full results apart.
    """
    source = get_source(str(spec.get("source", ""))) if isinstance(spec, dict) else None
    owner = owner_scope(tenant, source.module) if source is not None else None
    return run(organization=tenant.organization, spec=spec, use_cache=use_cache, owner=owner)


def grouped_queryset(organization, spec: dict[str, Any], source: Source):
    """The one GROUP BY a validated spec runs (a values queryset, or an aggregate query)."""
    start = datetime.date.fromisoformat(spec["start_date"])
    end = datetime.date.fromisoformat(spec["end_date"])
    interval, group_by, measure = spec["interval"], spec["group_by"], spec["measure"]
    field_name = spec.get("date_field") or source.date_field
    date_field = source.model._meta.get_field(field_name)
    is_datetime = isinstance(date_field, DateTimeField)
    tz = zoneinfo.ZoneInfo(getattr(organization, "timezone", None) or "UTC")

    if is_datetime:
        lower = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
        upper = datetime.datetime.combine(
            end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        )
    else:
        lower, upper = start, end + datetime.timedelta(days=1)
    rows = scoped_rows(
        organization,
        source,
        date_field=field_name,
        start=lower,
        end=upper,
        filters=spec["filters"],
        owner=spec.get("owner"),
    )

    group_fields: list[str] = []
    annotations: dict[str, Any] = {}
    if interval:
        trunc = INTERVALS[interval]
        annotations["bucket"] = trunc(field_name, tzinfo=tz) if is_datetime else trunc(field_name)
        group_fields.append("bucket")
    if group_by:
        dimension = source.dimensions[group_by]
        group_fields.append(dimension.key)
        if dimension.label:
            group_fields.append(dimension.label)
    values = {"result": source.aggregate(measure)}
    if measure == "avg":
        values = {"total": Sum(source.value), "n": Count("pk")}
    if not group_fields:
        return rows, values
    return rows.annotate(**annotations).values(*group_fields).annotate(**values).order_by(), None


def scoped_rows(
    organization,
    source: Source,
    *,
    date_field: str,
    start: datetime.date | datetime.datetime | None,
    end: datetime.date | datetime.datetime,
    filters: dict[str, list[str]],
    owner: str | None = None,
):
    """The source's rows of ``organization`` whose ``date_field`` lies in ``[start, end)``.

    The bounds are dates for a date field and aware instants for a datetime field; ``start``
    ``None`` leaves the range open below. ``filters`` are validated (dimension -> ids) and
    ``owner`` keeps only the rows that user owns. Every figure the engine computes starts here.
    """
    rows = source.model.objects.filter(organization=organization).filter(source.filter)
    if start is not None:
        rows = rows.filter(**{f"{date_field}__gte": start})
    rows = rows.filter(**{f"{date_field}__lt": end})
    for name, values in filters.items():
        rows = rows.filter(**{f"{source.dimensions[name].key}__in": values})
    if owner is not None:
        rows = rows.filter(owner_filter(source.model, owner))
    return rows


def is_datetime_field(source: Source, date_field: str) -> bool:
    """Whether ``date_field`` of the source is a datetime (bucketed in the organization's zone)."""
    return isinstance(source.model._meta.get_field(date_field), DateTimeField)


def figures(
    *,
    organization,
    source: Source,
    measures: list[str],
    date_field: str,
    start: datetime.date | datetime.datetime | None,
    end: datetime.date | datetime.datetime,
    filters: dict[str, list[str]],
) -> dict[str, Decimal | None]:
    """Each of ``measures`` over the source's rows in ``[start, end)``, in one aggregate query.

    Unlike :func:`run` this takes any instants (the last hour, not only whole days) and is not
    cached: it answers figures that must be current (alert rules). Values are exact
    ``Decimal``s: an empty sum or count is ``0``; an empty ``min``/``max``/``avg`` is ``None``.
    """
    rows = scoped_rows(
        organization, source, date_field=date_field, start=start, end=end, filters=filters
    )
    result = rows.aggregate(
        **{f"m_{index}": source.aggregate(measure) for index, measure in enumerate(measures)}
    )
    values: dict[str, Decimal | None] = {}
    for index, measure in enumerate(measures):
        value = result[f"m_{index}"]
        if value is None and measure not in ("min", "max", "avg"):
            value = 0
        values[measure] = None if value is None else Decimal(str(value))
    return values


def _compute(organization, spec: dict[str, Any], source: Source) -> dict[str, Any]:
    """Run the spec as one GROUP BY and shape the document."""
    queryset, aggregate = grouped_queryset(organization, spec, source)
    grouped = [queryset.aggregate(**aggregate)] if aggregate else list(queryset)
    dimension = source.dimensions[spec["group_by"]] if spec["group_by"] else None
    check_size(spec, len({row.get(dimension.key) for row in grouped}) if dimension else 1)
    start = datetime.date.fromisoformat(spec["start_date"])
    end = datetime.date.fromisoformat(spec["end_date"])
    return _document(organization, spec, source, grouped, start, end)


def _document(organization, spec, source, grouped, start, end) -> dict[str, Any]:
    """Fill empty buckets, name the series, total them."""
    interval, group_by, measure = spec["interval"], spec["group_by"], spec["measure"]
    labels_for = buckets(start, end, interval) if interval else [None]
    labels = (
        [bucket_label(day, interval) for day in labels_for]
        if interval
        else [f"{spec['start_date']}..{spec['end_date']}"]
    )
    dimension = source.dimensions.get(group_by) if group_by else None
    cells: dict[tuple, dict[str, Any]] = {}
    names: dict[Any, str] = {}
    for row in grouped:
        bucket = row.get("bucket")
        if isinstance(bucket, datetime.datetime):
            bucket = bucket.date()
        group = row.get(dimension.key) if dimension else None
        if dimension:
            names[group] = str(row.get(dimension.label) if dimension.label else group)
        cells[(bucket, group)] = row
    groups = sorted(names, key=lambda g: (names[g] == "None", names[g])) if dimension else [None]

    def value_of(row: dict[str, Any] | None) -> Any:
        if row is None:
            return 0 if measure not in ("min", "max", "avg") else None
        if measure == "avg":
            return (Decimal(row["total"]) / row["n"]) if row["n"] else None
        if row["result"] is None:
            return 0 if measure not in ("min", "max") else None
        return row["result"]

    series, totals = [], {}
    for group in groups:
        raw = [value_of(cells.get((bucket, group))) for bucket in labels_for]
        name = names.get(group, source.name) if dimension else source.name
        rows_of_group = [cells.get((bucket, group)) for bucket in labels_for]
        series.append(
            {
                "name": name,
                "key": str(group) if group is not None else None,
                "data": [_format(v, source, measure) for v in raw],
            }
        )
        totals[name] = _format(_total(measure, raw, rows_of_group), source, measure)
    return {
        "labels": labels,
        "series": series,
        "totals": totals,
        "currency": organization.base_currency if source.money and measure != "count" else None,
        "query": spec,
        "generated_at": timezone.now().isoformat().replace("+00:00", "Z"),
    }


def _total(measure: str, raw: list[Any], rows: list[dict[str, Any] | None]) -> Any:
    """A series' total from its buckets (an average from the buckets' sums and counts)."""
    present = [value for value in raw if value is not None]
    if measure not in ("count", "min", "max", "avg"):  # sum and additive extra measures
        return sum((Decimal(value) for value in present), Decimal(0))
    if measure == "count":
        return sum(present, 0)
    if measure == "min":
        return min(present) if present else None
    if measure == "max":
        return max(present) if present else None
    total = sum((Decimal(row["total"]) for row in rows if row and row["n"]), Decimal(0))
    count = sum(row["n"] for row in rows if row)
    return total / count if count else None


def cached_figures(*, organization, name: str, params: dict, sources: tuple[str, ...], compute):
    """``compute()`` cached under the organization's versions of ``sources`` (never stale)."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()

    def make_key() -> str:
        """The key under the organization's current versions of ``sources``."""
        current = versions.versions(organization.pk, sources)
        return f"figures:{organization.pk}:{name}:{digest[:32]}:" + ":".join(
            str(current[source]) for source in sorted(current)
        )

    key, value = _read_cached(make_key)
    if value is None:
        value = compute()
        _store_cached(key, value)
    return value


def source_version(organization, source_name: str) -> str:
    """The current version of a registered source, as stored on computed charts.

    ``""`` when the cache cannot be reached: a chart computed then reads as stale once the
    version is known again, and no chart reads as stale while it is not.
    """
    source = get_source(source_name)
    try:
        return str(versions.version(organization.pk, source.version or source.name))
    except Exception:  # noqa: BLE001  the cache is down
        logger.warning("Cache unavailable; source version unknown")
        return ""
