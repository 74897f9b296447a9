"""Structured logs: one JSON object a line (python-json-logger), with the request's context.

Every line carries ``time`` (UTC, milliseconds), ``level``, ``logger`` and ``message``, then
the context it was written in: inside a request ``request_id``, and ``organization`` and
``user`` once the request has resolved them (never resolved for the log's sake: no cache or
database read is added), and anything bound with :func:`bound`. The access log
(``valar.access``, one line per request, written by
``core.middleware.RequestTelemetryMiddleware``) adds ``method``, ``path``, ``route``,
``status``, ``duration_ms`` and ``db_queries``.

Lines go to standard output and to a size-rotated file (``LOG_DIR``/``valar.log``, rotated at
``LOG_FILE_MAX_BYTES`` into ``valar.log.1`` ... ``valar.log.<LOG_FILE_BACKUPS>``) through
concurrent-log-handler, which rotates safely when several processes write the same file.
``ops/logs/`` reads slices of those files back (``valar.ops.selectors.log_slice``).

Background jobs log with their job id by binding it around the work::

    with logs.bound(job_id=str(job.id), job_kind=job.kind, organization=str(job.organization_id)):
        run_the_job()

so every line the job writes, whatever logger, carries those fields.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from django.utils.functional import SimpleLazyObject
from pythonjsonlogger.orjson import OrjsonFormatter

#: Log levels by name, as ``ops/logs/`` filters them.
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
#: Fields bound for the current context (a job, a command) by :func:`bound`.
_bound: ContextVar[dict[str, object]] = ContextVar("valar_log_fields", default={})  # noqa: B039
#: The fields every line starts with, in this order.
_FIRST = ("time", "level", "logger", "message")
#: Record attributes that are not extra fields of the line.
_RESERVED = frozenset(
    logging.makeLogRecord({}).__dict__.keys()
    | {"message", "asctime", "taskName", "request_id", "organization", "user"}
)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every line logged inside the block (this thread or task only)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


def format_time(created: float) -> str:
    """A record's time as written in every line: ``2026-01-31T09:15:00.123Z`` (UTC)."""
    return format_instant(datetime.fromtimestamp(created, UTC))


def format_instant(moment: datetime) -> str:
    """An aware instant in the lines' format (fixed width, so text order is time order)."""
    moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def request_identity(request) -> tuple[str | None, str | None]:
    """The organization id and user id a request has resolved so far (never resolving them).

    The session's user is a lazy object: it is read only if something already evaluated it
    (``_cached_user``); a token or JWT user is set on the request by DRF. The organization is
    the tenant the views resolved (``core.tenancy.resolve``).
    """
    user = request.__dict__.get("user")
    if type(user) is SimpleLazyObject:
        user = request.__dict__.get("_cached_user")
    user_id = str(user.pk) if user is not None and user.is_authenticated else None
    tenants = request.__dict__.get("valar_tenants")
    organization = None
    if tenants:
        organization = str(next(iter(tenants.values())).organization.pk)
    return organization, user_id


class ContextFilter(logging.Filter):
    """Add the request's id, organization and user, and the bound fields, to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``request_id``, ``organization``, ``user`` (unless given) and bound fields."""
        from valar.core.middleware import current_request

        request = current_request.get()
        if request is not None and not hasattr(record, "request_id"):
            record.request_id = getattr(request, "id", None)
            record.organization, record.user = request_identity(request)
        for name, value in _bound.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(OrjsonFormatter):
    """One JSON object a line: time, level, logger, message, the context, then extra fields."""

    def __init__(self, *args, **kwargs):
        """python-json-logger's orjson formatter, skipping the standard record attributes."""
        kwargs.setdefault("reserved_attrs", sorted(_RESERVED))
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        """Write the fixed fields first (``ops/logs/`` reads ``time`` and ``level``)."""
        log_data["time"] = format_time(record.created)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        for name in ("request_id", "organization", "user"):
            value = getattr(record, name, None)
            if value is not None:
                log_data[name] = value
        super().add_fields(log_data, record, message_dict)
