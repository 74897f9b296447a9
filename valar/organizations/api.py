"""Organization endpoints: organizations, settings, members, invitations, teams, users."""

from django.contrib.auth import login, update_session_auth_hash
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.accounts.api import LoginLogSerializer
from valar.accounts.models import LoginLog, User
from valar.core import tenancy
from valar.core.permissions import AnonymousWithCsrf
from valar.core.policy import MODULES, Access, Role, decide, permissions_of
from valar.core.serializers import (
    CurrencyField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictRegexField,
    StrictUUIDField,
    TenantRelatedField,
    TimeZoneField,
)
from valar.core.throttling import (
    AccountAdminThrottle,
    AnonThrottle,
    LoginThrottle,
    UserThrottle,
)
from valar.core.viewsets import BaseViewSet, ExportMixin, TenantViewSet
from valar.crm.models import Customer
from valar.organizations import selectors, services
from valar.organizations.models import Invitation, Membership, Organization, Team

ROLE_CHOICES = [r.value for r in Role]


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization."""

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "base_currency",
            "timezone",
            "fiscal_year_start_month",
            "created_at",
        ]
        read_only_fields = [f for f in fields if f != "name"]


class OrganizationCreateSerializer(serializers.Serializer):
    """Input to create an organization (the caller becomes its admin)."""

    name = StrictCharField(max_length=200)
    base_currency = CurrencyField(required=False, default="USD")


class DocumentPrefixesSerializer(serializers.Serializer):
    """The prefixes of document numbers (``INV-2026-0001``): 1 to 10 capitals or digits, a
    different one per type (numbers of two types never look alike)."""

    quote = StrictRegexField(r"^[A-Z0-9]{1,10}$", required=False)
    invoice = StrictRegexField(r"^[A-Z0-9]{1,10}$", required=False)
    credit_note = StrictRegexField(r"^[A-Z0-9]{1,10}$", required=False)

    def validate(self, attrs):
        """Refuse a prefix another type has (the defaults fill the ones not given)."""
        prefixes = {**services.DEFAULT_DOCUMENT_PREFIXES, **attrs}
        if len(set(prefixes.values())) < len(prefixes):
            raise serializers.ValidationError("Each document type needs its own prefix.")
        return attrs


class DocumentIssuerSerializer(serializers.Serializer):
    """The organization's details printed on its quotes, invoices and credit notes."""

    address = StrictCharField(max_length=500, required=False, allow_blank=True)
    email = StrictEmailField(required=False, allow_blank=True)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True)
    tax_number = StrictCharField(max_length=50, required=False, allow_blank=True)


class OrganizationSettingsSerializer(serializers.Serializer):
    """Organization-wide settings: currency, time zone, fiscal year, lead-scoring weights, the
    prefixes of quote, invoice and credit-note numbers (given when a document is issued;
    numbers already given keep theirs) and the details printed on those documents."""

    base_currency = CurrencyField()
    timezone = TimeZoneField()
    fiscal_year_start_month = StrictIntegerField(min_value=1, max_value=12)
    lead_scoring_weights = serializers.DictField(
        child=StrictIntegerField(min_value=0, max_value=100), required=False
    )
    document_prefixes = DocumentPrefixesSerializer(required=False)
    document_issuer = DocumentIssuerSerializer(required=False)

    @staticmethod
    def of(organization: Organization) -> dict:
        """The settings document of ``organization``."""
        return {
            "base_currency": organization.base_currency,
            "timezone": organization.timezone,
            "fiscal_year_start_month": organization.fiscal_year_start_month,
            "lead_scoring_weights": organization.settings.get("lead_scoring_weights", {}),
            "document_prefixes": {
                **services.DEFAULT_DOCUMENT_PREFIXES,
                **organization.settings.get("document_prefixes", {}),
            },
            "document_issuer": organization.settings.get("document_issuer", {}),
        }


class MemberUserSerializer(serializers.ModelSerializer):
    """The user inside a membership."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    """A member: role, modules, the customer a client acts for, and employee facts."""

    user = MemberUserSerializer(read_only=True)
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    modules = serializers.ListField(
        child=serializers.ChoiceField(choices=list(MODULES)), required=False, default=list
    )
    customer = TenantRelatedField(
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="The CRM customer a `client` member acts for in the portal (clients only).",
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "role",
            "modules",
            "customer",
            "is_default",
            "job_title",
            "department",
            "hire_date",
            "watchlist_flagged",
            "created_at",
        ]
        read_only_fields = ["id", "user", "is_default", "watchlist_flagged", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as the organization sees it (never its token)."""

    modules = serializers.ListField(
        child=serializers.ChoiceField(choices=list(MODULES)), required=False, default=list
    )
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    team = TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    customer = TenantRelatedField(
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="For a `client`: the CRM customer they will act for in the portal.",
    )
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "modules",
            "team",
            "customer",
            "status",
            "expired",
            "expires_at",
            "sent_at",
            "send_count",
            "responded_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = [
            f for f in fields if f not in ("email", "role", "modules", "team", "customer")
        ]

    def get_expired(self, invitation: Invitation) -> bool:
        """Whether a pending invitation has passed its expiry."""
        return (
            invitation.status == Invitation.Status.PENDING
            and invitation.expires_at <= timezone.now()
        )


class InvitationPublicSerializer(serializers.Serializer):
    """What the holder of an invitation token sees before answering it."""

    organization = StrictCharField(source="organization.name")
    email = StrictEmailField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    modules = serializers.ListField(child=StrictCharField())
    team = StrictCharField(source="team.name", allow_null=True, default=None)
    invited_by = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    expires_at = serializers.DateTimeField()

    def get_invited_by(self, invitation: Invitation) -> str | None:
        """The inviter's name, when they still exist."""
        return invitation.created_by.full_name if invitation.created_by else None


class InvitationAcceptSerializer(serializers.Serializer):
    """Input of ``auth/invitations/{token}/accept/``.

    Signed in: nothing, or ``new_password`` when an admin set the current one. Not signed in:
    ``password`` (and names) create the invited account.
    """

    password = StrictCharField(
        max_length=128, trim_whitespace=False, required=False, write_only=True
    )
    new_password = StrictCharField(
        max_length=128, trim_whitespace=False, required=False, write_only=True
    )
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")


class MembershipOrganizationSerializer(serializers.ModelSerializer):
    """A membership as its own user sees it: the organization, role and modules."""

    organization = OrganizationSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "role", "modules", "is_default", "created_at"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    """A team of the organization."""

    lead = TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        required=False,
        allow_null=True,
    )
    member_count = StrictIntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "lead", "member_count", "created_at", "updated_at"]
        read_only_fields = ["id", "member_count", "created_at", "updated_at"]


class TeamMemberSerializer(serializers.Serializer):
    """A user in a team."""

    user = TenantRelatedField(
        queryset=User.objects.all(), tenant_lookup="memberships__organization"
    )
    email = StrictEmailField(source="user.email", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class AdminUserSerializer(serializers.ModelSerializer):
    """A user as the organization's admins see them."""

    role = StrictCharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "role",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["id", "is_active", "role", "date_joined", "last_login"]


class AdminUserCreateSerializer(serializers.Serializer):
    """Input to create a user in the organization."""

    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ROLE_CHOICES, default=Role.BASIC.value)


class PasswordResetSerializer(serializers.Serializer):
    """Input of ``users/{id}/reset-password/``."""

    password = StrictCharField(max_length=128, trim_whitespace=False)


class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    BaseViewSet,
):
    """The caller's organizations; admins change them and their settings."""

    model = Organization
    serializer_class = OrganizationSerializer
    filter_backends: list = []

    def select(self):
        """Only organizations the caller belongs to (others are 404)."""
        return selectors.organization_list(user=self.request.user)

    def _tenant(self, action: str = "view") -> tenancy.Tenant:
        """The caller's membership of the organization in the URL, if the policy lets them.

        Non-members get 404; members whose role may not do ``action`` in the ``organization``
        module (a portal ``client`` reading settings, a worker changing them) get 403.
        """
        tenant = tenancy.resolve(self.request, reference=self.kwargs["pk"])
        access = decide(
            role=tenant.role,
            modules=tenant.membership.modules,
            module="organization",
            action=action,
        )
        if access == Access.NONE:
            raise PermissionDenied("Your role does not allow this in this organization.")
        return tenant

    def _require_admin(self) -> tenancy.Tenant:
        """Refuse anyone but the organization's admins."""
        return self._tenant("administer")

    def retrieve(self, request, *args, **kwargs):
        """One of the caller's organizations (members who may view it)."""
        self._tenant()
        return super().retrieve(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        """Change the organization (admins only; checked before the body is read)."""
        self._require_admin()
        return super().update(request, *args, **kwargs)

    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer})
    def create(self, request, *args, **kwargs):
        """Create an organization; the caller becomes its admin."""
        serializer = OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(actor=request.user, **serializer.validated_data)
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        """Store the change through the service."""
        services.organization_update(
            organization=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(responses=OrganizationSettingsSerializer)
    @action(detail=True, methods=["get"], url_path="settings")
    def org_settings(self, request, pk=None):
        """Organization-wide settings; members who may view the organization read them."""
        return Response(OrganizationSettingsSerializer.of(self._tenant().organization))

    @extend_schema(request=OrganizationSettingsSerializer, responses=OrganizationSettingsSerializer)
    @org_settings.mapping.put
    def replace_settings(self, request, pk=None):
        """Replace the settings (admins only)."""
        return self._save_settings(request, partial=False)

    @extend_schema(request=OrganizationSettingsSerializer, responses=OrganizationSettingsSerializer)
    @org_settings.mapping.patch
    def change_settings(self, request, pk=None):
        """Change some settings (admins only)."""
        return self._save_settings(request, partial=True)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        """Leave the organization (any member, client included; never its last admin: 409)."""
        membership = tenancy.resolve(request, reference=pk).membership
        services.membership_leave(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=MembershipOrganizationSerializer)
    @action(detail=True, methods=["post"], url_path="make-default")
    def make_default(self, request, pk=None):
        """Make this organization the caller's default (used when no X-Organization is sent)."""
        membership = tenancy.resolve(request, reference=pk).membership
        membership = services.membership_make_default(membership=membership)
        return Response(MembershipOrganizationSerializer(membership).data)

    def _save_settings(self, request, *, partial: bool):
        """Validate and store the settings."""
        organization = self._require_admin().organization
        serializer = OrganizationSettingsSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.organization_settings_update(
            organization=organization, data=dict(serializer.validated_data)
        )
        return Response(OrganizationSettingsSerializer.of(organization))


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Members of ``organizations/{organization_pk}/``: change role/modules, remove.

    People join through invitations they accept (``organizations/{id}/invitations/``).
    """

    module = "organization"
    model = Membership
    tenant_url_kwarg = "organization_pk"
    serializer_class = MembershipSerializer
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["created_at", "role"]
    filterset_fields = ["role"]

    def select(self):
        """The organization's memberships with their users."""
        return selectors.member_list(organization=self.tenant.organization)

    def perform_update(self, serializer):
        """Change the member through the service, which checks the grant."""
        serializer.instance = services.member_update(
            tenant=self.tenant, membership=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """Remove the member through the service (never the last admin)."""
        services.member_remove(tenant=self.tenant, membership=instance)


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    TenantViewSet,
):
    """Invitations of ``organizations/{organization_pk}/``: invite, list, resend, revoke.

    Admins and managers (who may add members) see and send them; managers resend and revoke
    only their own. The token is only ever in the email.
    """

    module = "organization"
    model = Invitation
    tenant_url_kwarg = "organization_pk"
    serializer_class = InvitationSerializer
    filterset_class = selectors.InvitationFilter
    search_fields = ["email"]
    ordering_fields = ["created_at", "expires_at", "email"]
    action_permissions = {
        name: "create" for name in ("list", "retrieve", "create", "metadata", "resend", "revoke")
    }

    def select(self):
        """The organization's invitations."""
        return selectors.invitation_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Invite through the service, which checks the grant and sends the email."""
        serializer.instance = services.invitation_create(
            tenant=self.tenant, **serializer.validated_data
        )

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, organization_pk=None, pk=None):
        """Send the invitation again with a new token (the old one stops working)."""
        invitation = services.invitation_resend(tenant=self.tenant, invitation=self.get_object())
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, organization_pk=None, pk=None):
        """Withdraw a pending invitation."""
        invitation = services.invitation_revoke(tenant=self.tenant, invitation=self.get_object())
        return Response(InvitationSerializer(invitation).data)


class InvitationTokenView(APIView):
    """``auth/invitations/{token}/``: the invitation a token opens, for its holder to answer."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonThrottle, UserThrottle, LoginThrottle]

    def invitation(self, token: str) -> Invitation:
        """The invitation of ``token`` (404 when no invitation has it)."""
        invitation = selectors.invitation_by_token(token=token)
        if invitation is None:
            raise NotFound("No invitation has this token.")
        return invitation

    @extend_schema(auth=[], responses=InvitationPublicSerializer)
    def get(self, request, token: str):
        """Show whom the invitation is from, to which email, as what, and whether it is open."""
        return Response(InvitationPublicSerializer(self.invitation(token)).data)


class InvitationAcceptView(InvitationTokenView):
    """Accept an invitation: signed in as the invited (verified) email, or by creating it."""

    permission_classes = [AnonymousWithCsrf]

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={
            200: MembershipOrganizationSerializer,
            201: MembershipOrganizationSerializer,
            409: OpenApiResponse(description="Problem details"),
        },
    )
    def post(self, request, token: str):
        """Join the organization.

        Signed in: 200 with the new membership (403 ``wrong_account`` for another email, 403
        ``email_not_verified``, 400 ``password_required`` when an admin set the password).
        Not signed in: ``password`` creates the invited account (the token proves the email),
        signs it in and answers 201; 409 ``sign_in_required`` when the account exists.
        """
        invitation = self.invitation(token)
        serializer = InvitationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if request.user.is_authenticated:
            membership = services.invitation_accept(
                invitation=invitation, user=request.user, new_password=data.get("new_password")
            )
            if data.get("new_password") and request.auth is None:
                update_session_auth_hash(request._request, request.user)
            return Response(MembershipOrganizationSerializer(membership).data)
        if not data.get("password"):
            raise serializers.ValidationError(
                {"password": ["Sign in as the invited email, or choose a password."]}
            )
        user, membership = services.invitation_accept_with_new_account(
            invitation=invitation,
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(
            MembershipOrganizationSerializer(membership).data, status=status.HTTP_201_CREATED
        )


class InvitationDeclineView(InvitationTokenView):
    """Decline an invitation: nothing is granted and the token stops working."""

    permission_classes = [AnonymousWithCsrf]

    @extend_schema(auth=[], request=None, responses={204: None})
    def post(self, request, token: str):
        """Say no to the invitation."""
        services.invitation_decline(invitation=self.invitation(token))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ExportMixin,
    TenantViewSet,
):
    """Teams: admins change all; managers those they created or lead; members read them."""

    module = "teams"
    model = Team
    serializer_class = TeamSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "member_count"]
    filterset_fields = ["lead"]
    export_filename = "teams"
    action_permissions = {
        "members": "view",
        "add_member": "change",
        "remove_member": "change",
    }

    def select(self):
        """The organization's teams."""
        return selectors.team_list(organization=self.tenant.organization)

    def present(self, queryset):
        """Their lead and member count."""
        return selectors.team_display(queryset)

    def perform_create(self, serializer):
        """Create through the service (unique name)."""
        serializer.instance = services.team_create(
            tenant=self.tenant, data=serializer.validated_data
        )
        serializer.instance.member_count = 0

    def perform_update(self, serializer):
        """Change through the service (unique name)."""
        services.team_update(
            tenant=self.tenant, team=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """Delete through the service."""
        services.team_delete(tenant=self.tenant, team=instance)

    @extend_schema(responses=TeamMemberSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="members", filter_backends=[])
    def members(self, request, pk=None):
        """The team's members (paginated; the teams list's filters do not apply)."""
        team = self.get_object()
        page = self.paginate_queryset(selectors.team_member_list(team=team))
        return self.get_paginated_response(TeamMemberSerializer(page, many=True).data)

    @extend_schema(request=TeamMemberSerializer, responses={201: TeamMemberSerializer})
    @members.mapping.post
    def add_member(self, request, pk=None):
        """Add a member of the organization to the team."""
        team = self.get_object()
        serializer = TeamMemberSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        team_membership = services.team_member_add(
            tenant=self.tenant, team=team, **serializer.validated_data
        )
        return Response(TeamMemberSerializer(team_membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>[0-9a-fA-F-]{36})")
    def remove_member(self, request, pk=None, user_id=None):
        """Remove a user from the team."""
        team = self.get_object()
        team_membership = selectors.team_member_list(team=team).filter(user_id=user_id).first()
        if team_membership is None:
            raise NotFound()
        services.team_member_remove(tenant=self.tenant, team_membership=team_membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ExportMixin,
    TenantViewSet,
):
    """User administration for the organization's admins."""

    module = "organization"
    model = User
    tenant_field = "memberships__organization"
    serializer_class = AdminUserSerializer
    filterset_class = selectors.UserFilter
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["email", "date_joined", "last_login"]
    export_filename = "users"
    action_permissions = {
        name: "administer"
        for name in (
            "list",
            "retrieve",
            "create",
            "update",
            "partial_update",
            "destroy",
            "export",
            "metadata",
            "lock",
            "unlock",
            "reset_password",
        )
    }

    def select(self):
        """The organization's users with their role."""
        return selectors.user_list(organization=self.tenant.organization)

    def get_throttles(self):
        """Account writes (create, change) also count against the account-admin limit."""
        throttles = super().get_throttles()
        if self.action in ("create", "update", "partial_update"):
            throttles.append(AccountAdminThrottle())
        return throttles

    @extend_schema(request=AdminUserCreateSerializer, responses={201: AdminUserSerializer})
    def create(self, request, *args, **kwargs):
        """Create a user with a password and a role no higher than the caller's."""
        serializer = AdminUserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create_in_organization(tenant=self.tenant, **serializer.validated_data)
        user.role = serializer.validated_data["role"]
        return Response(AdminUserSerializer(user).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        """Change names or email through the service."""
        services.user_update(
            tenant=self.tenant, user=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """Remove the user from the organization; the account stays."""
        services.user_remove_from_organization(tenant=self.tenant, user=instance)

    def _act(self, service, **kwargs):
        """Run a user service on the user in the URL and show the result."""
        user = self.get_object()
        service(tenant=self.tenant, user=user, **kwargs)
        return Response(AdminUserSerializer(user).data)

    @extend_schema(request=None, responses=AdminUserSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request, pk=None):
        """Lock the user: sessions and tokens stop at once, sign-in is refused."""
        return self._act(services.user_lock)

    @extend_schema(request=None, responses=AdminUserSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Let the user sign in again."""
        return self._act(services.user_unlock)

    @extend_schema(request=PasswordResetSerializer, responses=AdminUserSerializer)
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        """Set a new password for the user and end their sessions and tokens."""
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._act(services.user_reset_password, **serializer.validated_data)


class MyPermissionsView(APIView):
    """What the caller may do in each module of the current organization."""

    uses_tenant_header = True

    @extend_schema(
        responses=inline_serializer(
            "MyPermissions",
            {
                "organization": StrictUUIDField(),
                "role": serializers.ChoiceField(choices=ROLE_CHOICES),
                "modules": serializers.ListField(child=StrictCharField()),
                "permissions": serializers.DictField(
                    child=serializers.DictField(
                        child=serializers.ChoiceField(choices=["all", "own", "none"])
                    )
                ),
            },
        )
    )
    def get(self, request):
        """Read the caller's options from the policy table."""
        tenant = tenancy.resolve(request)
        membership = tenant.membership
        modules = list(MODULES) if membership.role == Role.ADMIN else membership.modules
        return Response(
            {
                "organization": tenant.organization.pk,
                "role": membership.role,
                "modules": modules,
                "permissions": permissions_of(role=membership.role, modules=membership.modules),
            }
        )


class MemberLoginLogSerializer(LoginLogSerializer):
    """A member's sign-in attempt as the organization's admins see it."""

    class Meta(LoginLogSerializer.Meta):
        fields = ["id", "user", *LoginLogSerializer.Meta.fields[1:]]
        read_only_fields = fields


class MemberLoginLogViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ExportMixin, TenantViewSet
):
    """Sign-in attempts of ``organizations/{organization_pk}/`` members, for its admins.

    Only the attempts of current members from the time they joined; never those of other
    people or unknown emails (``LoginLog`` has no organization: the membership decides).
    """

    module = "organization"
    model = LoginLog
    tenant_url_kwarg = "organization_pk"
    tenant_field = "user__memberships__organization"
    serializer_class = MemberLoginLogSerializer
    filterset_class = selectors.MemberLoginLogFilter
    ordering_fields = ["created_at"]
    export_filename = "login-logs"
    action_permissions = {name: "administer" for name in ("list", "retrieve", "export", "metadata")}

    def select(self):
        """The members' attempts since they joined."""
        return selectors.member_login_log_list(organization=self.tenant.organization)
