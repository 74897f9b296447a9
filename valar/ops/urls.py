"""Routes of the ops app under ``/api/v1/``."""

from django.urls import path

from valar.ops import api

urlpatterns = [
    path("health/", api.HealthView.as_view(), name="health"),
]
