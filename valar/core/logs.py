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

The thread that logs only takes the record's context and queues it
(:class:`BackgroundHandler`); a thread of each process formats it once and writes it to both,
so a request does not wait on the file's lock and writes (the logging cookbook's
``QueueHandler``/``QueueListener``). At most :data:`QUEUE_LIMIT` lines wait; past that, lines
are dropped and counted (``valar_log_lines_dropped_total``) rather than slowing requests.

Background jobs log with their job id by binding it around the work::

    with logs.bound(job_id=str(job.id), job_kind=job.kind, organization=str(job.organization_id)):
        run_the_job()

so every line the job writes, whatever logger, carries those fields.
"""

import atexit
import copy
import logging
import logging.handlers
import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from concurrent_log_handler import ConcurrentRotatingFileHandler
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

    def format(self, record: logging.LogRecord) -> str:
        """The record's line, made once however many handlers write it."""
        line = record.__dict__.get("_valar_json")
        if line is None:
            line = super().format(record)
            record._valar_json = line
        return line

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


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is when the line is written (not when configured)."""

    def __init__(self):
        """No stream of its own."""
        super().__init__(sys.stdout)

    @property
    def stream(self):
        """The current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        """Ignored: the line goes to the current standard output."""


#: Lines that may wait for the writing thread (then new ones are dropped and counted).
QUEUE_LIMIT = 10_000
_handlers: list["BackgroundHandler"] = []


class BackgroundHandler(logging.handlers.QueueHandler):
    """Queue records for a thread that writes them as JSON to stdout and the rotated file.

    Filters attached to this handler (the :class:`ContextFilter`) run in the logging thread,
    so the request's context is taken there; the message and any traceback are rendered
    there too (the arguments may change afterwards). The writing thread starts in each
    process on its first record (a forked worker starts its own).
    """

    def __init__(self, filename: str, max_bytes: int, backups: int, stdout: bool = True):
        """Build the writers (the file, and stdout unless ``stdout`` is false); none runs yet."""
        super().__init__(queue.Queue(QUEUE_LIMIT))
        formatter = JsonFormatter()
        self.targets: list[logging.Handler] = [
            ConcurrentRotatingFileHandler(
                filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        ]
        if stdout:
            self.targets.append(StdoutHandler())
        for target in self.targets:
            target.setFormatter(formatter)
        self._pid: int | None = None
        self._listener: logging.handlers.QueueListener | None = None
        self._start_lock = threading.Lock()
        _handlers.append(self)

    def _start(self) -> None:
        """Start this process's writing thread (again after a fork: threads do not survive)."""
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self.queue = queue.Queue(QUEUE_LIMIT)
            self._listener = logging.handlers.QueueListener(self.queue, *self.targets)
            self._listener.start()
            self._pid = os.getpid()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record (starting the writer in this process first if needed)."""
        if self._pid != os.getpid():
            self._start()
        super().emit(record)

    def enqueue(self, record: logging.LogRecord) -> None:
        """Queue without waiting; a full queue drops the line and counts it."""
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            from valar.core import telemetry

            telemetry.LOG_LINES_DROPPED.inc()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """A copy with the message and the traceback rendered now (the context is already on)."""
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record

    def flush(self) -> None:
        """Wait until every queued line of this process is written."""
        if self._pid == os.getpid():
            self.queue.join()
            for target in self.targets:
                try:
                    target.flush()
                except (OSError, ValueError):  # a closed standard output at exit
                    pass

    def close(self) -> None:
        """Write what is queued, stop the thread and close the writers."""
        with self._start_lock:
            listener, self._listener = self._listener, None
            if listener is not None and self._pid == os.getpid():
                listener.stop()
            self._pid = None
        for target in self.targets:
            target.close()
        super().close()


def flush() -> None:
    """Wait until every line this process logged so far is in the file (and on stdout)."""
    for handler in list(_handlers):
        handler.flush()


@atexit.register
def _flush_at_exit() -> None:
    """Write the queued lines before the process ends."""
    flush()
