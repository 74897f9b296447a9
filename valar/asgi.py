"""ASGI entry point: HTTP (and, once the support app lands, WebSocket) in one process."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")

application = get_asgi_application()
