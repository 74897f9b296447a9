"""Routes of the notifications app under ``/api/v1/notifications/``."""

from rest_framework.routers import SimpleRouter

from valar.notifications import api

router = SimpleRouter()
router.register("", api.NotificationViewSet, basename="notification")

urlpatterns = router.urls
