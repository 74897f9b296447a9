"""The alerts app's scheduled job: checking every enabled rule (Celery beat, every minute)."""

from django.db import OperationalError

from valar.alerts.services import check_alerts
from valar.core.jobs import job


@job("alerts.check", retry_for=(OperationalError,))
def check(self) -> dict[str, int]:
    """Check every enabled alert rule: fire, clear, deliver (idempotent: a rule fires once)."""
    report = check_alerts()
    return {
        "checked": len(report.checks),
        "fired": len(report.fired),
        "cleared": len(report.cleared),
        "skipped": len(report.skipped),
    }
