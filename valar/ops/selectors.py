"""Reads about the service itself: is each backing component answering?"""

import uuid

from django.core.cache import cache
from django.db import connection


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
