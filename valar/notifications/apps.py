"""App configuration for notifications."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The ``notifications`` app (policy module ``notifications``, every member has it)."""

    name = "valar.notifications"
    label = "notifications"
