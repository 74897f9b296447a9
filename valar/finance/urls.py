"""Routes of finance under ``/api/v1/finance/``."""

from rest_framework.routers import SimpleRouter

from valar.finance import api

router = SimpleRouter()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("subcategories", api.SubcategoryViewSet, basename="subcategory")
router.register("transactions", api.TransactionViewSet, basename="transaction")
router.register("incomes", api.IncomeViewSet, basename="income")
router.register("expenses", api.ExpenseViewSet, basename="expense")
router.register("attachments", api.AttachmentViewSet, basename="attachment")
router.register("summary", api.SummaryViewSet, basename="finance-summary")

urlpatterns = router.urls
