"""Bench-only ASGI application: a bare Channels consumer, the baseline of the support chat rows.

``make bench`` serves this module with its own uvicorn process (``valar.ops.bench_asgi:
application``) beside the real ``valar.asgi`` and drives both with the same clients, so each
support chat row reads as a ratio to what Channels, the channel layer and uvicorn cost alone.
The consumer speaks the chat socket's protocol (``hello``, then ``message.created {message:
{seq, text}}`` for every ``message.send``) with no authentication, no tenant, no database and
one group per socket. It is never routed by ``valar.asgi`` or ``valar.routing``: no deployment
serves it.
"""

import os

import django
from django.apps import apps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")
# The channel layer is configured by the settings (Redis when REDIS_URL is set); imported in
# a process where Django runs already (a test), the setup is not redone.
if not apps.ready:
    django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

#: The socket path: one group per ``{group}`` (hex digits, as the bench names its chats).
ROUTE = r"^ws/bench/chat/(?P<group>[0-9a-f]{1,32})/$"

#: The last number given in each group (this process serves every socket of a group).
_numbers: dict[str, int] = {}


class EchoGroupConsumer(AsyncJsonWebsocketConsumer):
    """Joins the group of its path; numbers each ``message.send`` and sends it to the group."""

    async def connect(self):
        """Join the group, accept, greet (as the chat socket does, without a last number)."""
        self.group = f"bench.chat.{self.scope['url_route']['kwargs']['group']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code):
        """Leave the group."""
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """``message.send {text}``: the next number of the group, sent to every socket of it."""
        if content.get("type") != "message.send":
            return
        seq = _numbers[self.group] = _numbers.get(self.group, 0) + 1
        await self.channel_layer.group_send(
            self.group,
            {"type": "message.created", "message": {"seq": seq, "text": content.get("text")}},
        )

    async def message_created(self, event):
        """A message of the group: passed on as it came."""
        await self.send_json({"type": "message.created", "message": event["message"]})


application = ProtocolTypeRouter(
    {"websocket": URLRouter([re_path(ROUTE, EchoGroupConsumer.as_asgi())])}
)
