"""The one generic mechanism: every create/update/delete of an audited model is recorded.

Audited models derive from :class:`valar.core.models.Audited`, which remembers the values a
row was loaded with, so an update records ``field: {old, new}`` without an extra query.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

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
