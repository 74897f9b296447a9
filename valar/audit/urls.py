"""Routes of the audit app under ``/api/v1/audit/``."""

from rest_framework.routers import SimpleRouter

from valar.audit import api

router = SimpleRouter()
router.register("events", api.AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
