"""Routes of the customer portal under ``/api/v1/portal/``."""

from rest_framework.routers import SimpleRouter

from valar.portal import api

router = SimpleRouter()
router.register("quotes", api.PortalQuoteViewSet, basename="portal-quote")
router.register("invoices", api.PortalInvoiceViewSet, basename="portal-invoice")
router.register("payments", api.PortalPaymentViewSet, basename="portal-payment")

urlpatterns = router.urls
