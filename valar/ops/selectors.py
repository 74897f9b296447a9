"""Reads about the service itself: is each backing component answering?"""

import logging
import uuid

from django.core.cache import cache
from django.db import connection

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
