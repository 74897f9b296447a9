"""Every WebSocket route, behind the kernel's socket authentication (``valar.asgi``).

Each app lists its routes in its ``routing.py``; a path no route names is refused (4404).
"""

from django.urls import re_path

from valar.core.sockets import NotFoundConsumer
from valar.notifications.routing import websocket_urlpatterns as notification_routes
from valar.support.routing import websocket_urlpatterns as support_routes

websocket_urlpatterns = [
    *notification_routes,
    *support_routes,
    re_path(r"", NotFoundConsumer.as_asgi()),
]
