"""App configuration for screening."""

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """The ``screening`` app (policy module ``screening``): watch lists, entries, runs, matches.

    Its receivers screen a customer, vendor or member again when one is created or renamed;
    its metric sources (``screening.metrics``) feed the summary, the insights and the engine.
    """

    name = "valar.screening"
    label = "screening"

    def ready(self) -> None:
        """Connect the re-screening receivers and register the metric sources."""
        from valar.screening import metrics, receivers  # noqa: F401

        receivers.connect()
