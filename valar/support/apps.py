"""App configuration for support."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    """The ``support`` app (policy module ``support``): chats between members and agents."""

    name = "valar.support"
    label = "support"

    def ready(self) -> None:
        """Register the support metric source; a deleted message's file goes with its row."""
        from valar.core.files import delete_stored_files
        from valar.support import metrics  # noqa: F401
        from valar.support.models import Message

        delete_stored_files(Message)
