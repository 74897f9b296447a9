"""Routes of the tasks app under ``/api/v1/tasks/``."""

from rest_framework.routers import SimpleRouter

from valar.tasks import api

router = SimpleRouter()
router.register("", api.TaskViewSet, basename="task")

urlpatterns = router.urls
