"""App configuration for operations."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The ``ops`` app: health of the service and the commands operators run."""

    name = "valar.ops"
    label = "ops"

    def ready(self) -> None:
        """Expose the business gauges (organizations, users) at every scrape of /metrics."""
        from valar.core import telemetry
        from valar.ops import selectors

        telemetry.register_scrape_collector("business", selectors.business_metrics)
