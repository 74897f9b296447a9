"""App configuration for jobs."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The ``jobs`` app (policy module ``jobs``, one every member has by role)."""

    name = "valar.jobs"
    label = "jobs"
