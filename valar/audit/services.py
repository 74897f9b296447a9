"""Writing audit events; the request context comes from the kernel, never from a view."""

from typing import Any

from django.db import models

from valar.audit.models import AuditEvent
from valar.core import batch
from valar.core.middleware import current_request
from valar.core.throttling import client_ip

#: Fields whose values are never stored in an audit row.
SECRET_FIELDS = frozenset({"password", "key_hash", "key", "secret"})


def _context() -> dict[str, Any]:
    """Actor, channel, token, IP, user agent and request id of the current request, if any."""
    request = current_request.get()
    if request is None:
        return {"channel": AuditEvent.Channel.SYSTEM}
    from valar.accounts.models import ApiToken

    user = getattr(request, "user", None)
    token = getattr(request, "auth", None)
    is_token = isinstance(token, ApiToken)
    return {
        "actor": user if user is not None and user.is_authenticated else None,
        "channel": AuditEvent.Channel.TOKEN if is_token else AuditEvent.Channel.SESSION,
        "token_id": token.pk if is_token else None,
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
        "request_id": getattr(request, "id", ""),
    }


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Drop secret fields and make values JSON-safe (``str`` for anything unusual)."""
    safe: dict[str, Any] = {}
    for field, value in changes.items():
        if field in SECRET_FIELDS:
            continue
        if isinstance(value, dict) and set(value) == {"old", "new"}:
            safe[field] = {"old": _json_value(value["old"]), "new": _json_value(value["new"])}
        else:
            safe[field] = _json_value(value)
    return safe


def _json_value(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def audit_record(
    *,
    action: str,
    organization_id: Any = None,
    instance: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEvent:
    """Append one audit event; the request's actor and origin are filled in automatically.

    Inside a write batch (``core.batch``) the event is kept and inserted with the batch's
    other events in one statement when the batch closes.
    """
    context = _context()
    if actor is not None:
        context["actor"] = actor
    event = AuditEvent(
        action=action,
        organization_id=organization_id,
        object_type=instance._meta.label_lower if instance is not None else "",
        object_id=str(instance.pk) if instance is not None else "",
        object_repr=str(instance)[:200] if instance is not None else "",
        changes=clean_changes(changes or {}),
        **context,
    )
    opened = batch.current()
    if opened is not None:
        opened.defer("audit", event, _insert_events)
    else:
        event.save(force_insert=True)
    return event


def _insert_events(events: list[AuditEvent]) -> None:
    """Insert a batch's audit events in one statement."""
    AuditEvent.objects.bulk_create(events)
