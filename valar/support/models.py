"""Support chats: a conversation opened by a member (or for one by an agent), and its messages.

Messages are numbered per chat (``seq``: 1, 2, 3... with no gap, assigned under the chat's row
lock), so a client that saw message ``n`` resumes with ``after=n`` and gets exactly what it
missed, in order.
"""

from django.conf import settings
from django.db import models

from valar.core import files
from valar.core.models import AuthoredModel, TenantModel


class Chat(TenantModel):
    """A conversation: its opener (``created_by``), an agent (``assignee``) and a status.

    ``last_seq`` is the number of the chat's last message (0: none yet); ``last_message_at``
    its time; ``last_public_*`` the same without internal notes (what non-agents are shown).
    Agents (members with the ``support`` module and role worker or above) see every chat;
    anyone else sees the chats they opened.
    """

    class Status(models.TextChoices):
        """Where the conversation stands."""

        OPEN = "open"
        PENDING = "pending"
        CLOSED = "closed"

    class Priority(models.TextChoices):
        """How urgent it is."""

        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        URGENT = "urgent"

    #: Statuses that count towards an agent's load (the assignment rule).
    ACTIVE = (Status.OPEN, Status.PENDING)

    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_chats",
    )
    assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="chats"
    )
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The same, counting only messages that are not internal notes (what non-agents see).
    last_public_seq = models.PositiveIntegerField(default=0, editable=False)
    last_public_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: How many messages are not internal notes (a non-agent's unread count is this minus
    #: what they have read).
    public_count = models.PositiveIntegerField(default=0, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: When someone other than the opener first answered (not an internal note): the first
    #: response time is ``first_response_at - created_at``.
    first_response_at = models.DateTimeField(null=True, blank=True, editable=False)

    owner_fields = ("created_by", "assignee")
    metric_sources = ("support",)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["organization", "assignee", "status"]),
            models.Index(fields=["organization", "created_by", "status"]),
        ]

    def __str__(self) -> str:
        """Show the subject."""
        return self.subject


def message_file_path(instance: "Message", filename: str) -> str:
    """An unguessable storage name for a message's file, never the uploaded name."""
    return files.storage_name("support", instance.organization_id)


class Message(AuthoredModel):
    """One message of a chat: its number in the chat, its sender (``created_by``) and text.

    ``internal`` notes are seen by agents only. Messages are not audited one by one (the
    chat's lifecycle is: assign, close, reopen, delete), as notifications are not.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(editable=False)
    text = models.TextField()
    internal = models.BooleanField(default=False)
    #: When its author last changed the text (``None``: never edited).
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: When it was deleted: the row stays as a tombstone (its number kept, its text emptied).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: An attached file (``core.files`` rules: PDF, PNG, JPEG or WebP, at most 10 MB), its
    #: original name, the type its bytes proved and its size; empty without one.
    file = models.FileField(upload_to=message_file_path, max_length=200, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=50, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True)

    owner_fields = ("chat__created_by", "chat__assignee")

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="support_message_chat_seq"),
        ]

    def __str__(self) -> str:
        """Show the chat and the number."""
        return f"{self.chat_id}#{self.seq}"


class ChatReader(models.Model):
    """How far one person has read one chat: their read marker.

    ``seq`` is the last message number they have read; ``public_count`` how many messages
    that are not internal notes were numbered up to it (so a non-agent's unread count is
    ``chat.public_count - public_count`` and an agent's ``chat.last_seq - seq``: no count
    over messages); ``public_seq`` the last of those (what non-agents are told of the marker).
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="readers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_reads"
    )
    seq = models.PositiveIntegerField(default=0)
    public_count = models.PositiveIntegerField(default=0)
    public_seq = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "user"], name="support_reader_chat_user"),
        ]

    def __str__(self) -> str:
        """Show the chat, the reader and the marker."""
        return f"{self.chat_id}/{self.user_id}@{self.seq}"
