"""Reads about the service itself: is each backing component answering? What is configured?"""

import uuid
from typing import Any

from django.core.cache import cache
from django.db import connection

from valar.core import sysconfig
from valar.core.models import SystemSetting


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
