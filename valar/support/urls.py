"""Routes of the support app under ``/api/v1/support/``."""

from rest_framework.routers import SimpleRouter

from valar.support import api

router = SimpleRouter()
router.register("chats", api.ChatViewSet, basename="support-chat")
router.register("summary", api.SupportSummaryViewSet, basename="support-summary")

urlpatterns = router.urls
