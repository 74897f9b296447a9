"""Receivers of other apps' signals: registration with ``organization_name``."""

from django.dispatch import receiver

from valar.accounts.signals import user_registered
from valar.organizations.services import organization_create


@receiver(user_registered)
def create_registered_organization(sender, user, data, **kwargs) -> None:
    """Create the organization named at registration, with the new user as its admin."""
    if data.get("organization_name"):
        organization_create(name=data["organization_name"], actor=user)
