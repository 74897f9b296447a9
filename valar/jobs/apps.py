"""App configuration for jobs."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The ``jobs`` app (policy module ``jobs``, one every member has by role)."""

    name = "valar.jobs"
    label = "jobs"

    def ready(self) -> None:
        """Import every app's ``tasks.py`` now, so any process can start a job by its kind.

        Also registers the jobs' figures (``selectors.job_metrics``) for ``/metrics``.

        A worker imports them when it starts; a web process would otherwise know only the
        jobs whose modules something happened to import.
        """
        from valar.celery import app
        from valar.core import telemetry
        from valar.jobs.selectors import job_metrics

        app.autodiscover_tasks(force=True)
        telemetry.register_scrape_collector("jobs", job_metrics)
