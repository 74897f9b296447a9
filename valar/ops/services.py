"""Operational writes: the demo data ``make run`` creates on an empty database."""

import secrets

from django.db import transaction

from valar.accounts.models import User
from valar.accounts.services import user_create
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.organizations.models import Membership
from valar.organizations.services import organization_create, team_create, team_member_add

DEMO_EMAIL = "admin@valar.local"
DEMO_TEAMS = ("Sales", "Operations")


@transaction.atomic
def demo_seed() -> tuple[User, str] | None:
    """Create the demo admin and organization when the database has no users.

    The organization "Valar Demo" gets two teams and a worker; returns the admin and its
    password.

    Returns ``None`` (and changes nothing) when any user exists, so the credentials are
    printed once, on the first run.
    """
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_create(email=DEMO_EMAIL, password=password, first_name="Demo", last_name="Admin")
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    organization = organization_create(name="Valar Demo", actor=user)
    tenant = Tenant(
        organization=organization,
        membership=Membership.objects.get(organization=organization, user=user),
    )
    worker = user_create(
        email="worker@valar.local",
        password=secrets.token_urlsafe(12),
        first_name="Demo",
        last_name="Worker",
    )
    Membership.objects.create(
        organization=organization,
        user=worker,
        role=Role.WORKER,
        modules=["tasks"],
        is_default=True,
        manages_account=True,
    )
    for name in DEMO_TEAMS:
        team = team_create(tenant=tenant, data={"name": name, "lead": user})
        team_member_add(tenant=tenant, team=team, user=worker)
    return user, password
