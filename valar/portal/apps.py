"""App configuration for the customer portal."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The ``portal`` app (policy module ``portal``, for ``client`` members only)."""

    name = "valar.portal"
    label = "portal"
