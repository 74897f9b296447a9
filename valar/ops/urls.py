"""Routes of the ops app under ``/api/v1/``."""

from django.urls import path

from valar.ops import api

urlpatterns = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("health/", api.HealthView.as_view(), name="health"),
    path("health/ready/", api.ReadyView.as_view(), name="health-ready"),
    path("ops/logs/", api.LogsView.as_view(), name="ops-logs"),
    path("ops/config/", api.ConfigView.as_view(), name="ops-config"),
    path("ops/config/<str:key>/", api.ConfigKeyView.as_view(), name="ops-config-key"),
    path("ops/config/<str:key>/reset/", api.ConfigResetView.as_view(), name="ops-config-reset"),
    path("ops/celery/", api.CeleryStatusView.as_view(), name="ops-celery"),
]
