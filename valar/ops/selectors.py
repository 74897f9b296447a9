"""Reads about the service itself: is each component answering, what is configured, the
figures Prometheus scrapes, and slices of the log files."""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from valar.core import logs, sysconfig
from valar.core.models import SystemSetting

logger = logging.getLogger("valar.ops")


def database_status() -> str:
    """Return ``ok`` when the database answers a trivial query, else ``error``."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001  any failure means "not answering"
        return "error"
    return "ok"


def cache_status() -> str:
    """Return ``ok`` when the cache stores and returns a value, else ``error``."""
    key = f"health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        answered = cache.get(key) == "1"
        cache.delete(key)
    except Exception:  # noqa: BLE001  any failure means "not answering"
        return "error"
    return "ok" if answered else "error"


def health() -> dict[str, str]:
    """The status of each component and the overall status.

    ``ok`` when both answer; ``degraded`` when only the cache does not (every request is
    still served, from the database); ``error`` when the database does not.
    """
    checks = {"database": database_status(), "cache": cache_status()}
    if checks["database"] != "ok":
        overall = "error"
    else:
        overall = "ok" if checks["cache"] == "ok" else "degraded"
    return {"status": overall, **checks}


#: Seconds a readiness check may wait for the broker or the channel layer.
READY_TIMEOUT = 2.0


def _timed(check) -> dict[str, object]:
    """Run ``check()`` (which returns ``None`` or raises) and report its status and time."""
    started = time.perf_counter()
    try:
        problem = check()
    except Exception as error:  # noqa: BLE001  any failure means "not ready"
        problem = type(error).__name__
    report: dict[str, object] = {
        "status": "error" if problem else "ok",
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if problem:
        report["error"] = problem
    return report


def _check_database() -> str | None:
    """``None`` when the database answers a trivial query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _check_cache() -> str | None:
    """``None`` when the cache stores a value and gives it back."""
    return None if cache_status() == "ok" else "the cache did not store and return a value"


def _check_broker(url: str) -> str | None:
    """``None`` when the Celery broker at ``url`` accepts a connection.

    kombu (Celery's transport library) connects to any broker Celery does; without it, a Redis
    broker is pinged with redis-py.
    """
    try:
        from kombu import Connection
    except ImportError:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return "no client for this broker"
        client = redis.Redis.from_url(
            url, socket_connect_timeout=READY_TIMEOUT, socket_timeout=READY_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
        return None
    with Connection(url, connect_timeout=READY_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=0, timeout=READY_TIMEOUT)
    return None


def _check_channel_layer() -> str | None:
    """``None`` when a message sent on the channel layer comes back."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return "no channel layer"

    async def round_trip() -> bool:
        name = await layer.new_channel()
        await layer.send(name, {"type": "ready.check"})
        message = await asyncio.wait_for(layer.receive(name), READY_TIMEOUT)
        return message.get("type") == "ready.check"

    return None if async_to_sync(round_trip)() else "the message did not come back"


def _check_migrations() -> str | None:
    """``None`` when every migration of the code is applied to the database."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"{len(plan)} migration(s) not applied"
    return None


def readiness() -> dict[str, object]:
    """Whether this process can serve everything: each component checked now, with its time.

    Checks the database, the cache, the Celery broker (when ``CELERY_BROKER_URL`` is set and
    tasks are not run eagerly), the channel layer (when ``CHANNEL_LAYERS`` is set) and that
    no migration is pending (not checked when the database is down). ``status`` is ``error``
    when any check failed, and ``failing`` names them.
    """
    checks: dict[str, dict[str, object]] = {
        "database": _timed(_check_database),
        "cache": _timed(_check_cache),
    }
    broker = getattr(settings, "CELERY_BROKER_URL", None)
    if broker and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        checks["broker"] = _timed(lambda: _check_broker(broker))
    if getattr(settings, "CHANNEL_LAYERS", None):
        checks["channel_layer"] = _timed(_check_channel_layer)
    if checks["database"]["status"] == "ok":
        checks["migrations"] = _timed(_check_migrations)
    else:
        checks["migrations"] = {"status": "error", "ms": 0.0, "error": "database unreachable"}
    failing = [name for name, report in checks.items() if report["status"] != "ok"]
    return {"status": "error" if failing else "ok", "failing": failing, "checks": checks}


def business_metrics() -> Iterator[Metric]:
    """Gauges read at scrape time with SQL ``COUNT``: organizations, users, recent sign-ins."""
    from valar.accounts.models import User
    from valar.organizations.models import Organization

    now = timezone.now()
    users = User.objects.aggregate(
        active=Count("pk", filter=Q(is_active=True)),
        inactive=Count("pk", filter=Q(is_active=False)),
        day=Count("pk", filter=Q(is_active=True, last_login__gte=now - timedelta(days=1))),
        month=Count("pk", filter=Q(is_active=True, last_login__gte=now - timedelta(days=30))),
    )
    yield GaugeMetricFamily(
        "valar_organizations", "Organizations.", value=Organization.objects.count()
    )
    family = GaugeMetricFamily("valar_users", "User accounts by state.", labels=["state"])
    family.add_metric(["active"], users["active"])
    family.add_metric(["inactive"], users["inactive"])
    yield family
    family = GaugeMetricFamily(
        "valar_users_signed_in",
        "Active users whose last sign-in lies within the window (1d, 30d).",
        labels=["window"],
    )
    family.add_metric(["1d"], users["day"])
    family.add_metric(["30d"], users["month"])
    yield family


def log_files() -> list[Path]:
    """The log file and its rotated copies, oldest first (``valar.log.5`` ... ``valar.log``)."""
    base = Path(settings.LOG_FILE)
    rotated = []
    for path in base.parent.glob(base.name + ".*"):
        suffix = path.name[len(base.name) + 1 :]
        if suffix.isdigit():
            rotated.append((int(suffix), path))
    return [path for _, path in sorted(rotated, reverse=True)] + [base]


#: Bytes of log lines gathered before a chunk is handed to the response.
LOG_CHUNK_BYTES = 64 * 1024


def log_slice(*, start: datetime, end: datetime, level: str) -> Iterator[bytes]:
    """The log lines written from ``start`` to ``end`` (inclusive) at ``level`` or above.

    Reads the rotated files line by line, oldest first, and yields chunks of about
    :data:`LOG_CHUNK_BYTES` (never a whole file in memory). Every file is opened before the
    first line is read, so a rotation meanwhile neither skips nor repeats a file; a file last
    written before ``start`` is not read at all. Lines that are not JSON log lines (written
    by something else) are left out.
    """
    logs.flush()  # this process's queued lines are in the file before it is read
    low, high = logs.format_instant(start), logs.format_instant(end)
    minimum = logs.LEVELS[level]
    opened = []
    for path in log_files():
        try:
            if logs.format_time(path.stat().st_mtime) < low:
                continue
            opened.append(path.open("rb"))
        except OSError:  # rotated away or never written: nothing to read there
            continue
    try:
        chunk: list[bytes] = []
        size = 0
        for handle in opened:
            for line in handle:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                moment = record.get("time") if isinstance(record, dict) else None
                if not isinstance(moment, str) or not (low <= moment <= high):
                    continue
                if logs.LEVELS.get(record.get("level"), 0) < minimum:
                    continue
                if not line.endswith(b"\n"):
                    line += b"\n"
                chunk.append(line)
                size += len(line)
                if size >= LOG_CHUNK_BYTES:
                    yield b"".join(chunk)
                    chunk, size = [], 0
        if chunk:
            yield b"".join(chunk)
    finally:
        for handle in opened:
            handle.close()


def config_list() -> list[dict[str, Any]]:
    """Every runtime setting as an operator sees it (one query): value, default, who, when.

    Read from the database, not from this process's copy, so the answer is the stored truth.
    """
    rows = {
        row["key"]: row
        for row in SystemSetting.objects.values(
            "key", "value", "updated_by_id", "updated_by__email", "updated_at"
        )
    }
    return [_item(setting, rows.get(key)) for key, setting in sysconfig.SETTINGS.items()]


def config_get(key: str) -> dict[str, Any] | None:
    """One runtime setting as :func:`config_list` shows it; ``None`` for an unknown key."""
    setting = sysconfig.SETTINGS.get(key)
    if setting is None:
        return None
    row = (
        SystemSetting.objects.filter(key=key)
        .values("key", "value", "updated_by_id", "updated_by__email", "updated_at")
        .first()
    )
    return _item(setting, row)


def _item(setting: sysconfig.Setting, row: dict[str, Any] | None) -> dict[str, Any]:
    """The answer for one key given its row (``None``: never changed)."""
    stored = row["value"] if row is not None else None
    overridden = stored is not None and setting.valid(stored)
    default = setting.default()
    return {
        "key": setting.key,
        "group": setting.group,
        "type": setting.kind,
        "description": setting.description,
        "value": stored if overridden else default,
        "default_value": default,
        "overridden": overridden,
        "updated_by": row["updated_by_id"] if row is not None else None,
        "updated_by_email": row["updated_by__email"] if row is not None else None,
        "updated_at": row["updated_at"] if row is not None else None,
    }


def _task_summary(task: dict) -> dict:
    """What ``ops/celery/`` shows of a task a worker holds: never its parameters."""
    kwargs = task.get("kwargs") or {}
    job_id = kwargs.get("job_id") if isinstance(kwargs, dict) else None
    return {"id": task.get("id", ""), "name": task.get("name", ""), "job_id": job_id}


def queue_depths(names: list[str]) -> list[dict]:
    """Messages waiting in each queue: the broker's ``LLEN`` of its lists, in one round trip.

    Kombu's Redis transport keeps a queue as one list per priority step (``name``,
    ``name\\x06\\x163``, ...); a broker other than Redis answers ``None``.
    """
    from valar.celery import app as celery_app

    with celery_app.connection_for_read() as conn:
        if conn.transport.driver_type != "redis":
            return [{"name": name, "depth": None} for name in names]
        channel = conn.default_channel
        keys = {
            name: [
                f"{name}{channel.sep}{step}" if step else name for step in channel.priority_steps
            ]
            for name in names
        }
        pipe = channel.client.pipeline(transaction=False)
        for name in names:
            for key in keys[name]:
                pipe.llen(key)
        lengths = iter(pipe.execute())
        return [{"name": name, "depth": sum(next(lengths) for _ in keys[name])} for name in names]


def celery_status(*, timeout: float = 1.0) -> dict:
    """Workers that answer, the tasks they run and hold, and each queue's depth.

    In eager mode (no broker) jobs run in the process that starts them: no worker, no queue.
    Workers are found by a broadcast ``ping`` (which waits ``timeout``); their active and
    reserved tasks and consumed queues are then asked of them by name.
    """
    from urllib.parse import urlsplit

    from valar.celery import app as celery_app

    conf = celery_app.conf
    broker = urlsplit(conf.broker_url or "").scheme or "unknown"
    report = {
        "eager": bool(conf.task_always_eager),
        "broker": broker,
        "reachable": True,
        "workers": [],
        "queues": [],
    }
    if conf.task_always_eager:
        return report
    try:
        names = sorted((celery_app.control.inspect(timeout=timeout).ping() or {}).keys())
        queues = {conf.task_default_queue}
        if names:
            asked = celery_app.control.inspect(destination=names, timeout=timeout, limit=len(names))
            active = asked.active() or {}
            reserved = asked.reserved() or {}
            for consumed in (asked.active_queues() or {}).values():
                queues.update(queue["name"] for queue in consumed)
            report["workers"] = [
                {
                    "name": name,
                    "active": [_task_summary(task) for task in active.get(name, [])],
                    "reserved": [_task_summary(task) for task in reserved.get(name, [])],
                }
                for name in names
            ]
        report["queues"] = queue_depths(sorted(queues))
    except Exception:  # noqa: BLE001  an unreachable broker is what the operator needs to see
        logger.warning("Celery broker unreachable for ops/celery", exc_info=True)
        report["reachable"] = False
    return report
