"""Finance endpoints under ``/api/v1/finance/``: the viewsets.

Categories, subcategories, ledger entries (transactions, incomes, expenses), attachments and
the summary; then quotes, invoices, credit notes and payments. The three document types share
one viewset; each URL fixes the type. Transitions are ``POST`` actions answering the document
(409 with the allowed actions named).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.core import bulk, files
from valar.core.bulk_api import BulkMixin
from valar.core.serializers import TenantRelatedField
from valar.core.tenancy import local_today
from valar.core.viewsets import ExportMixin, RowListMixin, TenantViewSet
from valar.finance import documents, pdf, recurring, selectors, services
from valar.finance.api.serializers import (
    AttachmentSerializer,
    CategorySerializer,
    CreditNoteSerializer,
    DocumentExportSerializer,
    DocumentSendSerializer,
    EntrySerializer,
    FixedKindEntrySerializer,
    InvoiceSerializer,
    PaymentSerializer,
    QuoteSerializer,
    RecurringEntrySerializer,
    RecurringInvoiceSerializer,
    RejectSerializer,
    SubcategorySerializer,
    SummaryQuerySerializer,
    SummarySerializer,
)
from valar.finance.models import (
    Attachment,
    Category,
    Document,
    Kind,
    LedgerEntry,
    Payment,
    RecurringEntry,
    RecurringInvoice,
    Subcategory,
)


class FinanceViewSet(RowListMixin, ExportMixin, TenantViewSet, ModelViewSet):
    """The finance resources: module ``finance``."""

    module = "finance"


class CategoryViewSet(FinanceViewSet):
    """Categories; one in use is deleted only with ``?reassign_to=<category id>``."""

    model = Category
    serializer_class = CategorySerializer
    filterset_class = selectors.CategoryFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "type", "created_at"]
    export_filename = "categories"

    def select(self):
        """The organization's categories."""
        return selectors.category_list(tenant=self.tenant)

    def present(self, queryset):
        """How many entries the caller may see use each."""
        return selectors.category_display(queryset, tenant=self.tenant)

    def perform_create(self, serializer):
        """Create through the service, then read it back with its entry count."""
        category = services.category_save(
            tenant=self.tenant, category=None, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=category.pk)

    def perform_update(self, serializer):
        """Change through the service (a category in use keeps its type)."""
        category = services.category_save(
            tenant=self.tenant, category=serializer.instance, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=category.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reassign_to",
                OpenApiTypes.UUID,
                description="Move the category's entries to this category first.",
            )
        ]
    )
    def destroy(self, request, *args, **kwargs):
        """Delete a category, moving its entries to ``reassign_to`` when it is in use."""
        category = self.get_object()
        target = None
        reference = request.query_params.get("reassign_to")
        if reference:
            field = TenantRelatedField(queryset=Category.objects.all())
            field.bind("reassign_to", serializers.Serializer(context=self.get_serializer_context()))
            try:
                target = field.to_internal_value(reference)
            except (serializers.ValidationError, DjangoValidationError, ValueError) as exc:
                raise serializers.ValidationError(
                    {"reassign_to": ["Give the id of a category of this organization."]}
                ) from exc
        services.category_delete(tenant=self.tenant, category=category, reassign_to=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubcategoryViewSet(FinanceViewSet):
    """Subcategories."""

    model = Subcategory
    serializer_class = SubcategorySerializer
    filterset_class = selectors.SubcategoryFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    export_filename = "subcategories"

    def select(self):
        """The organization's subcategories."""
        return selectors.subcategory_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Create through the service (unique name in the category)."""
        serializer.instance = services.subcategory_save(
            tenant=self.tenant, subcategory=None, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        """Change through the service (a subcategory in use stays in its category)."""
        serializer.instance = services.subcategory_save(
            tenant=self.tenant, subcategory=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """A subcategory in use is a 409."""
        services.subcategory_delete(subcategory=instance)


def _entries(
    name: str, serializer_class, fixed_kind: str | None, policy_actions: dict | None = None
) -> bulk.BulkResource:
    """The bulk resource of the ledger entries of one URL (all, incomes or expenses)."""
    return bulk.register(
        bulk.BulkResource(
            name=name,
            module="finance",
            serializer_class=serializer_class,
            writer=services.EntryWriter(fixed_kind),
            preview_fields=("kind", "base_amount", "approval_status"),
            policy_actions=policy_actions or bulk.POLICY_ACTIONS,
        )
    )


TRANSACTIONS = _entries("finance.transactions", EntrySerializer, None)
INCOMES = _entries("finance.incomes", FixedKindEntrySerializer, Kind.INCOME)
#: Expense claims: every write needs ``finance: claim`` (basic members claim too).
CLAIM_ACTIONS = {"create": "claim", "update": "claim", "delete": "claim"}
EXPENSES = _entries("finance.expenses", FixedKindEntrySerializer, Kind.EXPENSE, CLAIM_ACTIONS)


class TransactionViewSet(BulkMixin, FinanceViewSet):
    """Every ledger entry, income and expense (``kind`` given in the body and filters)."""

    model = LedgerEntry
    bulk_resource = TRANSACTIONS
    serializer_class = EntrySerializer
    filterset_class = selectors.EntryFilter
    search_fields = ["title", "description", "reference"]
    ordering_fields = ["date", "amount", "created_at"]
    ordering = ["-date", "-created_at"]
    export_filename = "transactions"
    count_sources = ("finance",)
    count_cached_params = (
        "kind",
        "start_date",
        "end_date",
        "start_time",
        "end_time",
        "category",
        "subcategory",
        "min_amount",
        "max_amount",
        "approval_status",
        "is_billable",
        "recurrence",
        "search",
    )
    fixed_kind: str | None = None

    def select(self):
        """The organization's entries (of this URL's kind)."""
        return selectors.entry_list(organization=self.tenant.organization, kind=self.fixed_kind)

    def present(self, queryset):
        """Their category, subcategory and team."""
        return selectors.entry_display(queryset)

    def _fresh(self, entry: LedgerEntry) -> LedgerEntry:
        """The entry as lists show it."""
        return self.get_queryset().get(pk=entry.pk)

    def perform_create(self, serializer):
        """Record through the service (rules, base amount)."""
        data = dict(serializer.validated_data)
        kind = services.entry_kind(fixed_kind=self.fixed_kind, data=data)
        entry = services.entry_create(tenant=self.tenant, kind=kind, data=data)
        serializer.instance = self._fresh(entry)

    def perform_update(self, serializer):
        """Change through the service; the kind of an entry never changes."""
        data = dict(serializer.validated_data)
        services.entry_kind(fixed_kind=self.fixed_kind, data=data, entry=serializer.instance)
        entry = services.entry_update(tenant=self.tenant, entry=serializer.instance, data=data)
        serializer.instance = self._fresh(entry)

    def perform_destroy(self, instance):
        """Delete the entry and its attachments."""
        services.entry_delete(entry=instance)


class IncomeViewSet(TransactionViewSet):
    """Income entries only."""

    serializer_class = FixedKindEntrySerializer
    fixed_kind = Kind.INCOME
    bulk_resource = INCOMES
    export_filename = "incomes"


class ExpenseViewSet(TransactionViewSet):
    """Expense entries only: claims, written with ``finance: claim`` (``own``: one's own),
    approved or rejected by managers and admins (``finance: approve``)."""

    serializer_class = FixedKindEntrySerializer
    fixed_kind = Kind.EXPENSE
    bulk_resource = EXPENSES
    export_filename = "expenses"
    action_permissions = {
        **dict.fromkeys(
            ("create", "update", "partial_update", "destroy", "bulk", "import_file"), "claim"
        ),
        "approve": "approve",
        "reject": "approve",
    }

    @extend_schema(request=None, responses=FixedKindEntrySerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted claim (403 for its submitter, 409 unless it is submitted)."""
        entry = services.expense_approve(tenant=self.tenant, entry=self.get_object())
        return Response(self.get_serializer(self._fresh(entry)).data)

    @extend_schema(request=RejectSerializer, responses=FixedKindEntrySerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a submitted claim with a reason (403 for its submitter, 409 unless it is
        submitted)."""
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.expense_reject(
            tenant=self.tenant, entry=self.get_object(), **serializer.validated_data
        )
        return Response(self.get_serializer(self._fresh(entry)).data)


class AttachmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Receipts and invoices of entries: PDF, PNG, JPEG or WebP, at most 10 MB."""

    module = "finance"
    model = Attachment
    serializer_class = AttachmentSerializer
    filterset_class = selectors.AttachmentFilter
    ordering_fields = ["created_at"]
    parser_classes = [MultiPartParser]
    #: Whoever records expense claims attaches their receipts (to the entries they can see).
    action_permissions = {"create": "claim", "download": "view"}

    def select(self):
        """The organization's attachments."""
        return selectors.attachment_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Check the bytes and store the file."""
        serializer.instance = services.attachment_create(
            tenant=self.tenant,
            entry=serializer.validated_data["entry"],
            upload=serializer.validated_data["file"],
        )

    @extend_schema(responses=files.download_responses())
    @action(detail=True, methods=["get"], content_negotiation_class=files.FileNegotiation)
    def download(self, request, pk=None):
        """The file itself, for members who may see the entry."""
        attachment = self.get_object()
        return files.download(attachment.file, attachment.original_name, attachment.content_type)


class ReportSchema(AutoSchema):
    """The schema of a report served as a viewset's ``list``: one object, not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        """A report is never a list."""
        return False


class SummaryViewSet(TenantViewSet):
    """``finance/summary/``: totals, series and the previous period, over the engine."""

    schema = ReportSchema()
    module = "finance"
    model = LedgerEntry
    filter_backends: list = []
    pagination_class = None

    def select(self):
        """Not used: the summary reads through the metrics engine."""
        return LedgerEntry.objects.none()

    @extend_schema(parameters=[SummaryQuerySerializer], responses={200: SummarySerializer})
    def list(self, request, *args, **kwargs):
        """Income, expenses, profit and margin, their series, and the change."""
        query = SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.finance_summary(tenant=self.tenant, **query.validated_data))


class DocumentPdfMixin:
    """``{id}/pdf/``: the document as a PDF (the organization's details, the API's totals)."""

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF")
        }
    )
    @action(detail=True, methods=["get"], content_negotiation_class=files.FileNegotiation)
    def pdf(self, request, pk=None):
        """The document as a PDF: the organization's details and exactly the API's totals."""
        document = self.get_object()
        return HttpResponse(
            pdf.render(document),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{pdf.filename(document)}"'},
        )


class DocumentViewSet(
    DocumentPdfMixin,
    ExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """The documents of one type (the subclass's ``document_type``): drafts change freely."""

    module = "finance"
    model = Document
    document_type: str
    filterset_class = selectors.DocumentFilter
    search_fields = ["number", "customer__name", "notes"]
    ordering_fields = ["created_at", "issue_date", "number", "total"]
    ordering = ["-created_at"]
    export_serializer_class = DocumentExportSerializer
    action_permissions = {
        "send": "change",
        "accept": "change",
        "reject": "change",
        "cancel": "change",
        "convert": "change",
        "pdf": "view",
    }

    def select(self):
        """The organization's documents of this URL's type."""
        return selectors.document_list(
            organization=self.tenant.organization, document_type=self.document_type
        )

    def present(self, queryset):
        """Their shown status, customer and lines."""
        return selectors.document_display(queryset, organization=self.tenant.organization)

    def _fresh(self, document: Document) -> Document:
        """The document as lists show it."""
        return self.present(Document.objects.filter(pk=document.pk)).get()

    def _answer(self, document: Document, code: int = status.HTTP_200_OK) -> Response:
        """The document as the API shows it."""
        return Response(self.get_serializer(self._fresh(document)).data, status=code)

    @staticmethod
    def _data(serializer) -> dict:
        """The validated body, lines under the service's name."""
        data = dict(serializer.validated_data)
        if "lines" in data:
            data["line_items"] = [dict(line) for line in data.pop("lines")]
        return data

    def perform_create(self, serializer):
        """A new draft through the service (totals by the rounding policy)."""
        document = documents.document_create(
            tenant=self.tenant, document_type=self.document_type, data=self._data(serializer)
        )
        serializer.instance = self._fresh(document)

    def perform_update(self, serializer):
        """Change a draft (an issued document is a 409)."""
        document = documents.document_update(
            tenant=self.tenant, document=serializer.instance, data=self._data(serializer)
        )
        serializer.instance = self._fresh(document)

    def perform_destroy(self, instance):
        """Delete a draft (an issued document is a 409)."""
        documents.document_delete(document=instance)

    def _transition(self, name: str) -> Response:
        """Apply the transition ``name`` to the document of the URL."""
        return self._answer(documents.document_transition(document=self.get_object(), action=name))

    @extend_schema(request=DocumentSendSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Issue the draft: its number (gap-free per year), issue date and rate are fixed, and
        its PDF is e-mailed by a job (``emailed_at`` is set once it went)."""
        body = DocumentSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = documents.document_send(
            tenant=self.tenant, document=self.get_object(), **body.validated_data
        )
        return self._answer(document)


class QuoteViewSet(DocumentViewSet):
    """Quotes: send, then accept or reject (or they expire); an accepted one converts once."""

    document_type = Document.Type.QUOTE
    serializer_class = QuoteSerializer
    export_filename = "quotes"

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The customer accepted the sent quote (409 once expired)."""
        return self._transition("accept")

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The customer rejected the sent quote."""
        return self._transition("reject")

    @extend_schema(request=None, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """The draft invoice of the accepted quote, made once (its lines and terms)."""
        invoice = documents.quote_convert(tenant=self.tenant, quote=self.get_object())
        shown = self._fresh(invoice)
        return Response(
            InvoiceSerializer(shown, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class InvoiceViewSet(DocumentViewSet):
    """Invoices: send, then payments (``payments/``) to paid; cancel only without payments."""

    document_type = Document.Type.INVOICE
    serializer_class = InvoiceSerializer
    export_filename = "invoices"

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a sent invoice that has no payment and no issued credit note."""
        return self._transition("cancel")


class CreditNoteViewSet(DocumentViewSet):
    """Credit notes: a draft names the invoice it credits; ``send`` issues it."""

    document_type = Document.Type.CREDIT_NOTE
    serializer_class = CreditNoteSerializer
    export_filename = "credit-notes"


class PaymentViewSet(
    ExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Payments of invoices; each creates its ledger income, deleting one deletes it."""

    module = "finance"
    model = Payment
    serializer_class = PaymentSerializer
    filterset_class = selectors.PaymentFilter
    search_fields = ["reference"]
    ordering_fields = ["date", "amount", "created_at"]
    ordering = ["-date", "-created_at"]
    export_filename = "payments"

    def select(self):
        """The organization's payments."""
        return selectors.payment_list(organization=self.tenant.organization)

    def present(self, queryset):
        """With their invoice's number."""
        return selectors.payment_display(queryset)

    def perform_create(self, serializer):
        """Record the payment and its ledger entry (400 past the balance)."""
        payment = documents.payment_create(tenant=self.tenant, data=serializer.validated_data)
        serializer.instance = self.present(Payment.objects.filter(pk=payment.pk)).get()

    def perform_destroy(self, instance):
        """Delete the payment and its ledger entry; the invoice's balance follows."""
        documents.payment_delete(payment=instance)


class RecurrenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Recurring schedules of one kind (the subclass's ``model``); ``run/`` makes what is due.

    Setting a schedule up, changing, deleting or running it needs ``approve`` in finance
    (managers and admins): what it makes is approved and issued without anyone watching.
    Deleting one keeps what it made.
    """

    module = "finance"
    ordering_fields = ["next_date", "name", "created_at"]
    ordering = ["next_date", "name"]
    search_fields = ["name"]
    action_permissions = {
        "create": "approve",
        "update": "approve",
        "partial_update": "approve",
        "destroy": "approve",
        "run": "approve",
    }

    def present(self, queryset):
        """With the names they show."""
        return selectors.recurring_display(queryset)

    def _fresh(self, schedule):
        """The schedule as lists show it (a 404 when it was deleted meanwhile)."""
        found = self.present(self.select().filter(pk=schedule.pk)).first()
        if found is None:
            raise Http404
        return found

    def perform_create(self, serializer):
        """A new schedule through the service; its first period is its start date."""
        schedule = recurring.schedule_save(
            tenant=self.tenant, model=self.model, schedule=None, data=serializer.validated_data
        )
        serializer.instance = self._fresh(schedule)

    def perform_update(self, serializer):
        """Change the schedule (its rhythm only before the first period: 409 ``started``)."""
        schedule = recurring.schedule_save(
            tenant=self.tenant,
            model=self.model,
            schedule=serializer.instance,
            data=serializer.validated_data,
        )
        serializer.instance = self._fresh(schedule)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Make the periods due by today now, as the hourly job would (each once; a period
        already made is not made again); answers the schedule with its ``runs`` and
        ``next_date`` moved on."""
        schedule = self.get_object()
        recurring.run_schedule(self.model, schedule.pk, local_today(self.tenant.organization))
        return Response(self.get_serializer(self._fresh(schedule)).data)


class RecurringInvoiceViewSet(RecurrenceViewSet):
    """Recurring invoices: a customer billed the same lines every month, quarter or year."""

    model = RecurringInvoice
    serializer_class = RecurringInvoiceSerializer
    filterset_class = selectors.RecurringInvoiceFilter

    def select(self):
        """The organization's recurring invoices."""
        return selectors.recurring_invoice_list(organization=self.tenant.organization)


class RecurringEntryViewSet(RecurrenceViewSet):
    """Recurring ledger entries: rent, subscriptions, retainers."""

    model = RecurringEntry
    serializer_class = RecurringEntrySerializer
    filterset_class = selectors.RecurringEntryFilter
    search_fields = ["name", "title"]

    def select(self):
        """The organization's recurring entries."""
        return selectors.recurring_entry_list(organization=self.tenant.organization)
