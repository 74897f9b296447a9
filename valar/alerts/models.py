"""Alert rules over the metrics engine's sources, and the history of their firings."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from valar.core.models import BaseModel, TenantModel


class Period(models.TextChoices):
    """The window a rule's figure covers, in the organization's time zone.

    Calendar periods cover the whole day, week (from Monday) or month that holds now;
    ``last_hours``/``last_days`` end now and reach ``period_length`` hours or days back
    (``last_days`` on a date field: today and the ``period_length - 1`` days before it);
    ``before_today`` is every date before today (``tasks`` by ``due_date``: overdue).
    """

    TODAY = "today"
    THIS_WEEK = "this_week"
    THIS_MONTH = "this_month"
    LAST_HOURS = "last_hours"
    LAST_DAYS = "last_days"
    BEFORE_TODAY = "before_today"


class Comparison(models.TextChoices):
    """How a figure crosses the threshold: strictly above it, or strictly below it."""

    ABOVE = "above"
    BELOW = "below"


class State(models.TextChoices):
    """Whether the rule's figure is within its threshold (``ok``) or past it (``firing``)."""

    OK = "ok"
    FIRING = "firing"


#: Exact figures: up to 18 whole digits (sums of many amounts) and cents.
VALUE_DIGITS = {"max_digits": 20, "decimal_places": 2}


class AlertRule(TenantModel):
    """ "Expenses this month above 10,000": a figure of a metric source compared to a threshold.

    ``source``, ``measure``, ``date_field`` and ``filters`` are a metrics query (validated by
    the engine); ``period`` (and ``period_length``) the window it covers. The checker
    (``services.check_alerts``) computes the figure; ``state`` turns ``firing`` once, when the
    figure crosses the threshold, with one :class:`AlertFiring`, and back to ``ok`` when it
    returns within it. ``users`` and ``teams`` (members and teams of the organization) are
    told of a firing. State fields are written only by the checker, with conditional updates
    (never through ``save``), so they are not audited row by row; firings are audited events.
    """

    name = models.CharField(max_length=150)
    source = models.CharField(max_length=50)
    measure = models.CharField(max_length=20, default="sum")
    date_field = models.CharField(max_length=50)
    filters = models.JSONField(default=dict, blank=True)
    period = models.CharField(max_length=12, choices=Period.choices, default=Period.THIS_MONTH)
    period_length = models.PositiveSmallIntegerField(null=True, blank=True)
    comparison = models.CharField(
        max_length=5, choices=Comparison.choices, default=Comparison.ABOVE
    )
    threshold = models.DecimalField(max_digits=14, decimal_places=2)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    teams = models.ManyToManyField("organizations.Team", blank=True, related_name="+")
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=6, choices=State.choices, default=State.OK, editable=False)
    last_value = models.DecimalField(**VALUE_DIGITS, null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    audit_exclude = ("created_at", "updated_at", "state", "last_value", "last_checked_at")

    class Meta:
        ordering = ["name", "created_at"]
        indexes = [
            models.Index(fields=["organization", "name"]),
            models.Index(fields=["enabled", "organization"]),
        ]

    def __str__(self) -> str:
        """Show the rule's name."""
        return self.name


class AlertFiring(BaseModel):
    """One time a rule crossed its threshold: the figure then, and when it cleared.

    At most one firing of a rule is open (``cleared_at`` empty): a partial unique constraint
    holds it in the database whatever the checkers do. Written only by the checker.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    value = models.DecimalField(**VALUE_DIGITS)
    threshold = models.DecimalField(max_digits=14, decimal_places=2)
    comparison = models.CharField(max_length=5, choices=Comparison.choices)
    fired_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_value = models.DecimalField(**VALUE_DIGITS, null=True, blank=True)

    class Meta:
        ordering = ["-fired_at"]
        indexes = [models.Index(fields=["rule", "-fired_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["rule"], condition=Q(cleared_at__isnull=True), name="alert_one_open_firing"
            ),
        ]

    def __str__(self) -> str:
        """Show the rule and when it fired."""
        return f"{self.rule_id} fired at {self.fired_at:%Y-%m-%d %H:%M}"
