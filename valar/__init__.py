"""Valar: a multi-tenant business-operations API."""

# The Celery app is loaded with Django, so that jobs started by a request use it.
from valar.celery import app as celery_app

__all__ = ["celery_app"]
