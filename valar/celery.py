"""The Celery application: configured from Django settings (``CELERY_*``), tasks autodiscovered.

``celery -A valar worker`` finds it here. Every app's ``tasks.py`` is imported, so a job is
declared next to the services it calls (see :mod:`valar.core.jobs` for the job base class).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")

app = Celery("valar")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
