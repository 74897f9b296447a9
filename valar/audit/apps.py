"""App configuration for the audit trail."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The ``audit`` app; connects the receivers that record every audited write."""

    name = "valar.audit"
    label = "audit"

    def ready(self) -> None:
        """Connect the model-change receivers."""
        from valar.audit import receivers  # noqa: F401
