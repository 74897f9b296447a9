"""WebSocket routes of the support app: one chat, at the plural path and the seed's singular."""

from django.urls import re_path

from valar.support.consumers import ChatConsumer

_CHAT = r"(?P<chat_id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"

websocket_urlpatterns = [re_path(rf"^ws/support/chats?/{_CHAT}/$", ChatConsumer.as_asgi())]
