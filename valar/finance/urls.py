"""Routes of finance under ``/api/v1/finance/``."""

from rest_framework.routers import SimpleRouter

from valar.finance.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("subcategories", views.SubcategoryViewSet, basename="subcategory")
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("incomes", views.IncomeViewSet, basename="income")
router.register("expenses", views.ExpenseViewSet, basename="expense")
router.register("attachments", views.AttachmentViewSet, basename="attachment")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("credit-notes", views.CreditNoteViewSet, basename="credit-note")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("recurring-invoices", views.RecurringInvoiceViewSet, basename="recurring-invoice")
router.register("recurring-entries", views.RecurringEntryViewSet, basename="recurring-entry")
router.register("summary", views.SummaryViewSet, basename="finance-summary")

urlpatterns = router.urls
