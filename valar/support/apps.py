"""App configuration for support."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    """The ``support`` app (policy module ``support``): chats between members and agents."""

    name = "valar.support"
    label = "support"

    def ready(self) -> None:
        """Register the support metric source."""
        from valar.support import metrics  # noqa: F401
