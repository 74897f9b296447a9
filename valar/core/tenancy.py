"""Tenancy resolution: which organization a request acts in, and as which member.

The organization comes from the ``X-Organization`` header (id or slug), else the caller's
default membership. The result is resolved once per request and cached on it; views,
services and selectors receive the organization explicitly from here.
"""

import datetime
import logging
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from rest_framework import exceptions

from valar.core import entries

if TYPE_CHECKING:
    from valar.organizations.models import Membership, Organization

logger = logging.getLogger("valar.tenancy")

HEADER = "X-Organization"
#: The version scope of one user: ``memberships`` moves on with every change of one of the
#: user's memberships or of an organization they belong to (so one organization's change
#: invalidates only its members' entries); ``account`` with every change of the user.
USER_SCOPE = "user:{}"
MEMBERSHIP_TTL = 300
#: What an organization reference may look like: a UUID or a slug.
REFERENCE_PATTERN = r"[-a-zA-Z0-9_]{1,80}"
_REFERENCE = re.compile(REFERENCE_PATTERN)


@dataclass(frozen=True)
class Tenant:
    """The organization a request acts in and the caller's membership of it."""

    organization: "Organization"
    membership: "Membership"

    @property
    def role(self) -> str:
        """The caller's role in the organization."""
        return self.membership.role


def resolve(request, reference: str | None = None) -> Tenant:
    """Return the request's :class:`Tenant`, resolved once per request.

    ``reference`` is an organization id taken from the URL (``organizations/{id}/...``): a
    caller who is not a member of it gets 404, as for any row of another organization.
    Otherwise the ``X-Organization`` header or the default membership decides, and a caller
    who is not a member gets 403.
    """
    http = getattr(request, "_request", request)
    cache_key = f"valar_tenant:{reference or ''}"
    cached = getattr(http, "valar_tenants", {}).get(cache_key)
    if cached is not None:
        return cached

    user = request.user
    if not (user and user.is_authenticated):
        raise exceptions.NotAuthenticated()
    if reference is not None:
        membership = _cached_membership(http, user, str(reference))
        if membership is None:
            raise exceptions.NotFound()
    else:
        wanted = request.headers.get(HEADER, "").strip()
        membership = _cached_membership(http, user, wanted or None)
        if membership is None:
            if wanted:
                raise exceptions.PermissionDenied("You are not a member of this organization.")
            raise exceptions.PermissionDenied("You are not a member of any organization.")
    tenant = Tenant(organization=membership.organization, membership=membership)
    if not hasattr(http, "valar_tenants"):
        http.valar_tenants = {}
    http.valar_tenants[cache_key] = tenant
    return tenant


def membership_entry(user_pk, reference: str | None) -> tuple[str, tuple[str, str]] | None:
    """The cache key of a user's membership for ``reference`` and the version validating it.

    ``None`` when ``reference`` is neither an id nor a slug (nobody is a member of it).
    """
    if reference is not None and not _REFERENCE.fullmatch(reference):
        return None
    return f"tenant:{user_pk}:{reference or ''}", (USER_SCOPE.format(user_pk), "memberships")


def header_reference(request) -> str | None:
    """The organization the ``X-Organization`` header names, or ``None`` for the default."""
    return request.headers.get(HEADER, "").strip() or None


def _cached_membership(http, user, reference: str | None):
    """The user's membership for ``reference``, from the cache when it is current.

    The entry is valid while the user's memberships version is the one it was stored under
    (every change of one of the user's memberships or organizations bumps it), so a role
    change applies at once. Signing in by session reads it with the user
    (``request.valar_entries``); otherwise it is one round trip with its version.
    """
    from valar.organizations.selectors import membership_for

    entry = membership_entry(user.pk, reference)
    if entry is None:
        return None
    key, pair = entry
    found = getattr(http, "valar_entries", {}).get(key)
    if found is None:
        try:
            found = entries.fetch({key: pair})[key]
        except Exception:  # noqa: BLE001  the cache is down: the database still answers
            logger.warning("Cache unavailable; membership read from the database")
            return membership_for(user=user, organization_ref=reference)
    version, membership = found
    if membership is entries.MISSING:
        membership = membership_for(user=user, organization_ref=reference)
        if membership is not None:
            entries.store(key, version, membership, MEMBERSHIP_TTL)
    return membership


def parse_reference(reference: str) -> dict[str, object]:
    """Turn an ``X-Organization`` value into a lookup: by id when it is a UUID, else slug."""
    try:
        return {"organization_id": uuid.UUID(reference)}
    except ValueError:
        return {"organization__slug": reference}


def local_today(organization: "Organization") -> datetime.date:
    """Today's date where the organization is (its time zone; UTC when it has none)."""
    zone = zoneinfo.ZoneInfo(organization.timezone or "UTC")
    return timezone.now().astimezone(zone).date()
