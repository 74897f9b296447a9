"""``ws/support/chats/<id>/`` (and the seed's ``ws/support/chat/<id>/``): one chat, live.

Who may join: the agents of the organization and the chat's own people (its opener, its
assignee); anyone else, another organization's user or a member without the ``support``
module is refused before accept. On connect the server sends ``hello`` and then every message
after ``?after=<seq>`` (0 by default), in order, before any live one; ``resume {after}`` does
the same on an open socket. Messages are numbered per chat and the socket never sends a number
twice, so a client that keeps the last ``seq`` it saw misses nothing and gets nothing twice.

Client events: ``message.send {text, internal}``, ``read {seq?}``, ``resume {after}``,
``typing``, ``ping``. Server events: ``hello``, ``message.created {message}``,
``message.updated {message}``, ``message.deleted {message}`` (a tombstone),
``message.read {chat, user, seq, read_at}``, ``typing {user}``, ``chat.assigned``,
``chat.updated``, ``chat.closed``, ``chat.reopened`` (each ``{chat}``), ``pong``,
``error {code, detail, errors}``. A message sent here is stored by the same service as
``POST .../messages/`` before it is broadcast; a ``read`` moves the same marker as
``POST .../read/``.
"""

import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from valar.core.errors import DomainError, TooManyRequests, flatten_errors
from valar.core.sockets import CLOSE_THROTTLED, Refusal, SocketRefused, TenantConsumer
from valar.support import selectors, services
from valar.support.api import ReadSerializer

NO_SUCH_CHAT = Refusal(4404, 404, "not_found", "No such chat.")
#: The most messages one backlog sends (a client pages the rest over REST).
BACKLOG_LIMIT = 500
#: Seconds between two typing events of one socket that are passed on (others are dropped).
TYPING_INTERVAL = 1.0
#: Open sockets of one user on one chat.
SOCKETS_PER_USER = 5


class ChatConsumer(TenantConsumer):
    """A socket on one chat (see the module)."""

    module = "support"
    route = "/ws/support/chats/{id}/"
    user_socket_limit = SOCKETS_PER_USER
    #: Messages refused by the rate limit since the last one accepted (a second closes).
    throttled = 0

    def _resolve(self, request):
        """The tenant, then the chat as the caller may see it (refused when they may not)."""
        tenant = super()._resolve(request)
        chat_id = self.scope["url_route"]["kwargs"]["chat_id"]
        chat = selectors.visible_chat(tenant=tenant, chat_id=chat_id)
        if chat is None:
            raise SocketRefused(NO_SUCH_CHAT)
        self.chat = chat
        self.agent = selectors.is_agent(tenant.membership)
        self.sent_seqs: set[int] = set()
        return tenant

    def limit_key(self) -> str:
        """Sockets are counted per user and chat."""
        return services.socket_count_key(self.chat.pk, self.user.pk)

    def group_names(self) -> list[str]:
        """The chat's group."""
        return [services.chat_group(self.chat.pk)]

    async def joined(self) -> None:
        """Greet, then send what the client missed since ``?after=``."""
        await self.send_json(await database_sync_to_async(self._hello)())
        query = parse_qs(self.scope.get("query_string", b"").decode())
        await self._backlog(_after((query.get("after") or ["0"])[0]))

    async def _backlog(self, after: int | None) -> None:
        """Send every message after ``after`` not sent yet, in order."""
        if after is None:
            await self._error("invalid", "after: a message number >= 0.")
            return
        messages = await database_sync_to_async(self._messages_after)(after)
        for message in messages:
            await self._send_message(message)

    def _messages_after(self, after: int) -> list[dict]:
        """The messages after ``after`` the caller may read, as the API shows them."""
        rows = selectors.message_list(chat=self.chat, agent=self.agent).filter(seq__gt=after)
        return [services.as_json(message) for message in rows[:BACKLOG_LIMIT]]

    def _hello(self) -> dict:
        """The greeting: the chat and its last message number as this caller counts it."""
        self.chat.refresh_from_db(fields=["last_seq", "last_public_seq"])
        last = self.chat.last_seq if self.agent else self.chat.last_public_seq
        return {"type": "hello", "chat": str(self.chat.pk), "last_seq": last}

    async def _send_message(self, message: dict) -> None:
        """Send one message unless this socket sent it already (a resume, a live copy)."""
        if message["seq"] in self.sent_seqs:
            return
        self.sent_seqs.add(message["seq"])
        await self.send_json({"type": "message.created", "message": message})

    async def receive_json(self, content, **kwargs):
        """``message.send``, ``resume``, ``typing``, ``ping``; anything else is an error."""
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "resume":
            after = content.get("after", 0)
            valid = isinstance(after, int) and not isinstance(after, bool) and after >= 0
            await self._backlog(after if valid else None)
        elif kind == "typing":
            now = time.monotonic()
            if now - getattr(self, "_typed_at", -TYPING_INTERVAL) < TYPING_INTERVAL:
                return  # one typing event per interval reaches the others; the rest are dropped
            self._typed_at = now
            await self.channel_layer.group_send(
                services.chat_group(self.chat.pk),
                {"type": "chat.typing", "user": str(self.user.pk), "sender": self.channel_name},
            )
        elif kind == "message.send":
            await self._post(content)
        elif kind == "read":
            await self._read(content)
        else:
            await self._error("invalid", "Unknown message type.")

    async def _read(self, content: dict) -> None:
        """Move the caller's read marker through the service (announced on commit)."""
        body = ReadSerializer(data={k: v for k, v in content.items() if k == "seq"})
        if not body.is_valid():
            await self._error("invalid", "seq: a message number >= 0.", flatten_errors(body.errors))
            return
        seq = body.validated_data.get("seq")
        try:
            await self.run_service(services.chat_read, tenant=self.tenant, chat=self.chat, seq=seq)
        except DomainError as error:
            await self._error(error.code, error.message, error.errors)

    async def _error(self, code: str, detail: str, errors: dict | None = None) -> None:
        """Answer the client with an ``error`` event."""
        await self.send_json(
            {"type": "error", "code": code, "detail": detail, "errors": errors or {}}
        )

    async def _post(self, content: dict) -> None:
        """Store the message through the service (it is broadcast on commit)."""
        text, internal = content.get("text"), content.get("internal", False)
        if not isinstance(text, str) or not isinstance(internal, bool):
            await self._error("invalid", "text: a string; internal: true or false.")
            return
        try:
            await self.run_service(
                services.message_post,
                tenant=self.tenant,
                chat=self.chat,
                text=text,
                internal=internal,
            )
        except TooManyRequests as error:
            # Over the rate: an error event the first time, the socket closed if it goes on.
            self.throttled += 1
            if self.throttled > 1:
                await self.close(code=CLOSE_THROTTLED)
                return
            await self.send_json(
                {
                    "type": "error",
                    "code": error.code,
                    "detail": error.message,
                    "errors": {},
                    "retry_after": error.retry_after,
                }
            )
        except DomainError as error:
            await self._error(error.code, error.message, error.errors)
        else:
            self.throttled = 0

    async def message_created(self, event) -> None:
        """A committed message of the chat: internal notes to agents only."""
        message = event["message"]
        if message["internal"] and not self.agent:
            return
        await self._send_message(message)

    async def message_updated(self, event) -> None:
        """A message was edited (internal notes to agents only)."""
        await self._relay(event)

    async def message_deleted(self, event) -> None:
        """A message was deleted: its tombstone (internal notes to agents only)."""
        await self._relay(event)

    async def _relay(self, event) -> None:
        """Pass on a change of a message the reader may see."""
        if event["message"]["internal"] and not self.agent:
            return
        await self.send_json({"type": event["type"], "message": event["message"]})

    async def message_read(self, event) -> None:
        """Someone moved their read marker (non-agents see it at a message they can read, and
        only when it passed one)."""
        if not self.agent and not event.get("public_moved", True):
            return
        await self.send_json(
            {
                "type": "message.read",
                "chat": event["chat"],
                "user": event["user"],
                "seq": event["seq"] if self.agent else event["public_seq"],
                "read_at": event["read_at"],
            }
        )

    async def chat_event(self, event) -> None:
        """The chat changed: assigned, updated, closed or reopened."""
        chat = event["agent"] if self.agent else event["public"]
        await self.send_json({"type": event["kind"], "chat": chat})

    async def chat_typing(self, event) -> None:
        """Someone else is typing."""
        if event.get("sender") != self.channel_name:
            await self.send_json({"type": "typing", "user": event["user"]})


def _after(value: str) -> int | None:
    """``?after=`` as a message number (``None`` when it is not one: ASCII digits only)."""
    return int(value) if value.isascii() and value.isdigit() else None
