"""CRM data: leads, customers, pipelines with stages, deals with their stage history, vendors."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from valar.core.models import TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}


def _user_fk(related_name: str) -> models.ForeignKey:
    """An optional link to a member (kept when the member leaves)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
    )


def _team_fk(related_name: str) -> models.ForeignKey:
    """An optional link to a team."""
    return models.ForeignKey(
        "organizations.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
    )


class CrmModel(TenantModel):
    """A CRM row: its writes feed the ``crm`` source of the metrics cache."""

    metric_sources = ("crm",)

    class Meta:
        abstract = True


class Lead(CrmModel):
    """A prospective customer, scored from what is known about them."""

    class Source(models.TextChoices):
        """Where the lead came from."""

        WEBSITE = "website"
        REFERRAL = "referral"
        SOCIAL_MEDIA = "social_media"
        PARTNER = "partner"
        EVENT = "event"
        COLD_CALL = "cold_call"
        ADVERTISEMENT = "advertisement"
        OTHER = "other"

    class Status(models.TextChoices):
        """Where the lead stands."""

        NEW = "new"
        CONTACTED = "contacted"
        QUALIFIED = "qualified"
        UNQUALIFIED = "unqualified"
        CONVERTED = "converted"

    #: Leads whose score follows the organization's weights (closed ones keep theirs).
    OPEN = (Status.NEW, Status.CONTACTED, Status.QUALIFIED)

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OTHER)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    estimated_value = models.DecimalField(**MONEY, null=True, blank=True)
    score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    assigned_to = _user_fk("assigned_leads")
    team = _team_fk("leads")
    notes = models.TextField(blank=True)
    disqualification_reason = models.CharField(max_length=500, blank=True)
    converted_customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_at = models.DateTimeField(null=True, blank=True)

    owner_fields = ("created_by", "assigned_to")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["organization", "assigned_to"]),
            models.Index(fields=["organization", "-score"]),
            models.Index(fields=["organization", "source"]),
            models.Index(fields=["organization", "-created_at"]),
        ]

    def __str__(self) -> str:
        """Show the lead's name."""
        return f"{self.first_name} {self.last_name}"


class Customer(CrmModel):
    """A company or person the organization sells to."""

    class Status(models.TextChoices):
        """The relationship."""

        ACTIVE = "active"
        INACTIVE = "inactive"
        PROSPECT = "prospect"
        VIP = "vip"

    #: ``CUST-0001``: gap-free per organization, never reused (``crm.services.customer_codes``).
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    assigned_to = _user_fk("assigned_customers")
    source_lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: A confirmed watch-list hit (screening) names this row; set only by the review.
    watchlist_flagged = models.BooleanField(
        default=False, editable=False, help_text="A confirmed watch-list hit names it (screening)."
    )

    owner_fields = ("created_by", "assigned_to")

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["organization", "name"]),
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "assigned_to"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="customer_code_unique")
        ]

    def __str__(self) -> str:
        """Show the customer's name."""
        return self.name


class Pipeline(CrmModel):
    """An ordered set of stages deals move through; one per organization is the default."""

    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="one_default_pipeline"
            ),
            models.UniqueConstraint(fields=["organization", "name"], name="pipeline_name_unique"),
        ]

    def __str__(self) -> str:
        """Show the pipeline's name."""
        return self.name


class Stage(CrmModel):
    """One step of a pipeline, with the probability a deal there is won."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    # The bound is stated, not left to the database (SQLite would admit 64-bit values): the
    # schema, and what is accepted, are the same on every backend.
    order = models.PositiveSmallIntegerField(validators=[MaxValueValidator(32767)])
    probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    is_won = models.BooleanField(default=False)
    is_lost = models.BooleanField(default=False)

    class Meta:
        ordering = ["pipeline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="stage_order_unique"),
            models.CheckConstraint(
                condition=~(Q(is_won=True) & Q(is_lost=True)), name="stage_not_won_and_lost"
            ),
        ]

    def __str__(self) -> str:
        """Show the stage's name."""
        return self.name


class Deal(CrmModel):
    """A sale in progress for a customer, moving through a pipeline's stages.

    ``base_value`` is its value in the organization's base currency, fixed when the deal is
    created or changed and again when it is won (``crm.services``).
    """

    class Status(models.TextChoices):
        """Open, or closed as won or lost."""

        OPEN = "open"
        WON = "won"
        LOST = "lost"

    title = models.CharField(max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="deals")
    value = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3)
    #: The rate to the base currency the value is fixed at (1 in the base currency); null only
    #: on deals in another currency from before rates were kept.
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, default=1)
    #: ``value x exchange_rate`` rounded half-up to the cent: what every deal figure sums.
    base_value = models.DecimalField(**MONEY, null=True, editable=False)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    expected_close_date = models.DateField(null=True, blank=True)
    assigned_to = _user_fk("assigned_deals")
    team = _team_fk("deals")
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=500, blank=True)

    owner_fields = ("created_by", "assigned_to")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "stage"]),
            models.Index(fields=["organization", "customer"]),
            models.Index(fields=["organization", "assigned_to"]),
            models.Index(fields=["organization", "team"]),
            models.Index(fields=["organization", "expected_close_date"]),
            models.Index(fields=["organization", "-created_at"]),
        ]

    def __str__(self) -> str:
        """Show the deal's title."""
        return self.title


class DealStageChange(CrmModel):
    """A deal moving from one stage to another: who moved it and when (``created_*``)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "deal", "created_at"])]

    def __str__(self) -> str:
        """Describe the move."""
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Vendor(CrmModel):
    """A supplier the organization buys from (expenses link to it)."""

    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    #: A confirmed watch-list hit (screening) names this row; set only by the review.
    watchlist_flagged = models.BooleanField(
        default=False, editable=False, help_text="A confirmed watch-list hit names it (screening)."
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self) -> str:
        """Show the vendor's name."""
        return self.name
