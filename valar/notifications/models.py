"""The notification: one message to one user in one organization, read or not."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from valar.core.models import BaseModel
from valar.core.notify import KINDS, LEVELS


class Notification(BaseModel):
    """A message to ``user`` in ``organization``; ``read_at`` is set when they read it.

    Rows are written only by ``core.notify.notify`` (in bulk) and marked read by their
    recipient; they are not audited one by one (the action that caused them is).
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(
        max_length=20,
        choices=[(kind, kind) for kind in KINDS],
        help_text="What it is about; e-mail opt-outs (preferences) name kinds.",
    )
    level = models.CharField(max_length=10, choices=[(level, level) for level in LEVELS])
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    #: When to e-mail it if it is still unread then (``notify(email_after=...)``); ``None``:
    #: e-mailed at once, or its e-mail is done with.
    email_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    #: The policy's ``OWN``: a notification belongs to its recipient only.
    owner_fields = ("user",)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The list: a user's notifications in one organization, newest first.
            models.Index(fields=["organization", "user", "-created_at"], name="notif_user_list"),
            # The unread count and `unread=true`: only unread rows are in it.
            models.Index(
                fields=["organization", "user"],
                condition=Q(read_at__isnull=True),
                name="notif_user_unread",
            ),
            # The e-mails due (the every-minute job): only rows waiting for one are in it.
            models.Index(
                fields=["email_due_at"],
                condition=Q(email_due_at__isnull=False),
                name="notif_email_due",
            ),
        ]

    def __str__(self) -> str:
        """Show the title."""
        return self.title
