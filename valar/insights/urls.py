"""Routes of insights: ``/api/v1/insights/...`` and ``/api/v1/dashboards/...``."""

from rest_framework.routers import SimpleRouter

from valar.insights import api

insights_router = SimpleRouter()
insights_router.register("", api.InsightsViewSet, basename="insights")
dashboards_router = SimpleRouter()
dashboards_router.register("", api.DashboardViewSet, basename="dashboard")

insights_urlpatterns = insights_router.urls
dashboards_urlpatterns = dashboards_router.urls
