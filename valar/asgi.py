"""ASGI entry point: HTTP and WebSocket in one process (``make run``: uvicorn on one port).

HTTP goes to Django; WebSocket goes through the kernel's socket authentication
(``core.sockets.SocketAuthMiddleware``) to the routes of ``valar.routing``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")

# Django is set up first: the routes import models.
http_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from valar.core.sockets import SocketAuthMiddleware  # noqa: E402
from valar.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": SocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
