"""The job record: one row per background job, written by ``valar.core.jobs.JobTask`` only."""

from django.conf import settings
from django.db import models

from valar.core.models import BaseModel


class Job(BaseModel):
    """A background job an organization (or the platform's schedule) started, and its outcome.

    ``kind`` is the Celery task's name (``jobs.prune_finished``). The base task class moves
    ``state`` from ``queued`` through ``running`` to ``succeeded``, ``failed`` or
    ``cancelled``, and keeps ``progress``, ``result``, ``error`` and ``attempts``; no job
    writes them itself. ``organization`` is empty for the platform's own scheduled jobs, which
    no organization lists. Not audited row by row: a job's writes go through the services it
    calls, which audit as they do for a request; cancelling is a state change of the row.
    """

    class State(models.TextChoices):
        """Where the job stands."""

        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    #: States a job never leaves.
    FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    kind = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    owner_fields = ("started_by",)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "kind", "-created_at"]),
            models.Index(fields=["organization", "state", "-created_at"]),
            models.Index(fields=["organization", "started_by", "-created_at"]),
            models.Index(fields=["state", "finished_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="jobs_job_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        """Show the kind and the state."""
        return f"{self.kind} ({self.state})"
