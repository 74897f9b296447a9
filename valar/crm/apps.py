"""App configuration for the CRM."""

from django.apps import AppConfig


class CrmConfig(AppConfig):
    """The ``crm`` app (policy module ``crm``)."""

    name = "valar.crm"
    label = "crm"

    def ready(self) -> None:
        """Connect the receivers (default pipeline, re-scoring on new weights)."""
        from valar.crm import metrics, receivers  # noqa: F401
