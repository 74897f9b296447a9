"""Tenancy resolution: which organization a request acts in, and as which member.

The organization comes from the ``X-Organization`` header (id or slug), else the caller's
default membership. The result is resolved once per request and cached on it; views,
services and selectors receive the organization explicitly from here.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from rest_framework import exceptions

from valar.core import versions

if TYPE_CHECKING:
    from valar.organizations.models import Membership, Organization

logger = logging.getLogger("valar.tenancy")

HEADER = "X-Organization"
#: Version scopes: one user's memberships, and every organization (renames, settings).
USER_SCOPE = "user:{}"
GLOBAL_SCOPE = "global"
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
        membership = _cached_membership(user, str(reference))
        if membership is None:
            raise exceptions.NotFound()
    else:
        wanted = request.headers.get(HEADER, "").strip()
        membership = _cached_membership(user, wanted or None)
        if membership is None:
            if wanted:
                raise exceptions.PermissionDenied("You are not a member of this organization.")
            raise exceptions.PermissionDenied("You are not a member of any organization.")
    tenant = Tenant(organization=membership.organization, membership=membership)
    if not hasattr(http, "valar_tenants"):
        http.valar_tenants = {}
    http.valar_tenants[cache_key] = tenant
    return tenant


def _cached_membership(user, reference: str | None):
    """The user's membership for ``reference``, from the cache when it is current.

    The key carries the user's memberships version and the organizations version, which every
    change of a membership or an organization bumps, so a role change applies at once.
    """
    from valar.organizations.selectors import membership_for

    if reference is not None and not _REFERENCE.fullmatch(reference):
        return None  # neither an id nor a slug: nobody is a member of it
    try:
        current = versions.versions_of(
            {USER_SCOPE.format(user.pk): "memberships", GLOBAL_SCOPE: "organizations"}
        )
        key = "tenant:{}:{}:{}".format(user.pk, reference or "", ":".join(map(str, current)))
        membership = cache.get(key)
    except Exception:  # noqa: BLE001  the cache is down: the database still answers
        logger.warning("Cache unavailable; membership read from the database", exc_info=True)
        return membership_for(user=user, organization_ref=reference)
    if membership is None:
        membership = membership_for(user=user, organization_ref=reference)
        if membership is not None:
            cache.set(key, membership, MEMBERSHIP_TTL)
    return membership


def parse_reference(reference: str) -> dict[str, object]:
    """Turn an ``X-Organization`` value into a lookup: by id when it is a UUID, else slug."""
    try:
        return {"organization_id": uuid.UUID(reference)}
    except ValueError:
        return {"organization__slug": reference}
