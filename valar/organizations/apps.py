"""App configuration for organizations."""

from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    """The ``organizations`` app: the tenant model and who belongs to it."""

    name = "valar.organizations"
    label = "organizations"

    def ready(self) -> None:
        """Connect the receivers of other apps' signals."""
        from valar.organizations import receivers  # noqa: F401
