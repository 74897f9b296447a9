"""Top-level routes: ``/api/v1/<app>/...``, the OpenAPI schema and docs, and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from valar.insights import urls as insights_urls
from valar.ops.api import metrics_view

api_v1 = [
    path("", include("valar.organizations.urls")),
    path("auth/", include("valar.accounts.urls")),
    path("audit/", include("valar.audit.urls")),
    path("tasks/", include("valar.tasks.urls")),
    path("crm/", include("valar.crm.urls")),
    path("finance/", include("valar.finance.urls")),
    path("insights/", include(insights_urls.insights_urlpatterns)),
    path("dashboards/", include(insights_urls.dashboards_urlpatterns)),
    path("notifications/", include("valar.notifications.urls")),
    path("ops/alerts/", include("valar.alerts.urls")),
    path("jobs/", include("valar.jobs.urls")),
    path("support/", include("valar.support.urls")),
    path("portal/", include("valar.portal.urls")),
    path("screening/", include("valar.screening.urls")),
    path("", include("valar.ops.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    # The web console: one page, a client of the API above (valar.console).
    path("app/", include("valar.console.urls")),
    # Prometheus; outside the API (plain text, its own protection: valar.ops.api.metrics_view).
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "valar.core.errors.handler400"
handler403 = "valar.core.errors.handler403"
handler404 = "valar.core.errors.handler404"
handler500 = "valar.core.errors.handler500"
