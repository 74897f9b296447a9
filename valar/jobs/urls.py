"""Routes of the jobs app under ``/api/v1/jobs/``."""

from rest_framework.routers import SimpleRouter

from valar.jobs import api

router = SimpleRouter()
router.register("", api.JobViewSet, basename="job")

urlpatterns = router.urls
