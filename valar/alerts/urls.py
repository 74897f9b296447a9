"""Routes of the alerts app under ``/api/v1/ops/alerts/``."""

from rest_framework.routers import SimpleRouter

from valar.alerts import api

router = SimpleRouter()
router.register("", api.AlertRuleViewSet, basename="alert-rule")

urlpatterns = router.urls
