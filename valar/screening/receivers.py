"""Automatic re-screening: a customer, vendor or member created or renamed is screened again.

A member's name is their user's: a user renamed is screened again in each organization they
belong to. Each screening is a job started once the write commits (``subject_changed``), and
only in organizations that hold entries. Whether a save renames is decided before it
(``pre_save``: the audit receiver moves a row's snapshot right after the save), and acted on
after it (``post_save``), when the row exists.
"""

from django.db.models.signals import post_save, pre_save

from valar.screening.models import SubjectKind

#: The attribute a ``pre_save`` receiver leaves on a row the ``post_save`` receiver screens.
MARK = "_screening_trigger"


def _mark_named(sender, instance, raw=False, **kwargs) -> None:
    """Before a customer or vendor is saved: note whether it is new or renamed."""
    if raw:
        return
    if instance._state.adding:
        setattr(instance, MARK, "created")
    elif "name" in instance.audit_changes():
        setattr(instance, MARK, "renamed")


def _mark_user(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Before a user is saved: note whether their name changes (one read of the old one)."""
    if raw or instance._state.adding:
        return
    if update_fields is not None and not {"first_name", "last_name"} & set(update_fields):
        return
    old = sender.objects.filter(pk=instance.pk).values("first_name", "last_name").first()
    if old and (old["first_name"], old["last_name"]) != (instance.first_name, instance.last_name):
        setattr(instance, MARK, "renamed")


def _subject_receiver(kind: str):
    """A ``post_save`` receiver that screens a marked customer or vendor."""

    def received(sender, instance, raw=False, **kwargs) -> None:
        """Screen the subject when ``pre_save`` marked it."""
        from valar.screening.services import subject_changed

        trigger = instance.__dict__.pop(MARK, None)
        if trigger and not raw:
            subject_changed(kind=kind, instance=instance, trigger=trigger)

    return received


def _membership_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """Screen a new member."""
    from valar.screening.services import subject_changed

    if created and not raw:
        subject_changed(kind=SubjectKind.MEMBER, instance=instance, trigger="created")


def _user_saved(sender, instance, raw=False, **kwargs) -> None:
    """Screen a renamed user again as a member of each of their organizations."""
    from valar.screening.services import subject_changed

    if instance.__dict__.pop(MARK, None) and not raw:
        for membership in instance.memberships.select_related("organization"):
            subject_changed(kind=SubjectKind.MEMBER, instance=membership, trigger="renamed")


def connect() -> None:
    """Connect the receivers (``ScreeningConfig.ready``)."""
    from valar.accounts.models import User
    from valar.crm.models import Customer, Vendor
    from valar.organizations.models import Membership

    for model, kind in ((Customer, SubjectKind.CUSTOMER), (Vendor, SubjectKind.VENDOR)):
        uid = f"screening.{model._meta.label}"
        pre_save.connect(_mark_named, sender=model, weak=False, dispatch_uid=uid)
        post_save.connect(_subject_receiver(kind), sender=model, weak=False, dispatch_uid=uid)
    uid = f"screening.{Membership._meta.label}"
    post_save.connect(_membership_saved, sender=Membership, weak=False, dispatch_uid=uid)
    uid = f"screening.{User._meta.label}"
    pre_save.connect(_mark_user, sender=User, weak=False, dispatch_uid=uid)
    post_save.connect(_user_saved, sender=User, weak=False, dispatch_uid=uid)
