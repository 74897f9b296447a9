"""App configuration for alerts."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """The ``alerts`` app (policy module ``alerts``): rules over metric sources, firings."""

    name = "valar.alerts"
    label = "alerts"
