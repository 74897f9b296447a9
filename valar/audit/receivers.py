"""Audit receivers: every audited write, and the account events (sign-in, sign-out, passwords).

The one generic mechanism: every create/update/delete of an audited model is recorded.

Audited models derive from :class:`valar.core.models.Audited`, which remembers the values a
row was loaded with, so an update records ``field: {old, new}`` without an extra query.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from valar.accounts.signals import password_changed, password_reset, token_signed_out
from valar.audit.services import audit_record
from valar.core.models import Audited


def _organization_id(instance):
    """The organization an audited row belongs to."""
    return instance.audit_organization_id()


@receiver(post_save)
def record_save(sender, instance, created, raw=False, **kwargs) -> None:
    """Record the creation of an audited row, or the fields an update changed."""
    if raw or not isinstance(instance, Audited):
        return
    if created:
        changes = {field: value for field, value in instance.audit_values().items()}
        audit_record(
            action="create",
            organization_id=_organization_id(instance),
            instance=instance,
            changes=changes,
        )
    else:
        changes = instance.audit_changes()
        if changes:
            audit_record(
                action="update",
                organization_id=_organization_id(instance),
                instance=instance,
                changes=changes,
            )
    instance.audit_snapshot()


@receiver(post_delete)
def record_delete(sender, instance, **kwargs) -> None:
    """Record the deletion of an audited row."""
    if isinstance(instance, Audited):
        # A deleted organization takes its events with it; record this one outside it.
        organization_id = (
            None
            if instance._meta.label_lower == "organizations.organization"
            else (_organization_id(instance))
        )
        audit_record(
            action="delete",
            organization_id=organization_id,
            instance=instance,
        )


def _default_organization_id(user):
    """The organization a user's account events are listed under (their default one)."""
    from valar.organizations.selectors import membership_for

    membership = membership_for(user=user) if user is not None else None
    return membership.organization_id if membership else None


@receiver(user_logged_in)
def record_sign_in(sender, request, user, **kwargs) -> None:
    """A successful sign-in."""
    audit_record(
        action="auth.login",
        organization_id=_default_organization_id(user),
        instance=user,
        actor=user,
    )


@receiver(user_login_failed)
def record_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    """A refused sign-in (the email tried, never the password)."""
    from valar.accounts.models import User

    email = str(credentials.get("email") or credentials.get("username") or "")
    user = User.objects.filter(email__iexact=email).first() if email else None
    audit_record(
        action="auth.login_failed",
        organization_id=_default_organization_id(user),
        instance=user,
        changes={"email": email[:254]},
    )


@receiver(user_logged_out)
def record_sign_out(sender, request, user, **kwargs) -> None:
    """A session signed out."""
    if user is not None:
        audit_record(
            action="auth.logout",
            organization_id=_default_organization_id(user),
            instance=user,
            actor=user,
        )


@receiver(token_signed_out)
def record_token_sign_out(sender, user, token, **kwargs) -> None:
    """An API token revoked by signing out with it."""
    audit_record(
        action="auth.logout", organization_id=_default_organization_id(user), instance=user
    )


@receiver(password_changed)
def record_password_change(sender, user, **kwargs) -> None:
    """A user changed their own password (nothing of it is stored)."""
    audit_record(
        action="auth.password_change",
        organization_id=_default_organization_id(user),
        instance=user,
        actor=user,
    )


@receiver(password_reset)
def record_password_reset(sender, user, **kwargs) -> None:
    """A user reset their own password with an e-mailed link (nothing of it is stored)."""
    audit_record(
        action="user.password_reset",
        organization_id=_default_organization_id(user),
        instance=user,
        actor=user,
        changes={"self_service": True},
    )
