"""Support use cases: open a chat (get-or-create for members), assign, close, reopen, delete,
post a message. One service per change, used by REST and by the chat socket alike.

A message is numbered under the chat's row lock (``SELECT ... FOR UPDATE``): numbers are
gap-free and increasing per chat, so a client resumes with ``after=<last number seen>``. Once
the transaction commits, the message goes to the chat's channel-layer group
(:func:`chat_group`): every open socket of the chat gets it, internal notes only agents'.
"""

import datetime
import logging
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from rest_framework.fields import DateTimeField

from valar.audit.services import audit_record
from valar.core import files, throttling, versions
from valar.core.errors import Conflict, DomainError
from valar.core.notify import notify
from valar.core.renderers import plain
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.notifications.services import notifications_read_about
from valar.support import selectors
from valar.support.models import Chat, ChatReader, Message

_DATETIME = DateTimeField()

#: The longest message, in characters (after trimming).
MAX_MESSAGE_LENGTH = 4000
#: The channel-layer event of a new message.
MESSAGE_EVENT = "message.created"
#: The channel-layer events of an edited message and of a deleted one (its tombstone).
EDIT_EVENT = "message.updated"
DELETE_EVENT = "message.deleted"
#: The channel-layer event of a moved read marker.
READ_EVENT = "message.read"
#: The channel-layer event of a change of the chat itself (its ``kind`` says which).
CHAT_EVENT = "chat.event"
#: What a chat's opener or an agent may change with PATCH (``status``: agents, between open
#: and pending only; closing and reopening have their own audited services).
EDITABLE_FIELDS = ("subject", "priority", "status")


#: How long a support notification waits unread before it is e-mailed.
EMAIL_AFTER = datetime.timedelta(minutes=10)


def chat_group(chat_id) -> str:
    """The channel-layer group of one chat's sockets."""
    return f"support.chat.{str(chat_id).replace('-', '')}"


def socket_count_key(chat_id, user_id) -> str:
    """The cache key counting one user's open sockets on one chat (the socket cap, and
    whether they are connected)."""
    return f"sockets:support.chat:{chat_id}:{user_id}"


def chat_link(chat: Chat) -> str:
    """The API path of a chat, the ``link`` of its notifications."""
    return f"/api/v1/support/chats/{chat.pk}/"


def _check_agent(*, organization, user_id) -> None:
    """Refuse an assignee who is not an agent of the organization."""
    if not selectors.agents(organization=organization).filter(user_id=user_id).exists():
        message = "Assign an agent: a member with the support module, worker or above."
        raise DomainError(message, errors={"assignee": [message]})


@transaction.atomic
def chat_open(*, tenant: Tenant, data: dict[str, Any]) -> tuple[Chat, bool]:
    """Open a chat; return it and whether it is new.

    A member who is not an agent has one open chat at a time: asking again returns it
    (get-or-create, seed 001). An agent opens a new chat each time (on a customer's
    behalf). A chat without an assignee goes to the least loaded agent
    (:func:`selectors.least_loaded_agent`). A first ``message`` is posted with it.
    """
    user = tenant.membership.user
    agent = selectors.is_agent(tenant.membership)
    first_message = data.pop("message", None)
    if first_message is not None and not first_message.strip():
        raise DomainError("Write something.", errors={"message": ["Write something."]})
    assignee = data.pop("assignee", None)
    customer = data.pop("customer", None)
    customer_id = customer.pk if customer is not None else None
    if not agent:
        # Members who are not agents neither pick the agent nor link a CRM customer; a portal
        # client's chat is about the customer they act for.
        assignee = None
        customer_id = tenant.membership.customer_id
        existing = _open_chat_of(tenant=tenant, user=user)
        if existing is not None:
            if first_message:
                message_post(tenant=tenant, chat=existing, text=first_message)
            return existing, False
        # Each new chat notifies an agent: a member's chats are rationed (close and open
        # again is no way around the one-open-chat rule).
        throttling.spend("chat_open", user.pk, what="chats opened")
    if assignee is not None:
        _check_agent(organization=tenant.organization, user_id=assignee.pk)
        assignee_id = assignee.pk
    else:
        assignee_id = selectors.least_loaded_agent(organization=tenant.organization)
    chat = Chat.objects.create(
        organization=tenant.organization,
        created_by=user,
        assignee_id=assignee_id,
        assigned_at=timezone.now() if assignee_id else None,
        customer_id=customer_id,
        **data,
    )
    if assignee_id and assignee_id != user.pk:
        _tell_assignee(chat, actor=user)
    if first_message:
        message_post(tenant=tenant, chat=chat, text=first_message)
    return chat, True


def _tell_assignee(chat: Chat, *, actor) -> None:
    """Notify the agent a chat was given to (e-mailed if still unread after 10 minutes)."""
    notify(
        organization=chat.organization,
        recipients=[chat.assignee_id],
        title=f"Chat assigned: {chat.subject}"[:200],
        link=chat_link(chat),
        kind="support",
        actor=actor,
        email_after=EMAIL_AFTER,
    )


def _tell_absent(chat: Chat, message: Message, *, sender_id) -> None:
    """Notify the chat's people a new message is for when no socket of theirs is open on it:
    one unread notification per person and chat (not one per message), e-mailed if still
    unread after 10 minutes.

    Who it is for: the assignee, and the opener unless it is an internal note; never the
    sender. Whether they are connected is the socket count (one cache round trip); whether
    one is unread already, one query.
    """
    from valar.notifications.models import Notification

    wanted = {chat.assignee_id} if message.internal else {chat.assignee_id, chat.created_by_id}
    wanted -= {None, sender_id}
    if not wanted:
        return
    try:
        counts = cache.get_many([socket_count_key(chat.pk, user_id) for user_id in wanted])
    except Exception:  # noqa: BLE001  the cache is down: tell everyone (a notification too many)
        counts = {}
    absent = {u for u in wanted if not counts.get(socket_count_key(chat.pk, u))}
    if not absent:
        return
    link = chat_link(chat)
    absent -= set(
        Notification.objects.filter(
            organization_id=chat.organization_id,
            user_id__in=absent,
            kind="support",
            link=link,
            read_at__isnull=True,
        ).values_list("user_id", flat=True)
    )
    if absent:
        notify(
            organization=chat.organization,
            recipients=absent,
            title=f"New message: {chat.subject}"[:200],
            body=message.text[:200],
            link=link,
            kind="support",
            actor=sender_id,
            email_after=EMAIL_AFTER,
        )


@transaction.atomic
def chat_assign(*, tenant: Tenant, chat: Chat, assignee) -> Chat:
    """Give the chat to an agent (audited ``chat.assign``; the agent is notified)."""
    _check_agent(organization=tenant.organization, user_id=assignee.pk)
    previous = chat.assignee_id
    chat.assignee, chat.assigned_at = assignee, timezone.now()
    chat.save(update_fields=["assignee", "assigned_at", "updated_at"])
    audit_record(
        action="chat.assign",
        organization_id=chat.organization_id,
        instance=chat,
        changes={"assignee": {"old": previous, "new": assignee.pk}},
    )
    if assignee.pk != tenant.membership.user_id:
        _tell_assignee(chat, actor=tenant.membership.user)
    _announce(chat, "chat.assigned")
    return chat


@transaction.atomic
def chat_update(*, tenant: Tenant, chat: Chat, data: dict[str, Any]) -> Chat:
    """Change the subject, the priority or (agents) the status between ``open`` and
    ``pending`` (the change is audited); sockets get ``chat.updated``.

    A status from a member who is not an agent is a 400; ``closed`` is ``close/``'s to set (400
    here), and a closed chat's status is ``reopen/``'s (409 ``chat_closed``).
    """
    status = data.get("status")
    if status is not None and status != chat.status:
        if not selectors.is_agent(tenant.membership):
            message = "Only agents set the status."
            raise DomainError(message, errors={"status": [message]})
        if status == Chat.Status.CLOSED:
            message = "Close a chat with close/."
            raise DomainError(message, errors={"status": [message]})
        if chat.status == Chat.Status.CLOSED:
            raise Conflict("The chat is closed: reopen it first.", code="chat_closed")
    chat, changed = model_update(instance=chat, fields=list(EDITABLE_FIELDS), data=data)
    if changed:
        _announce(chat, "chat.updated")
    return chat


@transaction.atomic
def chat_close(*, chat: Chat) -> Chat:
    """Close the chat (409 when it is closed); audited ``chat.close``."""
    if chat.status == Chat.Status.CLOSED:
        raise Conflict("The chat is already closed.", code="already_closed")
    chat.status, chat.closed_at = Chat.Status.CLOSED, timezone.now()
    chat.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(action="chat.close", organization_id=chat.organization_id, instance=chat)
    _announce(chat, "chat.closed")
    return chat


def _open_chat_of(*, tenant: Tenant, user) -> Chat | None:
    """The member's open (or pending) chat, their membership row locked first: two requests of
    one member are served one after the other, so they never open two chats."""
    from valar.organizations.models import Membership

    Membership.objects.select_for_update().filter(pk=tenant.membership.pk).exists()
    return selectors.open_chat_of(organization=tenant.organization, user=user)


@transaction.atomic
def chat_reopen(*, tenant: Tenant, chat: Chat) -> Chat:
    """Reopen a closed chat (409 when it is open or pending); audited ``chat.reopen``.

    A member who is not an agent has one open chat at a time: reopening another while one is
    open is a 409 ``open_chat_exists``.
    """
    if chat.status != Chat.Status.CLOSED:
        raise Conflict("The chat is not closed.", code="already_open")
    if not selectors.is_agent(tenant.membership):
        current = _open_chat_of(tenant=tenant, user=tenant.membership.user)
        if current is not None:
            raise Conflict(
                f"You have an open chat already ({current.pk}): close it first.",
                code="open_chat_exists",
            )
        throttling.spend("chat_open", tenant.membership.user_id, what="chats opened")
    chat.status, chat.closed_at = Chat.Status.OPEN, None
    chat.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(action="chat.reopen", organization_id=chat.organization_id, instance=chat)
    _announce(chat, "chat.reopened")
    return chat


@transaction.atomic
def chat_delete(*, chat: Chat) -> None:
    """Delete the chat and its messages (the deletion is audited); its sockets close (4404)."""
    group = chat_group(chat.pk)
    chat.delete()
    transaction.on_commit(partial(_close_chat_sockets, group), robust=True)


def _close_chat_sockets(group: str) -> None:
    """Close the sockets of a deleted chat (a failing layer is logged)."""
    from valar.core.sockets import CLOSE_EVENT

    _send(group, {"type": CLOSE_EVENT, "code": 4404})


def _send(group: str, event: dict) -> None:
    """Send ``event`` to a chat's sockets; a failing layer is logged (what it announces is
    stored and listed either way)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # noqa: BLE001  the layer (Redis) is down
        logging.getLogger("valar.support").exception("Could not send %s to %s", event, group)


def _announce(chat: Chat, kind: str) -> None:
    """After the commit, tell the chat's sockets it changed (``chat.assigned``, ``chat.closed``,
    ...): the chat as the API shows it to agents and to everyone else."""
    from valar.support.api import ChatEventSerializer

    def send() -> None:
        event = {
            "type": CHAT_EVENT,
            "kind": kind,
            "agent": plain(ChatEventSerializer(chat, context={"agent": True}).data),
            "public": plain(ChatEventSerializer(chat, context={"agent": False}).data),
        }
        _send(chat_group(chat.pk), event)

    transaction.on_commit(send, robust=True)


def clean_text(text: str) -> str:
    """A message's text trimmed; 400 when empty or longer than 4,000 characters."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Write something.", errors={"text": ["Write something."]})
    if len(text) > MAX_MESSAGE_LENGTH:
        message = f"At most {MAX_MESSAGE_LENGTH:,} characters."
        raise DomainError(message, errors={"text": [message]})
    return text


@transaction.atomic
def message_post(
    *, tenant: Tenant, chat: Chat, text: str, internal: bool = False, upload=None
) -> Message:
    """Post a message in ``chat`` as the caller: the next number, under the chat's lock.

    With an ``upload`` the message carries that file (checked by ``core.files``, the rules
    of every attachment: 413 over 10 MB, 400 ``unsupported_file``) and its text may be empty.

    Only agents write internal notes (400 otherwise); a closed chat takes no message (409);
    each user's messages count against the ``chat_message`` rate (429 over it, whichever door
    they came through). The message is sent to the chat's sockets once the transaction
    commits.
    """
    text = clean_text(text) if upload is None or (text or "").strip() else ""
    file_type = files.check_upload(upload) if upload is not None else ""
    throttling.spend("chat_message", tenant.membership.user_id, what="chat messages")
    if internal and not selectors.is_agent(tenant.membership):
        message = "Only agents write internal notes."
        raise DomainError(message, errors={"internal": [message]})
    locked = Chat.objects.select_for_update().filter(pk=chat.pk).first()
    if locked is None:
        raise DomainError("The chat no longer exists.", code="not_found", status_code=404)
    if locked.status == Chat.Status.CLOSED:
        raise Conflict("The chat is closed: reopen it first.", code="chat_closed")
    now = timezone.now()
    seq = locked.last_seq + 1
    counters = {"last_seq": seq, "last_message_at": now}
    if not internal:
        # What members who are not agents are shown: internal notes leave no trace for them.
        counters |= {
            "last_public_seq": seq,
            "last_public_message_at": now,
            "public_count": locked.public_count + 1,
        }
        if locked.first_response_at is None and tenant.membership.user_id != locked.created_by_id:
            counters["first_response_at"] = now
    if not internal:
        counters["updated_at"] = now  # a note leaves no trace for members who are not agents
    Chat.objects.filter(pk=chat.pk).update(**counters)
    if "first_response_at" in counters:
        # An UPDATE sends no save signal: the support figures' version moves on here.
        versions.bump(chat.organization_id, "support")
    for name, value in counters.items():
        setattr(chat, name, value)
    message = Message.objects.create(
        organization_id=chat.organization_id,
        chat=chat,
        seq=seq,
        text=text,
        internal=internal,
        created_by=tenant.membership.user,
        **(
            {
                "file": upload,
                "file_name": (upload.name or "file")[:255],
                "file_type": file_type,
                "file_size": upload.size,
            }
            if upload is not None
            else {}
        ),
    )
    # Writing is reading: the sender's marker moves to their message (no event: the message
    # itself says it).
    _save_marker(
        chat=chat,
        user_id=tenant.membership.user_id,
        seq=seq,
        public_count=counters.get("public_count", locked.public_count),
        public_seq=counters.get("last_public_seq", locked.last_public_seq),
        now=now,
    )
    _tell_absent(locked, message, sender_id=tenant.membership.user_id)
    transaction.on_commit(partial(_broadcast, chat.pk, message), robust=True)
    return message


def _save_marker(*, chat: Chat, user_id, seq: int, public_count: int, public_seq: int, now):
    """Write one reader's marker in one statement (insert, or update on conflict)."""
    ChatReader.objects.bulk_create(
        [
            ChatReader(
                organization_id=chat.organization_id,
                chat_id=chat.pk,
                user_id=user_id,
                seq=seq,
                public_count=public_count,
                public_seq=public_seq,
                read_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["chat", "user"],
        update_fields=["seq", "public_count", "public_seq", "read_at"],
    )


@transaction.atomic
def chat_read(*, tenant: Tenant, chat: Chat, seq: int | None = None) -> dict[str, Any]:
    """Mark the chat read by the caller up to message ``seq`` (by default the last they can
    read); return their marker and unread count.

    Markers only move forward (an older ``seq`` changes nothing); a number past the last
    message is a 400. Under the chat's lock, as posting is, so the counts agree. The chat's
    sockets get ``message.read`` after the commit (non-agents are told the last message they
    can read up to the marker, never an internal note's number).
    """
    agent = selectors.is_agent(tenant.membership)
    locked = Chat.objects.select_for_update().filter(pk=chat.pk).first()
    if locked is None:
        raise DomainError("The chat no longer exists.", code="not_found", status_code=404)
    last = locked.last_seq if agent else locked.last_public_seq
    if seq is None:
        seq = last
    elif seq > last:
        message = f"No such message: the last is {last}."
        raise DomainError(message, errors={"seq": [message]})
    user_id = tenant.membership.user_id
    marker = ChatReader.objects.filter(chat_id=chat.pk, user_id=user_id).first()
    if marker is None or marker.seq < seq:
        was_public = marker.public_seq if marker is not None else 0
        if seq == locked.last_seq:
            public_count, public_seq = locked.public_count, locked.last_public_seq
        else:
            figures = Message.objects.filter(chat_id=chat.pk, seq__lte=seq, internal=False)
            figures = figures.aggregate(n=Count("pk"), last=Max("seq"))
            public_count, public_seq = figures["n"], figures["last"] or 0
        now = timezone.now()
        _save_marker(
            chat=chat,
            user_id=user_id,
            seq=seq,
            public_count=public_count,
            public_seq=public_seq,
            now=now,
        )
        marker = ChatReader(
            chat_id=chat.pk,
            user_id=user_id,
            seq=seq,
            public_count=public_count,
            public_seq=public_seq,
            read_at=now,
        )
        event = {
            "type": READ_EVENT,
            "chat": str(chat.pk),
            "user": str(user_id),
            "seq": seq,
            "public_seq": public_seq,
            # Whether members who are not agents are told: only when the marker passed a
            # message they can read (a marker moving over notes alone says nothing to them).
            "public_moved": public_seq > was_public,
            "read_at": _datetime(now),
        }
        transaction.on_commit(partial(_send, chat_group(chat.pk), event), robust=True)
    if seq == last:
        # Read to the end: the chat's unread notification is read too (its e-mail not sent).
        notifications_read_about(
            organization=chat.organization_id,
            user_id=user_id,
            kind="support",
            link=chat_link(chat),
        )
    unread = locked.last_seq - marker.seq if agent else locked.public_count - marker.public_count
    return {
        "chat": str(chat.pk),
        "seq": marker.seq if agent else marker.public_seq,
        "unread": max(unread, 0),
        "read_at": _datetime(marker.read_at),
    }


def _datetime(value) -> str:
    """A time as the API writes it."""
    return _DATETIME.to_representation(value)


def as_json(message: Message) -> dict[str, Any]:
    """A message as the API and the sockets show it."""
    from valar.support.api import MessageSerializer

    return dict(MessageSerializer(message).data)


def _broadcast(chat_id, message: Message) -> None:
    """Send a committed message to the chat's sockets (a failing layer is logged)."""
    _send(chat_group(chat_id), {"type": MESSAGE_EVENT, "message": as_json(message)})


def _message_for_change(*, tenant: Tenant, chat: Chat, seq: int) -> Message:
    """Message ``seq`` of the chat as the caller may see it, locked (404 otherwise)."""
    agent = selectors.is_agent(tenant.membership)
    message = (
        selectors.message_list(chat=chat, agent=agent).filter(seq=seq).select_for_update().first()
    )
    if message is None:
        raise DomainError("No such message.", code="not_found", status_code=404)
    if message.deleted_at is not None:
        raise Conflict("The message was deleted.", code="message_deleted")
    return message


@transaction.atomic
def message_edit(*, tenant: Tenant, chat: Chat, seq: int, text: str) -> Message:
    """Change the text of one's own message; it keeps ``edited_at`` (never a silent edit).

    Only the author edits (403 otherwise); a deleted message (409 ``message_deleted``) or a
    closed chat (409 ``chat_closed``) takes no edit. The same text changes nothing. Audited
    ``chat.message_edit`` (its number, not its words); sockets get ``message.updated``.
    """
    text = clean_text(text)
    message = _message_for_change(tenant=tenant, chat=chat, seq=seq)
    if message.created_by_id != tenant.membership.user_id:
        raise DomainError(
            "Only its author edits a message.", code="permission_denied", status_code=403
        )
    if Chat.objects.filter(pk=chat.pk, status=Chat.Status.CLOSED).exists():
        raise Conflict("The chat is closed: reopen it first.", code="chat_closed")
    if text == message.text:
        return message
    message.text, message.edited_at = text, timezone.now()
    message.save(update_fields=["text", "edited_at", "updated_at"])
    audit_record(
        action="chat.message_edit",
        organization_id=chat.organization_id,
        instance=chat,
        changes={"seq": message.seq},
    )
    transaction.on_commit(partial(_relay, chat.pk, EDIT_EVENT, message), robust=True)
    return message


@transaction.atomic
def message_delete(*, tenant: Tenant, chat: Chat, seq: int) -> Message:
    """Delete a message, leaving a tombstone: its number and sender stay, its text goes and
    ``deleted_at`` is set (the numbering keeps no gap, a resume still sees it).

    Its author or an admin of the organization deletes it (403 otherwise), also in a closed
    chat; a tombstone is a 409 ``message_deleted``. Audited ``chat.message_delete``; sockets
    get ``message.deleted``.
    """
    from valar.core.policy import Role

    message = _message_for_change(tenant=tenant, chat=chat, seq=seq)
    mine = message.created_by_id == tenant.membership.user_id
    if not mine and tenant.membership.role != Role.ADMIN:
        raise DomainError(
            "Only its author or an admin deletes a message.",
            code="permission_denied",
            status_code=403,
        )
    stored = message.file.name
    message.text, message.deleted_at = "", timezone.now()
    message.file, message.file_name, message.file_type, message.file_size = "", "", "", None
    message.save(
        update_fields=["text", "deleted_at", "file", "file_name", "file_type", "file_size"]
        + ["updated_at"]
    )
    if stored:
        # The file goes with the words, once the tombstone is committed.
        storage = message.file.storage
        transaction.on_commit(partial(storage.delete, stored), robust=True)
    audit_record(
        action="chat.message_delete",
        organization_id=chat.organization_id,
        instance=chat,
        changes={"seq": message.seq, "author": str(message.created_by_id)},
    )
    transaction.on_commit(partial(_relay, chat.pk, DELETE_EVENT, message), robust=True)
    return message


def _relay(chat_id, kind: str, message: Message) -> None:
    """Send a committed change of a message to the chat's sockets."""
    _send(chat_group(chat_id), {"type": kind, "message": as_json(message)})
