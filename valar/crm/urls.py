"""Routes of the CRM under ``/api/v1/crm/``."""

from rest_framework.routers import SimpleRouter

from valar.crm import api

router = SimpleRouter()
router.register("leads", api.LeadViewSet, basename="lead")
router.register("customers", api.CustomerViewSet, basename="customer")
router.register("pipelines", api.PipelineViewSet, basename="pipeline")
router.register("stages", api.StageViewSet, basename="stage")
router.register("deals", api.DealViewSet, basename="deal")
router.register("vendors", api.VendorViewSet, basename="vendor")

urlpatterns = router.urls
