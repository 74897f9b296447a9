"""App configuration for operations."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The ``ops`` app: health of the service and the commands operators run."""

    name = "valar.ops"
    label = "ops"
