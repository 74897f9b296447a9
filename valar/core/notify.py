"""Notifying people: the one entry point every app uses, :func:`notify` (:func:`notify_many`).

``notify()`` writes one ``notifications.Notification`` row per recipient in one ``INSERT``
(``bulk_create``; no query per recipient), and once the transaction commits:

1. sends each row to its recipient's sockets: the channel-layer group of the user in that
   organization (:func:`user_group`), which every open ``ws/notifications/`` socket of the
   user in that organization has joined (``notifications.consumers``);
2. e-mails the recipients who want it: the background job ``notifications.email``
   (``valar.notifications.tasks``; a platform job, listed by no organization) runs
   :func:`deliver_notification_emails`, so no request waits for a mail server. Its row is
   written in the same transaction as the notifications and its message is sent on commit.
   With ``email_after`` the rows wait instead (``email_due_at``): the every-minute job
   ``notifications.email_due`` (:func:`deliver_due_emails`) e-mails those still unread then.

Nothing is sent for a transaction that rolls back. A failure of the channel layer is logged,
never raised: the rows are written and listed either way. A mail server that cannot be
reached makes the job try again with a growing delay (nothing was sent, so nothing is sent
twice); one that fails part-way is logged and not retried (some messages went out).
"""

import asyncio
import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from valar.core import mail

logger = logging.getLogger("valar.notify")

#: What a notification is about; a user's ``notification_opt_outs`` preference names kinds
#: whose e-mails they do not want (in-app notifications always arrive).
KINDS = (
    "tasks",
    "crm",
    "finance",
    "insights",
    "screening",
    "support",
    "security",
    "announcements",
    "alerts",
    "jobs",
)
#: How a client should show it.
LEVELS = ("info", "success", "warning", "error")
#: The channel-layer event a socket receives for a new notification.
EVENT = "notification.created"
#: The job that e-mails new notifications (``valar.notifications.tasks``).
EMAIL_JOB = "notifications.email"
#: The fields of a notification as the API and the sockets show it.
FIELDS = ("id", "kind", "level", "title", "body", "link", "read_at", "created_by", "created_at")

_datetime = serializers.DateTimeField()


def user_group(organization_id, user_id) -> str:
    """The channel-layer group of one user's sockets in one organization."""
    return f"notifications.{_hex(organization_id)}.{_hex(user_id)}"


def _hex(value) -> str:
    """A UUID (or its text) as 32 hex digits (group names allow letters, digits, ``.``)."""
    return str(value).replace("-", "")


def as_json(notification) -> dict[str, Any]:
    """A notification as ``notifications/`` answers it (and as sockets receive it)."""
    return {
        "id": str(notification.pk),
        "kind": notification.kind,
        "level": notification.level,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "read_at": _datetime.to_representation(notification.read_at)
        if notification.read_at
        else None,
        "created_by": str(notification.created_by_id) if notification.created_by_id else None,
        "created_at": _datetime.to_representation(notification.created_at),
    }


@dataclass(frozen=True)
class Message:
    """One message of :func:`notify_many`: who gets it and what it says."""

    recipients: Iterable
    title: str
    body: str = ""
    link: str = ""


def notify(
    *,
    organization,
    recipients: Iterable,
    title: str,
    kind: str,
    body: str = "",
    link: str = "",
    level: str = "info",
    actor=None,
    email_after: datetime.timedelta | None = None,
) -> list:
    """Notify ``recipients`` (users or user ids) in ``organization``; return the new rows.

    Recipients who are not members of the organization are dropped (one query), so nothing
    reaches a user outside it; each member gets one row, whatever the duplicates. The rows
    are inserted in bulk; live delivery and e-mails follow the commit.
    """
    return notify_many(
        organization=organization,
        messages=[Message(recipients=recipients, title=title, body=body, link=link)],
        kind=kind,
        level=level,
        actor=actor,
        email_after=email_after,
    )


def notify_many(
    *,
    organization,
    messages: Iterable[Message],
    kind: str,
    level: str = "info",
    actor=None,
    email_after: datetime.timedelta | None = None,
) -> list:
    """Send several messages of one ``kind`` in ``organization`` at once; return the new rows.

    What :func:`notify` does for one message, for any number of them in the same statements:
    one query drops the recipients who are not members, one ``INSERT`` writes every row, one
    e-mail job takes them all. A bulk write notifies through it (one message per row).
    With ``email_after``, nothing is e-mailed now: each row is e-mailed by
    :func:`deliver_due_emails` once that much time has passed, if it is still unread.
    """
    from valar.notifications.models import Notification
    from valar.organizations.models import Membership

    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if level not in LEVELS:
        raise ValueError(f"Unknown notification level {level!r}")
    wanted = []
    for message in messages:
        users = {getattr(recipient, "pk", recipient) for recipient in message.recipients}
        users.discard(None)
        if users:
            wanted.append((message, users))
    if not wanted:
        return []
    members = set(
        Membership.objects.filter(
            organization=organization,
            user_id__in=set().union(*(users for _, users in wanted)),
        ).values_list("user_id", flat=True)
    )
    if not members:
        return []
    actor_id = getattr(actor, "pk", actor)
    email_due_at = timezone.now() + email_after if email_after is not None else None
    rows = Notification.objects.bulk_create(
        [
            Notification(
                organization=organization,
                user_id=user_id,
                kind=kind,
                level=level,
                title=message.title,
                body=message.body,
                link=message.link,
                created_by_id=actor_id,
                email_due_at=email_due_at,
            )
            for message, users in wanted
            for user_id in sorted(users & members, key=str)
        ]
    )
    if not rows:
        return []
    live = [(user_group(organization.pk, row.user_id), as_json(row)) for row in rows]
    transaction.on_commit(partial(send_live, live), robust=True)
    if email_due_at is not None:
        return rows
    from valar.jobs.services import job_start

    job_start(
        organization=None,
        user=None,
        kind=EMAIL_JOB,
        notification_ids=[str(row.pk) for row in rows],
    )
    return rows


def send_live(messages: list[tuple[str, dict]]) -> None:
    """Send each ``(group, notification)`` to its group's sockets; log a failing layer."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        # Concurrently: on Redis each group send is its own round trips, none waits for another.
        await asyncio.gather(
            *(
                layer.group_send(group, {"type": EVENT, "notification": payload})
                for group, payload in messages
            )
        )

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001  the layer (Redis) is down: the rows are listed anyway
        logger.exception("Could not send %d notifications to sockets", len(messages))


def deliver_notification_emails(notification_ids: list, *, retry: bool = False) -> int:
    """E-mail the notifications ``notification_ids`` to their recipients who want them.

    One query reads the rows with their users and organizations; a row is e-mailed when its
    user is active, has a verified e-mail address (nobody gets an organization's messages at
    an address they never proved) and has not opted out of its kind
    (``preferences.notification_opt_outs``). All messages go over one connection. Returns how
    many were sent. With ``retry``, a mail server that cannot be reached raises
    ``core.mail.MailUnavailable`` (nothing sent) for the job to try again.
    """
    from valar.notifications.models import Notification

    rows = Notification.objects.filter(
        pk__in=notification_ids, user__is_active=True, user__email_verified_at__isnull=False
    ).select_related("user", "organization")
    messages = []
    for row in rows:
        opted_out = (row.user.preferences or {}).get("notification_opt_outs") or []
        if row.kind in opted_out:
            continue
        text = row.body
        if row.link:
            link = row.link if "://" in row.link else f"{settings.PUBLIC_URL}{row.link}"
            text = f"{text}\n\n{link}" if text else link
        messages.append((row.user.email, f"[{row.organization.name}] {row.title}", text))
    return mail.send_many(messages, raise_unavailable=retry)


#: The most waiting e-mails one run of :func:`deliver_due_emails` sends (the next run, a
#: minute later, takes the rest).
DUE_BATCH = 500


def deliver_due_emails(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """E-mail the notifications whose ``email_due_at`` has come and that are still unread.

    In one transaction: the due rows are locked (``SKIP LOCKED``: two runs never take the
    same row), their ``email_due_at`` cleared, the unread ones e-mailed. A mail server that
    cannot be reached raises ``MailUnavailable`` before anything is sent: the transaction
    rolls back and the rows wait for the next run, so nothing is lost and nothing goes twice.
    Returns ``{"due", "sent"}``.
    """
    from valar.notifications.models import Notification

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(email_due_at__isnull=False, email_due_at__lte=now)
            .order_by("email_due_at")
            .values_list("pk", "read_at")[:DUE_BATCH]
        )
        if not due:
            return {"due": 0, "sent": 0}
        Notification.objects.filter(pk__in=[pk for pk, _ in due]).update(email_due_at=None)
        unread = [pk for pk, read_at in due if read_at is None]
        sent = deliver_notification_emails(unread, retry=True) if unread else 0
    return {"due": len(due), "sent": sent}
