"""Receivers: registration with ``organization_name``; a reset reclaims the account; forgetting
cached memberships."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from valar.accounts.signals import password_reset, user_registered
from valar.core import versions
from valar.core.tenancy import USER_SCOPE
from valar.organizations.models import Membership, Organization
from valar.organizations.services import accounts_reclaimed, organization_create


@receiver(user_registered)
def create_registered_organization(sender, user, data, **kwargs) -> None:
    """Create the organization named at registration, with the new user as its admin."""
    if data.get("organization_name"):
        organization_create(name=data["organization_name"], actor=user)


@receiver(password_reset)
def end_management_on_reset(sender, user, **kwargs) -> None:
    """A self-service reset proves the inbox: the account is its owner's, managed by nobody."""
    accounts_reclaimed(user=user)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def forget_cached_memberships(sender, instance, **kwargs) -> None:
    """A changed membership takes effect at once: bump its user's memberships version."""
    versions.bump(USER_SCOPE.format(instance.user_id), "memberships")


@receiver(post_save, sender=Organization)
@receiver(post_delete, sender=Organization)
def forget_cached_organizations(sender, instance, **kwargs) -> None:
    """A changed organization is re-read by its members' next requests, and only theirs.

    Each member's memberships version moves on (one round trip on Redis, whatever the number
    of members); other organizations' cached memberships stay valid. A deleted organization's
    memberships are deleted with it, each bumping its user.
    """
    members = Membership.objects.filter(organization_id=instance.pk).values_list(
        "user_id", flat=True
    )
    versions.bump_scopes([(USER_SCOPE.format(user_id), "memberships") for user_id in members])
