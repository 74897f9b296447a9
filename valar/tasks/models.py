"""The task: a piece of work with a status, a priority, a due date, an assignee and a team."""

from django.conf import settings
from django.db import models

from valar.core.models import TenantModel


class Task(TenantModel):
    """A piece of work in an organization, optionally assigned to a member and a team."""

    class Status(models.TextChoices):
        """Where the work stands."""

        TODO = "todo"
        IN_PROGRESS = "in_progress"
        BLOCKED = "blocked"
        DONE = "done"
        CANCELLED = "cancelled"

    class Priority(models.TextChoices):
        """How urgent the work is."""

        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"
        URGENT = "urgent"

    #: Sort order of priorities (``ordering=priority`` sorts by meaning, not alphabet).
    PRIORITY_RANK = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
    #: Statuses that end the work (an overdue task is one not in them).
    CLOSED = (Status.DONE, Status.CANCELLED)

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TODO)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    priority_rank = models.PositiveSmallIntegerField(default=2, editable=False)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    team = models.ForeignKey(
        "organizations.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    owner_fields = ("created_by", "assignee")
    metric_sources = ("tasks",)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "due_date"]),
            models.Index(fields=["organization", "assignee"]),
            models.Index(fields=["organization", "team"]),
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "completed_at"]),
        ]

    def __str__(self) -> str:
        """Show the task's title."""
        return self.title

    def set_priority_rank(self) -> None:
        """Keep the priority's sort rank in step with the priority (bulk writes call it too)."""
        self.priority_rank = self.PRIORITY_RANK[self.priority]

    def save(self, *args, **kwargs) -> None:
        """Keep the priority's sort rank in step with the priority."""
        self.set_priority_rank()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "priority" in update_fields:
            kwargs["update_fields"] = {*update_fields, "priority_rank"}
        super().save(*args, **kwargs)
