"""Notification use cases: mark read, mark all read, and an admin's message to members.

New notifications are written only by ``valar.core.notify.notify``.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core.errors import DomainError
from valar.core.notify import notify
from valar.core.tenancy import Tenant
from valar.notifications.models import Notification
from valar.organizations.models import Membership, Team


def notification_read(*, notification: Notification) -> Notification:
    """Mark a notification read (once: a second read keeps the first time)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_read_all(*, tenant: Tenant) -> int:
    """Mark every unread notification of the caller in the organization read; return how many."""
    return Notification.objects.filter(
        organization=tenant.organization, user=tenant.membership.user, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_read_about(*, organization, user_id, kind: str, link: str) -> int:
    """Mark the user's unread notifications of ``kind`` about ``link`` read (a chat they just
    read, say); return how many. Their waiting e-mails are then not sent."""
    return Notification.objects.filter(
        organization=organization, user_id=user_id, kind=kind, link=link, read_at__isnull=True
    ).update(read_at=timezone.now())


def _unknown(wanted: list, found) -> list[str]:
    """The ids of ``wanted`` that are not in ``found``, as text, in the order given."""
    known = {str(value) for value in found}
    return [str(value) for value in wanted if str(value) not in known]


@transaction.atomic
def notification_send(
    *,
    tenant: Tenant,
    title: str,
    body: str = "",
    link: str = "",
    level: str = "info",
    users: list | None = None,
    teams: list | None = None,
    everyone: bool = False,
) -> int:
    """An admin's message to members, to the members of teams, or to the whole organization.

    Every id must be a member (users) or a team of the organization: an unknown or foreign
    id is a 400 naming it, and nothing is sent. Recipients are read in one query; returns
    how many were notified.
    """
    organization = tenant.organization
    users, teams = list(dict.fromkeys(users or [])), list(dict.fromkeys(teams or []))
    if not (users or teams or everyone):
        raise DomainError(
            "Name the recipients: users, teams or everyone.",
            code="no_recipients",
            errors={"non_field_errors": ["Name the recipients: users, teams or everyone."]},
        )
    errors = {}
    if users:
        found = Membership.objects.filter(organization=organization, user_id__in=users)
        missing = _unknown(users, found.values_list("user_id", flat=True))
        if missing:
            errors["users"] = [f"Not a member of this organization: {', '.join(missing)}."]
    if teams:
        found = Team.objects.filter(organization=organization, pk__in=teams)
        missing = _unknown(teams, found.values_list("pk", flat=True))
        if missing:
            errors["teams"] = [f"No such team in this organization: {', '.join(missing)}."]
    if errors:
        raise DomainError("Some recipients are not in this organization.", errors=errors)
    members = Membership.objects.filter(organization=organization)
    if not everyone:
        members = members.filter(
            Q(user_id__in=users)
            | Q(
                user__team_memberships__team_id__in=teams,
                user__team_memberships__team__organization=organization,
            )
        )
    recipients = members.values_list("user_id", flat=True).distinct()
    rows = notify(
        organization=organization,
        recipients=list(recipients),
        title=title,
        body=body,
        link=link,
        level=level,
        kind="announcements",
        actor=tenant.membership.user,
    )
    audit_record(
        action="notification.send",
        organization_id=organization.pk,
        changes={
            "title": title,
            "recipients": len(rows),
            "users": [str(value) for value in users],
            "teams": [str(value) for value in teams],
            "everyone": everyone,
        },
    )
    return len(rows)
