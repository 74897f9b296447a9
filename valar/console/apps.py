"""App configuration for the web console."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The ``console`` app: the page at ``/app/`` and its static files (no models)."""

    name = "valar.console"
    label = "console"
