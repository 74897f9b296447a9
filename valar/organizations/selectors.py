"""Organization reads: memberships, organizations, members, teams, users and their sign-ins."""

import django_filters
from django.db.models import Count, F, OuterRef, QuerySet, Subquery

from valar.accounts.models import LoginLog, User, hash_token_key
from valar.accounts.selectors import LoginLogFilter
from valar.core.filters import DateRangeFilterSet, UserRefFilter
from valar.core.policy import Access, Role, decide
from valar.core.tenancy import parse_reference
from valar.organizations.models import (
    Invitation,
    Membership,
    Organization,
    Team,
    TeamMembership,
)


def membership_for(*, user: User, organization_ref: str | None = None) -> Membership | None:
    """The user's membership of the referenced organization (id or slug), else their default."""
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_ref is not None:
        return memberships.filter(**parse_reference(organization_ref)).first()
    return memberships.order_by("-is_default", "created_at").first()


def roles_that_may(*, module: str, action: str) -> list[str]:
    """The roles the policy table lets do ``action`` in a built-in ``module``."""
    return [
        role.value
        for role in Role
        if decide(role=role, modules=[], module=module, action=action) != Access.NONE
    ]


def organization_list(*, user: User) -> QuerySet[Organization]:
    """The organizations the user belongs to with a role that may view them (not clients)."""
    return Organization.objects.filter(
        memberships__user=user,
        memberships__role__in=roles_that_may(module="organization", action="view"),
    ).order_by("name")


class InvitationFilter(django_filters.FilterSet):
    """Filters of an organization's invitations."""

    class Meta:
        model = Invitation
        fields = ["status", "role", "team"]


def invitation_list(*, organization: Organization) -> QuerySet[Invitation]:
    """The organization's invitations, newest first, with their team and inviter."""
    return (
        Invitation.objects.filter(organization=organization)
        .select_related("team", "created_by")
        .order_by("-created_at", "id")
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a token opens (any status), or ``None``."""
    return (
        Invitation.objects.select_related("organization", "team", "created_by")
        .filter(token_hash=hash_token_key(token))
        .first()
    )


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    """The organization's memberships with their users."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("created_at")
    )


def admin_count(*, organization: Organization) -> int:
    """How many admins the organization has."""
    return Membership.objects.filter(organization=organization, role=Role.ADMIN).count()


def team_list(*, organization: Organization, actor: User | None = None) -> QuerySet[Team]:
    """The organization's teams by name (:func:`team_display` adds lead and member count)."""
    return Team.objects.filter(organization=organization).order_by("name")


def team_display(teams: QuerySet[Team]) -> QuerySet[Team]:
    """``teams`` with their lead and member count."""
    return teams.select_related("lead").annotate(member_count=Count("memberships", distinct=True))


def team_member_list(*, team: Team) -> QuerySet[TeamMembership]:
    """A team's memberships with their users."""
    return TeamMembership.objects.filter(team=team).select_related("user").order_by("created_at")


def user_leads_member(*, organization: Organization, lead: User, member: User) -> bool:
    """Whether ``member`` is in a team of ``organization`` that ``lead`` leads."""
    return TeamMembership.objects.filter(
        team__organization=organization, team__lead=lead, user=member
    ).exists()


class UserFilter(DateRangeFilterSet):
    """Filters of the user administration list."""

    date_field = "date_joined"
    role = django_filters.ChoiceFilter(
        field_name="role", choices=[(r.value, r.value) for r in Role]
    )

    class Meta:
        model = User
        fields = ["is_active"]


def user_list(*, organization: Organization, actor: User | None = None) -> QuerySet[User]:
    """The organization's users, each annotated with their ``role`` there."""
    role = Membership.objects.filter(organization=organization, user=OuterRef("pk")).values("role")[
        :1
    ]
    return (
        User.objects.filter(memberships__organization=organization)
        .annotate(role=Subquery(role))
        .order_by("email")
    )


def member_login_log_list(*, organization: Organization) -> QuerySet[LoginLog]:
    """Sign-in attempts of the organization's current members, since each joined it.

    Attempts with an unknown email, by people who are not members, or from before a member
    joined are never part of it, newest first.
    """
    return LoginLog.objects.filter(
        user__memberships__organization=organization,
        created_at__gte=F("user__memberships__created_at"),
    ).order_by("-created_at")


class MemberLoginLogFilter(LoginLogFilter):
    """The sign-in log's filters plus ``user`` (a member's id, or ``me``)."""

    user = UserRefFilter(field_name="user")

    class Meta(LoginLogFilter.Meta):
        fields = ["user", "successful"]
