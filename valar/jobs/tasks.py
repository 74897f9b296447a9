"""The jobs app's own scheduled job: pruning old job records (Celery beat)."""

from django.db import OperationalError

from valar.core.jobs import job
from valar.jobs.services import jobs_prune


@job("jobs.prune_finished", retry_for=(OperationalError,))
def prune_finished(self, days: int | None = None) -> dict[str, int]:
    """Delete jobs finished more than ``days`` (``JOBS_RETENTION_DAYS``) ago (idempotent)."""
    return {"deleted": jobs_prune(days=days)}
