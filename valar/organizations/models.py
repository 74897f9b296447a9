"""Organizations (the tenants), memberships (role + module grants) and teams."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from valar.core.models import Audited, AuthoredModel, BaseModel, TenantModel
from valar.core.policy import Role

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")


class Organization(Audited, AuthoredModel):
    """A company using Valar; every business row belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    base_currency = models.CharField(max_length=3, default="USD", validators=[currency_validator])
    timezone = models.CharField(max_length=64, default="UTC")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Show the organization's name."""
        return self.name

    def audit_organization_id(self):
        """An organization's events belong to itself."""
        return self.pk


class Membership(Audited, BaseModel):
    """A user's place in an organization: role, granted modules and employee facts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=[(r.value, r.value) for r in Role])
    modules = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False)
    manages_account = models.BooleanField(
        default=False,
        help_text="The organization created this account and may reset, re-email or lock it.",
    )
    job_title = models.CharField(max_length=150, blank=True)
    department = models.CharField(max_length=150, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    #: The customer a ``client`` member acts for in the portal (``portal/``); only clients.
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: A confirmed watch-list hit (screening) names this row; set only by the review.
    watchlist_flagged = models.BooleanField(
        default=False, editable=False, help_text="A confirmed watch-list hit names it (screening)."
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="membership_one_default"
            ),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        """Show who is what where."""
        return f"{self.user_id} {self.role} in {self.organization_id}"


class Team(TenantModel):
    """A group of members that income, expenses, tasks and deals are attributed to."""

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams_led",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams"
    )

    owner_fields = ("created_by", "lead")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique"),
        ]

    def __str__(self) -> str:
        """Show the team's name."""
        return self.name


class TeamMembership(Audited, BaseModel):
    """A user's membership of a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]

    def __str__(self) -> str:
        """Show who is in which team."""
        return f"{self.user_id} in {self.team_id}"

    def audit_organization_id(self):
        """A team membership belongs to its team's organization."""
        return self.team.organization_id


class Invitation(TenantModel):
    """An offer to join the organization, sent to an email, that its owner accepts or declines.

    Only the SHA-256 hash of the token is stored; the token itself travels only in the email.
    Nothing is granted until the invitee accepts, signed in as that email (verified) or by
    creating the account from the invitation.
    """

    class Status(models.TextChoices):
        """Where the invitation stands."""

        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=[(r.value, r.value) for r in Role])
    modules = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    #: The customer a ``client`` invitee will act for in the portal.
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(help_text="When the latest email was sent.")
    send_count = models.PositiveSmallIntegerField(default=1)
    responded_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    audit_exclude = ("created_at", "updated_at", "token_hash")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"])]

    def __str__(self) -> str:
        """Show who is invited as what."""
        return f"{self.email} as {self.role} ({self.status})"
