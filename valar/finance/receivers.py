"""Finance receivers: an attachment's file goes when its row goes."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from valar.finance.models import Attachment


@receiver(post_delete, sender=Attachment)
def delete_attachment_file(sender, instance, **kwargs) -> None:
    """Remove the stored file of a deleted attachment (also when its entry is deleted)."""
    if instance.file:
        instance.file.delete(save=False)
