"""Organization use cases: create, settings, invitations, members, teams, user admin.

The rules of who may manage whom live here, once:
- nobody grants a role above their own, or modules they do not have themselves;
- nobody joins an organization without consent: members arrive by invitations they accept;
- a manager manages only ``worker``/``basic`` members of teams the manager leads, and adding
  someone to such a team does not extend that right (only members they already manage, or an
  admin, change those teams' membership);
- an organization resets, re-emails or locks only accounts it created, and only while the
  account belongs to no other organization;
- the last admin of an organization cannot be demoted or removed (409).
"""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from valar.accounts.models import User, hash_token_key, normalize_email
from valar.accounts.services import password_check, sessions_end_all, user_create
from valar.audit.services import audit_record
from valar.core import mail
from valar.core.errors import Conflict, DomainError
from valar.core.policy import MODULES, ROLE_RANK, Role
from valar.core.services import model_update
from valar.core.sockets import close_sockets
from valar.core.tenancy import Tenant
from valar.organizations import selectors
from valar.organizations.models import Invitation, Membership, Organization, Team, TeamMembership
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


SETTINGS_DOCUMENT_KEYS = ("lead_scoring_weights", "document_prefixes", "document_issuer")
#: The prefixes of document numbers unless the settings' ``document_prefixes`` say others.
DEFAULT_DOCUMENT_PREFIXES = {"quote": "QUO", "invoice": "INV", "credit_note": "CN"}


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
def _check_customer(*, role: str, customer) -> None:
    """Only a ``client`` acts for a customer (the portal's); 400 on ``customer`` otherwise."""
    if customer is not None and role != Role.CLIENT:
        raise DomainError(
            "Only a client member acts for a customer.",
            errors={"customer": ["Only a member with the client role has a customer."]},
        )


def member_update(*, tenant: Tenant, membership: Membership, data: dict[str, Any]) -> Membership:
    """Change a member's role, modules, customer (clients) or employee facts, within the
    actor's powers; a member who stops being a client stops acting for a customer."""
    _check_manages(actor=tenant.membership, target=membership)
    role = data.get("role", membership.role)
    modules = data.get("modules", membership.modules)
    if "role" in data or "modules" in data:
        _check_grant(actor=tenant.membership, role=role, modules=modules)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _check_not_last_admin(target=membership)
    if "modules" in data:
        data = {**data, "modules": sorted(set(modules))}
    if "customer" in data:
        _check_customer(role=role, customer=data["customer"])
    elif role != Role.CLIENT and membership.customer_id is not None:
        data = {**data, "customer": None}
    membership, changed = model_update(
        instance=membership,
        fields=["role", "modules", "customer", "job_title", "department", "hire_date"],
        data=data,
    )
    if {"role", "modules", "customer"} & set(changed):
        # Open sockets reconnect, and are authorised again with the new role and modules.
        close_sockets(user_id=membership.user_id, organization_id=membership.organization_id)
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
    close_sockets(user_id=membership.user_id, organization_id=membership.organization_id)


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


def _check_team_member_change(*, tenant: Tenant, team: Team, user: User) -> None:
    """A manager moves only members they already manage into or out of their teams.

    Otherwise joining a team a manager leads would hand them the member's role and seat.
    """
    _check_team_powers(tenant=tenant, team=team, data={})
    if tenant.role == Role.ADMIN:
        return
    target = Membership.objects.filter(organization_id=team.organization_id, user=user).first()
    if target is None:
        return  # reported as "not a member" by the caller
    try:
        _check_manages(actor=tenant.membership, target=target)
    except DomainError as exc:
        raise DomainError(
            "Managers move only members they already manage; ask an admin.",
            status_code=403,
            code="not_managed",
            errors={"user": ["You do not manage this member."]},
        ) from exc


def team_member_add(*, tenant: Tenant, team: Team, user: User) -> TeamMembership:
    """Add a member of the organization to a team (managers: members they already manage)."""
    _check_team_member_change(tenant=tenant, team=team, user=user)
    if not Membership.objects.filter(organization_id=team.organization_id, user=user).exists():
        raise DomainError(
            "Only members of the organization can join its teams.",
            errors={"user": ["Not a member of this organization."]},
        )
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise Conflict("Already in this team.", code="duplicate")
    return TeamMembership.objects.create(team=team, user=user)


def team_member_remove(*, tenant: Tenant, team_membership: TeamMembership) -> None:
    """Remove a user from a team (managers: members they manage, from teams they lead)."""
    _check_team_member_change(tenant=tenant, team=team_membership.team, user=team_membership.user)
    team_membership.delete()


@transaction.atomic
def user_create_in_organization(
    *, tenant: Tenant, email: str, password: str, role: str, **names: str
) -> User:
    """Create a user with a password and make them a member with ``role`` (<= the actor's)."""
    _check_grant(actor=tenant.membership, role=role, modules=[])
    user = user_create(email=email, password=password, **names)
    user.password_is_temporary = True
    user.save(update_fields=["password_is_temporary"])
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
    """Change a user's names or email; only for accounts the organization manages.

    A new email is unverified: nobody has proved that its owner holds this account.
    """
    _check_admin_over(tenant=tenant, user=user)
    if "email" in data:
        data = {**data, "email": normalize_email(data["email"])}
        if data["email"] != user.email:
            data["email_verified_at"] = None
        if User.objects.filter(email__iexact=data["email"]).exclude(pk=user.pk).exists():
            raise Conflict(
                "A user with this email already exists.",
                code="duplicate",
                errors={"email": ["A user with this email already exists."]},
            )
    user, _ = model_update(
        instance=user, fields=["first_name", "last_name", "email", "email_verified_at"], data=data
    )
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
    user.password_is_temporary = True
    user.save(update_fields=["password", "password_is_temporary"])
    sessions_end_all(user=user)
    audit_record(
        action="user.password_reset", organization_id=tenant.organization.pk, instance=user
    )
    return user


def _check_admin_over(*, tenant: Tenant, user: User) -> None:
    """Refuse acting on an account the organization does not manage.

    An account belongs to its person, not to every organization that person joins: only the
    organization that created it (``Membership.manages_account``) may reset its password,
    change its email or lock it, only while the account belongs to no other organization, and
    never for yourself, another admin or a platform operator.
    """
    if user.pk == tenant.membership.user_id:
        raise DomainError("You cannot do this to your own account.", status_code=403)
    if user.is_superuser:
        raise DomainError("Platform operators are managed by the platform.", status_code=403)
    membership = Membership.objects.filter(organization=tenant.organization, user=user).first()
    elsewhere = Membership.objects.filter(user=user).exclude(organization=tenant.organization)
    if membership is None or not membership.manages_account or elsewhere.exists():
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


# Invitations: the only way into an organization for an account that exists or may exist.

INVITATION_MAX_SENDS = 5


def _invitation_token() -> tuple[str, str]:
    """A new invitation token and the hash it is stored and looked up by."""
    token = secrets.token_urlsafe(32)
    return token, hash_token_key(token)


def _invitation_expiry():
    """When an invitation sent now stops working."""
    return timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)


def _send_invitation_email(*, invitation: Invitation, token: str) -> None:
    """Email the invitation's token to the invitee once the transaction commits."""
    organization = invitation.organization
    inviter = invitation.created_by.full_name if invitation.created_by else organization.name
    link = f"{settings.PUBLIC_URL}/api/v1/auth/invitations/{token}/"
    body = (
        f"{inviter} invites you to join {organization.name} on Valar as {invitation.role}.\n\n"
        f"Your invitation token: {token}\n"
        f"See it: GET {link}\n"
        f"Accept it: POST {link}accept/ (signed in as {invitation.email}, or with a password "
        "to create your account)\n"
        f"Decline it: POST {link}decline/\n\n"
        f"It expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. If you do not know "
        f"{organization.name}, ignore this email: nothing happens until you accept."
    )
    subject = f"Invitation to join {organization.name}"
    recipient = invitation.email
    transaction.on_commit(lambda: mail.send(to=recipient, subject=subject, body=body))


@transaction.atomic
def invitation_create(
    *,
    tenant: Tenant,
    email: str,
    role: str,
    modules: list[str],
    team: Team | None = None,
    customer=None,
) -> Invitation:
    """Invite ``email`` with a role, modules, an optional team and, for a ``client``, the
    customer they will act for in the portal; the invitee must accept.

    The answer never depends on whether the email has an account (only on this
    organization's own members and invitations, which the inviter can list anyway).
    """
    _check_grant(actor=tenant.membership, role=role, modules=modules)
    _check_customer(role=role, customer=customer)
    if team is not None and tenant.role != Role.ADMIN and team.lead_id != tenant.membership.user_id:
        raise DomainError(
            "Managers invite only into teams they lead.",
            status_code=403,
            errors={"team": ["You do not lead this team."]},
        )
    email = normalize_email(email)
    organization = tenant.organization
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(
            "This email is already a member of the organization.",
            code="already_member",
            errors={"email": ["Already a member."]},
        )
    pending = Invitation.objects.filter(
        organization=organization, email=email, status=Invitation.Status.PENDING
    )
    if pending.filter(expires_at__gt=timezone.now()).exists():
        raise Conflict(
            "A pending invitation for this email exists; resend or revoke it.",
            code="duplicate",
            errors={"email": ["Already invited."]},
        )
    for stale in pending:  # at most one, expired: it is replaced by the new one
        stale.status = Invitation.Status.REVOKED
        stale.save(update_fields=["status", "updated_at"])
    token, token_hash = _invitation_token()
    invitation = Invitation.objects.create(
        organization=organization,
        created_by=tenant.membership.user,
        email=email,
        role=role,
        modules=sorted(set(modules)),
        team=team,
        customer=customer,
        token_hash=token_hash,
        expires_at=_invitation_expiry(),
        sent_at=timezone.now(),
    )
    _send_invitation_email(invitation=invitation, token=token)
    return invitation


def _check_invitation_owner(*, tenant: Tenant, invitation: Invitation) -> None:
    """Admins handle every invitation; managers only those they sent."""
    if tenant.role != Role.ADMIN and invitation.created_by_id != tenant.membership.user_id:
        raise DomainError("Managers handle only the invitations they sent.", status_code=403)


def _check_pending(invitation: Invitation) -> None:
    """Refuse acting on an invitation that is answered, revoked or expired (409)."""
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(
            f"This invitation is {invitation.status}.", code=f"invitation_{invitation.status}"
        )
    if invitation.expires_at <= timezone.now():
        raise Conflict("This invitation has expired.", code="invitation_expired")


def _locked_own_pending(*, tenant: Tenant, invitation: Invitation) -> Invitation:
    """The invitation's row, locked, if the caller may handle it and it is still pending.

    An expired pending invitation passes: resending renews it and revoking ends it.
    """
    _check_invitation_owner(tenant=tenant, invitation=invitation)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        _check_pending(invitation)  # raises the conflict that names its status
    return invitation


@transaction.atomic
def invitation_resend(*, tenant: Tenant, invitation: Invitation) -> Invitation:
    """Send a pending invitation again with a new token (the old link stops working)."""
    invitation = _locked_own_pending(tenant=tenant, invitation=invitation)
    if invitation.send_count >= INVITATION_MAX_SENDS:
        raise Conflict(
            f"An invitation is sent at most {INVITATION_MAX_SENDS} times; revoke it instead.",
            code="too_many_sends",
        )
    token, invitation.token_hash = _invitation_token()
    invitation.expires_at = _invitation_expiry()
    invitation.sent_at = timezone.now()
    invitation.send_count += 1
    invitation.save(
        update_fields=["token_hash", "expires_at", "sent_at", "send_count", "updated_at"]
    )
    _send_invitation_email(invitation=invitation, token=token)
    return invitation


@transaction.atomic
def invitation_revoke(*, tenant: Tenant, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation; its token stops working at once."""
    invitation = _locked_own_pending(tenant=tenant, invitation=invitation)
    invitation.status = Invitation.Status.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    return invitation


def _locked_pending(invitation: Invitation) -> Invitation:
    """The invitation's row, locked, still pending and unexpired (else 409)."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization", "team")
        .get(pk=invitation.pk)
    )
    _check_pending(invitation)
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user: User, new_password: str | None = None
) -> Membership:
    """Join the organization as invited: only as the invited, verified email.

    An account whose password an organization's admin set must choose its own before it
    joins another organization. From then on no organization manages the account (resets,
    re-emails or locks it); its default organization stays as it was unless it had none.
    """
    invitation = _locked_pending(invitation)
    if normalize_email(user.email) != invitation.email:
        raise DomainError(
            "This invitation was sent to another email.", status_code=403, code="wrong_account"
        )
    if not user.email_verified:
        raise DomainError(
            "Verify your email before accepting invitations.",
            status_code=403,
            code="email_not_verified",
        )
    if Membership.objects.filter(organization=invitation.organization, user=user).exists():
        raise Conflict("You are already a member of this organization.", code="already_member")
    if user.password_is_temporary:
        if not new_password:
            raise DomainError(
                "Your password was set by an organization's admin: choose your own to join.",
                code="password_required",
                errors={"new_password": ["Choose your own password."]},
            )
        password_check(password=new_password, user=user, field="new_password")
        user.set_password(new_password)
        user.password_is_temporary = False
        user.save(update_fields=["password", "password_is_temporary"])
        sessions_end_all(user=user)
    membership = Membership.objects.create(
        organization=invitation.organization,
        user=user,
        role=invitation.role,
        modules=invitation.modules,
        customer_id=invitation.customer_id if invitation.role == Role.CLIENT else None,
        is_default=not Membership.objects.filter(user=user).exists(),
    )
    if invitation.team is not None:
        TeamMembership.objects.get_or_create(team=invitation.team, user=user)
    accounts_reclaimed(user=user)
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "responded_at", "updated_at"])
    return membership


@transaction.atomic
def invitation_accept_with_new_account(
    *, invitation: Invitation, password: str, first_name: str = "", last_name: str = ""
) -> tuple[User, Membership]:
    """Create the invitee's account from the invitation and join (the token proves the email)."""
    invitation = _locked_pending(invitation)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise Conflict(
            "An account with this email exists: sign in as it and accept.",
            code="sign_in_required",
        )
    user = user_create(
        email=invitation.email, password=password, first_name=first_name, last_name=last_name
    )
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user, invitation_accept(invitation=invitation, user=user)


@transaction.atomic
def invitation_decline(*, invitation: Invitation) -> Invitation:
    """Say no: the invitation ends and nothing is granted."""
    invitation = _locked_pending(invitation)
    invitation.status = Invitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    return invitation


@transaction.atomic
def membership_leave(*, membership: Membership) -> None:
    """The member leaves the organization (and its teams); its last admin cannot (409)."""
    _check_not_last_admin(target=membership)
    for team_membership in TeamMembership.objects.filter(
        team__organization_id=membership.organization_id, user_id=membership.user_id
    ).select_related("team"):
        team_membership.delete()
    membership.delete()
    close_sockets(user_id=membership.user_id, organization_id=membership.organization_id)


def accounts_reclaimed(*, user: User) -> None:
    """The owner proved the inbox and chose a password: no organization manages them now."""
    for managed in Membership.objects.filter(user=user, manages_account=True):
        managed.manages_account = False  # few rows (one in practice), each audited
        managed.save(update_fields=["manages_account", "updated_at"])


def membership_make_default(*, membership: Membership) -> Membership:
    """Make this membership the user's default organization (their own choice only)."""
    with transaction.atomic():
        for other in (
            Membership.objects.select_for_update()
            .filter(user_id=membership.user_id, is_default=True)
            .exclude(pk=membership.pk)
        ):
            other.is_default = False
            other.save(update_fields=["is_default", "updated_at"])
        if not membership.is_default:
            membership.is_default = True
            membership.save(update_fields=["is_default", "updated_at"])
    return membership
