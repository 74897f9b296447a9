"""App configuration for finance."""

from django.apps import AppConfig


class FinanceConfig(AppConfig):
    """The ``finance`` app (policy module ``finance``); registers its metric sources."""

    name = "valar.finance"
    label = "finance"

    def ready(self) -> None:
        """Register the metric sources and connect the receivers."""
        from valar.finance import metrics, receivers  # noqa: F401
