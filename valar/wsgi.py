"""WSGI entry point for HTTP-only servers such as gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")

application = get_wsgi_application()
