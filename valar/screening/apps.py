"""App configuration for screening."""

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """The ``screening`` app (policy module ``screening``): watch lists, entries, runs, matches.

    Its receivers screen a customer, vendor or member again when one is created or renamed.
    """

    name = "valar.screening"
    label = "screening"

    def ready(self) -> None:
        """Connect the re-screening receivers."""
        from valar.screening import receivers

        receivers.connect()
