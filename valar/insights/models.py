"""Dashboards: charts whose computed documents are stored, and who they are shared with."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from valar.core.models import TenantModel


class Dashboard(TenantModel):
    """A user's page of charts; private, shared with people or teams, or organization-wide."""

    class Visibility(models.TextChoices):
        """Who sees it beyond the owner and the people it is shared with."""

        PRIVATE = "private"
        ORGANIZATION = "organization"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.PRIVATE
    )

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["organization", "created_by"])]

    def __str__(self) -> str:
        """Show the dashboard's title."""
        return self.title


class DashboardShare(TenantModel):
    """A dashboard shared with one user or one team, as viewer or editor."""

    class Role(models.TextChoices):
        """What the people shared with may do."""

        VIEWER = "viewer"
        EDITOR = "editor"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "organizations.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="share_user_xor_team",
            )
        ]

    def __str__(self) -> str:
        """Describe the share."""
        return f"{self.dashboard_id} -> {self.user_id or self.team_id} ({self.role})"


class Chart(TenantModel):
    """A chart: its engine query and the document computed from it, stored as JSON."""

    class ChartType(models.TextChoices):
        """How a client draws it."""

        BAR = "bar"
        LINE = "line"
        AREA = "area"
        PIE = "pie"
        TABLE = "table"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="charts")
    title = models.CharField(max_length=200)
    chart_type = models.CharField(max_length=5, choices=ChartType.choices)
    query = models.JSONField()
    document = models.JSONField()
    # Bounded here, not by the database, so the schema is the same on SQLite and PostgreSQL.
    position = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(2147483647)])
    computed_at = models.DateTimeField()
    source_version = models.CharField(max_length=40, help_text="The source version computed at.")

    class Meta:
        ordering = ["position", "created_at"]
        indexes = [models.Index(fields=["dashboard", "position"])]

    def __str__(self) -> str:
        """Show the chart's title."""
        return self.title
