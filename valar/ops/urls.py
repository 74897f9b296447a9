"""Routes of the ops app under ``/api/v1/``."""

from django.urls import path

from valar.ops import api

urlpatterns = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("health/", api.HealthView.as_view(), name="health"),
    path("ops/celery/", api.CeleryStatusView.as_view(), name="ops-celery"),
]
