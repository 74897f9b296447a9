"""Scheduled account maintenance (Celery beat, ``CELERY_BEAT_SCHEDULE``)."""

from django.db import OperationalError

from valar.accounts.services import accounts_prune_expired
from valar.core.jobs import job


@job("accounts.prune_expired", retry_for=(OperationalError,))
def prune_expired(self) -> dict[str, int]:
    """Delete expired sessions and refresh tokens and idle sign-in counters (idempotent)."""
    return accounts_prune_expired()
