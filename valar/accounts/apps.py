"""App configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The ``accounts`` app: the custom user model and everything about signing in."""

    name = "valar.accounts"
    label = "accounts"

    def ready(self) -> None:
        """Connect the receiver that invalidates a changed user's cache entry."""
        from valar.accounts import middleware  # noqa: F401
