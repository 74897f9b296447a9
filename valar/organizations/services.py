"""Organization use cases: create, settings, members and their roles, teams, user admin.

The rules of who may manage whom live here, once:
- nobody grants a role above their own, or modules they do not have themselves;
- a manager manages only ``worker``/``basic`` members, and (for existing members) only those
  in teams the manager leads;
- the last admin of an organization cannot be demoted or removed (409).
"""

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from valar.accounts.models import User, normalize_email
from valar.accounts.services import password_check, sessions_end_all, user_create
from valar.audit.services import audit_record
from valar.core.errors import Conflict, DomainError
from valar.core.policy import MODULES, ROLE_RANK, Role
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.organizations import selectors
from valar.organizations.models import Membership, Organization, Team, TeamMembership
from valar.organizations.signals import organization_settings_changed

DEFAULT_SETTINGS: dict[str, Any] = {
    "lead_scoring_weights": {},
}
MANAGEABLE_BY_MANAGER = (Role.WORKER, Role.BASIC)


def _unique_slug(name: str) -> str:
    """A slug for ``name`` that no organization uses yet."""
    base = slugify(name)[:70] or "organization"
    slug, suffix = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


@transaction.atomic
def organization_create(*, name: str, actor: User, base_currency: str = "USD") -> Organization:
    """Create an organization with ``actor`` as its admin (their default if they had none)."""
    organization = Organization.objects.create(
        name=name,
        slug=_unique_slug(name),
        base_currency=base_currency,
        created_by=actor,
        settings=dict(DEFAULT_SETTINGS),
    )
    has_default = Membership.objects.filter(user=actor, is_default=True).exists()
    Membership.objects.create(
        user=actor,
        organization=organization,
        role=Role.ADMIN,
        modules=list(MODULES),
        is_default=not has_default,
    )
    return organization


def organization_update(*, organization: Organization, data: dict[str, Any]) -> Organization:
    """Change the organization's name or organization-wide settings."""
    organization, _ = model_update(
        instance=organization,
        fields=["name", "base_currency", "timezone", "fiscal_year_start_month", "settings"],
        data=data,
    )
    return organization


SETTINGS_DOCUMENT_KEYS = ("lead_scoring_weights",)


@transaction.atomic
def organization_settings_update(
    *, organization: Organization, data: dict[str, Any]
) -> Organization:
    """Change organization-wide settings and tell the apps which ones changed."""
    document = dict(organization.settings)
    for key in SETTINGS_DOCUMENT_KEYS:
        if key in data:
            document[key] = data.pop(key)
    before = {**organization.settings}
    organization, changed = model_update(
        instance=organization,
        fields=["base_currency", "timezone", "fiscal_year_start_month", "settings"],
        data={**data, "settings": document},
    )
    named = [f for f in changed if f != "settings"]
    named += [key for key in SETTINGS_DOCUMENT_KEYS if before.get(key) != document.get(key)]
    if named:
        organization_settings_changed.send(
            sender=Organization, organization=organization, changed=named
        )
    return organization


def _check_grant(*, actor: Membership, role: str, modules: list[str]) -> None:
    """Refuse a role above the actor's, modules the actor lacks, or any grant by a non-manager."""
    if ROLE_RANK[Role(actor.role)] < ROLE_RANK[Role.MANAGER]:
        raise DomainError("Only admins and managers manage members.", status_code=403)
    if ROLE_RANK[Role(role)] > ROLE_RANK[Role(actor.role)]:
        raise DomainError(
            "You cannot grant a role above your own.",
            status_code=403,
            code="role_escalation",
            errors={"role": ["You cannot grant a role above your own."]},
        )
    if actor.role == Role.MANAGER and role not in MANAGEABLE_BY_MANAGER:
        raise DomainError(
            "Managers grant only the worker and basic roles.",
            status_code=403,
            code="role_escalation",
            errors={"role": ["Managers grant only the worker and basic roles."]},
        )
    if actor.role != Role.ADMIN:
        missing = sorted(set(modules) - set(actor.modules))
        if missing:
            raise DomainError(
                "You cannot grant modules you do not have.",
                status_code=403,
                code="module_escalation",
                errors={"modules": [f"Not yours to grant: {', '.join(missing)}."]},
            )


def _check_manages(*, actor: Membership, target: Membership) -> None:
    """Refuse changing a member the actor may not manage."""
    if actor.role == Role.ADMIN:
        return
    if actor.role != Role.MANAGER:
        raise DomainError("Only admins and managers manage members.", status_code=403)
    if target.role not in MANAGEABLE_BY_MANAGER or not selectors.user_leads_member(
        organization=actor.organization, lead=actor.user, member=target.user
    ):
        raise DomainError(
            "Managers manage only worker and basic members of teams they lead.", status_code=403
        )


def _check_not_last_admin(*, target: Membership) -> None:
    """Refuse leaving the organization without an admin (serialised on the organization row)."""
    if target.role != Role.ADMIN:
        return
    Organization.objects.select_for_update().filter(pk=target.organization_id).first()
    if selectors.admin_count(organization=target.organization) <= 1:
        raise Conflict("The last admin cannot be demoted or removed.", code="last_admin")


@transaction.atomic
def member_add(
    *, tenant: Tenant, email: str, role: str, modules: list[str], **facts: Any
) -> Membership:
    """Add an existing user (found by email) to the organization with a role and modules."""
    _check_grant(actor=tenant.membership, role=role, modules=modules)
    user = User.objects.filter(email__iexact=normalize_email(email)).first()
    if user is None:
        raise DomainError("No user has this email.", errors={"email": ["No user has this email."]})
    if Membership.objects.filter(organization=tenant.organization, user=user).exists():
        raise Conflict("This user is already a member.", code="duplicate")
    return Membership.objects.create(
        organization=tenant.organization,
        user=user,
        role=role,
        modules=sorted(set(modules)),
        is_default=not Membership.objects.filter(user=user, is_default=True).exists(),
        **facts,
    )


@transaction.atomic
def member_update(*, tenant: Tenant, membership: Membership, data: dict[str, Any]) -> Membership:
    """Change a member's role, modules or employee facts, within the actor's powers."""
    _check_manages(actor=tenant.membership, target=membership)
    role = data.get("role", membership.role)
    modules = data.get("modules", membership.modules)
    if "role" in data or "modules" in data:
        _check_grant(actor=tenant.membership, role=role, modules=modules)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _check_not_last_admin(target=membership)
    if "modules" in data:
        data = {**data, "modules": sorted(set(modules))}
    membership, _ = model_update(
        instance=membership,
        fields=["role", "modules", "job_title", "department", "hire_date"],
        data=data,
    )
    return membership


@transaction.atomic
def member_remove(*, tenant: Tenant, membership: Membership) -> None:
    """Remove a member from the organization (and its teams)."""
    _check_manages(actor=tenant.membership, target=membership)
    _check_not_last_admin(target=membership)
    for team_membership in TeamMembership.objects.filter(
        team__organization=tenant.organization, user=membership.user
    ).select_related("team"):
        team_membership.delete()
    membership.delete()


def _check_team_powers(*, tenant: Tenant, team: Team | None, data: dict[str, Any]) -> None:
    """Only admins choose a team's lead; managers change only teams they created or lead.

    Otherwise a manager could lead a team of anyone and so manage every member.
    """
    if tenant.role == Role.ADMIN:
        return
    if "lead" in data and (team is None or data["lead"] != team.lead):
        if data["lead"] is not None or team is not None:
            raise DomainError(
                "Only admins choose a team's lead.",
                status_code=403,
                errors={"lead": ["Only admins choose a team's lead."]},
            )
    me = tenant.membership.user_id
    if team is not None and me not in (team.lead_id, team.created_by_id):
        raise DomainError("Managers change only the teams they created or lead.", status_code=403)


def team_create(*, tenant: Tenant, data: dict[str, Any]) -> Team:
    """Create a team; its name is unique in the organization."""
    _check_team_powers(tenant=tenant, team=None, data=data)
    _check_team_name(organization=tenant.organization, name=data["name"])
    return Team.objects.create(
        organization=tenant.organization, created_by=tenant.membership.user, **data
    )


def _check_team_name(*, organization: Organization, name: str, exclude: Any = None) -> None:
    """Refuse a team name already used in the organization."""
    teams = Team.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        teams = teams.exclude(pk=exclude)
    if teams.exists():
        raise Conflict(
            "A team with this name exists.",
            code="duplicate",
            errors={"name": ["A team with this name exists."]},
        )


def team_update(*, tenant: Tenant, team: Team, data: dict[str, Any]) -> Team:
    """Change a team's name, description or lead."""
    _check_team_powers(tenant=tenant, team=team, data=data)
    if "name" in data:
        _check_team_name(organization=team.organization, name=data["name"], exclude=team.pk)
    team, _ = model_update(instance=team, fields=["name", "description", "lead"], data=data)
    return team


def team_delete(*, tenant: Tenant, team: Team) -> None:
    """Delete a team (its memberships go with it)."""
    _check_team_powers(tenant=tenant, team=team, data={})
    for team_membership in team.memberships.select_related("team"):
        team_membership.delete()
    team.delete()


def team_member_add(*, tenant: Tenant, team: Team, user: User) -> TeamMembership:
    """Add a member of the organization to a team (managers: to teams they lead)."""
    _check_team_powers(tenant=tenant, team=team, data={})
    if not Membership.objects.filter(organization_id=team.organization_id, user=user).exists():
        raise DomainError(
            "Only members of the organization can join its teams.",
            errors={"user": ["Not a member of this organization."]},
        )
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise Conflict("Already in this team.", code="duplicate")
    return TeamMembership.objects.create(team=team, user=user)


def team_member_remove(*, tenant: Tenant, team_membership: TeamMembership) -> None:
    """Remove a user from a team (managers: from teams they lead)."""
    _check_team_powers(tenant=tenant, team=team_membership.team, data={})
    team_membership.delete()


@transaction.atomic
def user_create_in_organization(
    *, tenant: Tenant, email: str, password: str, role: str, **names: str
) -> User:
    """Create a user with a password and make them a member with ``role`` (<= the actor's)."""
    _check_grant(actor=tenant.membership, role=role, modules=[])
    user = user_create(email=email, password=password, **names)
    Membership.objects.create(
        organization=tenant.organization,
        user=user,
        role=role,
        modules=[],
        is_default=True,
        manages_account=True,
    )
    return user


def user_update(*, tenant: Tenant, user: User, data: dict[str, Any]) -> User:
    """Change a user's names or email; only for accounts the organization manages."""
    _check_admin_over(tenant=tenant, user=user)
    if "email" in data:
        data = {**data, "email": normalize_email(data["email"])}
        if User.objects.filter(email__iexact=data["email"]).exclude(pk=user.pk).exists():
            raise Conflict(
                "A user with this email already exists.",
                code="duplicate",
                errors={"email": ["A user with this email already exists."]},
            )
    user, _ = model_update(instance=user, fields=["first_name", "last_name", "email"], data=data)
    return user


@transaction.atomic
def user_lock(*, tenant: Tenant, user: User) -> User:
    """Lock a user: sign-in is refused and their sessions and tokens stop working at once."""
    _check_admin_over(tenant=tenant, user=user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(action="user.lock", organization_id=tenant.organization.pk, instance=user)
    sessions_end_all(user=user)
    return user


def user_unlock(*, tenant: Tenant, user: User) -> User:
    """Let a locked user sign in again."""
    _check_admin_over(tenant=tenant, user=user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(action="user.unlock", organization_id=tenant.organization.pk, instance=user)
    return user


@transaction.atomic
def user_reset_password(*, tenant: Tenant, user: User, password: str) -> User:
    """Set a new password chosen by an admin and end the user's sessions and tokens."""
    _check_admin_over(tenant=tenant, user=user)
    password_check(password=password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    sessions_end_all(user=user)
    audit_record(
        action="user.password_reset", organization_id=tenant.organization.pk, instance=user
    )
    return user


def _check_admin_over(*, tenant: Tenant, user: User) -> None:
    """Refuse acting on an account the organization does not manage.

    An account belongs to its person, not to every organization that person joins: only the
    organization that created it (``Membership.manages_account``) may reset its password,
    change its email or lock it, and never for yourself, another admin or a platform operator.
    """
    if user.pk == tenant.membership.user_id:
        raise DomainError("You cannot do this to your own account.", status_code=403)
    if user.is_superuser:
        raise DomainError("Platform operators are managed by the platform.", status_code=403)
    membership = Membership.objects.filter(organization=tenant.organization, user=user).first()
    if membership is None or not membership.manages_account:
        raise DomainError(
            "This account was not created by this organization; remove the member instead.",
            code="account_not_managed",
            status_code=403,
        )
    if membership.role == Role.ADMIN:
        raise DomainError("Admins do not manage other admins' accounts.", status_code=403)


@transaction.atomic
def user_remove_from_organization(*, tenant: Tenant, user: User) -> None:
    """Remove a user from the organization (the account itself stays)."""
    membership = Membership.objects.get(organization=tenant.organization, user=user)
    member_remove(tenant=tenant, membership=membership)
