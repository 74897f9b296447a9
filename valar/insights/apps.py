"""App configuration for insights."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The ``insights`` app (policy module ``insights``)."""

    name = "valar.insights"
    label = "insights"
