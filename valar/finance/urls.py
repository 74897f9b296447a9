"""Routes of finance under ``/api/v1/finance/``."""

from rest_framework.routers import SimpleRouter

from valar.finance import api, api_documents, api_recurring

router = SimpleRouter()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("subcategories", api.SubcategoryViewSet, basename="subcategory")
router.register("transactions", api.TransactionViewSet, basename="transaction")
router.register("incomes", api.IncomeViewSet, basename="income")
router.register("expenses", api.ExpenseViewSet, basename="expense")
router.register("attachments", api.AttachmentViewSet, basename="attachment")
router.register("quotes", api_documents.QuoteViewSet, basename="quote")
router.register("invoices", api_documents.InvoiceViewSet, basename="invoice")
router.register("credit-notes", api_documents.CreditNoteViewSet, basename="credit-note")
router.register("payments", api_documents.PaymentViewSet, basename="payment")
router.register(
    "recurring-invoices", api_recurring.RecurringInvoiceViewSet, basename="recurring-invoice"
)
router.register(
    "recurring-entries", api_recurring.RecurringEntryViewSet, basename="recurring-entry"
)
router.register("summary", api.SummaryViewSet, basename="finance-summary")

urlpatterns = router.urls
