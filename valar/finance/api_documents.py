"""Quote, invoice, credit-note and payment endpoints under ``/api/v1/finance/``.

The three document types share one serializer shape and one viewset; each URL fixes the type.
Transitions are ``POST`` actions answering the document (409 with the allowed actions named).
"""

from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.core import files
from valar.core.serializers import (
    PERCENT_PATTERN,
    QUANTITY_PATTERN,
    CurrencyField,
    MoneyField,
    PatternDecimalField,
    RateField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    TenantRelatedField,
)
from valar.core.viewsets import ExportMixin, TenantViewSet
from valar.crm.models import Customer
from valar.finance import documents, pdf, selectors
from valar.finance.models import Category, Document, DocumentLine, LedgerEntry, Payment

PERCENT = {"max_digits": 5, "decimal_places": 2, "pattern": PERCENT_PATTERN}
#: The most lines one document holds.
MAX_LINES = 200
#: The longest terms or notes a document prints (a PDF page or two).
TEXT_LIMIT = 5000


class LineItemSerializer(serializers.ModelSerializer):
    """A line: quantity (up to 3 decimals) x unit price, less a discount %, plus a tax rate %.

    ``amount``, ``discount``, ``tax`` and ``total`` are each rounded half-up to cents on the
    line (the rounding policy); ``expense`` bills an approved billable expense, once.
    """

    description = StrictCharField(max_length=500)
    quantity = PatternDecimalField(max_digits=12, decimal_places=3, pattern=QUANTITY_PATTERN)
    unit_price = MoneyField()
    discount_percent = PatternDecimalField(**PERCENT, default=Decimal(0))
    tax_rate = PatternDecimalField(**PERCENT, default=Decimal(0))
    expense = TenantRelatedField(
        queryset=LedgerEntry.objects.all(), module="finance", required=False, allow_null=True
    )
    amount = MoneyField(read_only=True)
    discount = MoneyField(read_only=True)
    tax = MoneyField(read_only=True)
    total = MoneyField(read_only=True)

    class Meta:
        model = DocumentLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "expense",
            "amount",
            "discount",
            "tax",
            "total",
        ]
        read_only_fields = ["position"]


class DocumentSerializer(serializers.ModelSerializer):
    """The shape every document shares; totals are sums of the lines' rounded figures."""

    customer = TenantRelatedField(queryset=Customer.objects.all())
    customer_name = StrictCharField(source="customer.name", read_only=True)
    status = serializers.ChoiceField(
        choices=Document.Status.choices,
        source="shown_status",
        read_only=True,
        help_text="The stored status; an unpaid invoice past its due date shows `overdue`.",
    )
    currency = CurrencyField(required=False)
    exchange_rate = RateField()
    emailed_to = StrictCharField(
        read_only=True, help_text="Where the PDF was e-mailed; empty until it was."
    )
    terms = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    notes = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    line_items = LineItemSerializer(many=True, source="lines", required=False, max_length=MAX_LINES)
    subtotal = MoneyField(read_only=True, min_value=None)
    discount_total = MoneyField(read_only=True, min_value=None)
    tax_total = MoneyField(read_only=True, min_value=None)
    total = MoneyField(read_only=True, min_value=None)
    base_total = MoneyField(
        read_only=True, min_value=None, help_text="The total in the base currency, at the rate."
    )

    common_fields = [
        "id",
        "number",
        "customer",
        "customer_name",
        "status",
        "issue_date",
        "currency",
        "exchange_rate",
        "terms",
        "notes",
        "line_items",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "base_total",
        "issued_at",
        "emailed_to",
        "emailed_at",
        "created_by",
        "created_at",
        "updated_at",
    ]

    class Meta:
        model = Document
        fields: list[str] = []
        read_only_fields = [
            "id",
            "number",
            "issued_at",
            "emailed_to",
            "emailed_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class QuoteSerializer(DocumentSerializer):
    """A quote: ``draft → sent → accepted | rejected | expired``."""

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.common_fields, "expiry_date"]


class InvoiceSerializer(DocumentSerializer):
    """An invoice: ``draft → sent → partial → paid``, ``overdue`` derived, ``cancelled``."""

    paid_amount = MoneyField(read_only=True)
    credited_amount = MoneyField(read_only=True)
    balance = MoneyField(
        read_only=True, min_value=None, help_text="total - paid_amount - credited_amount."
    )
    base_balance = MoneyField(
        read_only=True, min_value=None, help_text="The balance in the base currency, at the rate."
    )

    class Meta(DocumentSerializer.Meta):
        fields = [
            *DocumentSerializer.common_fields,
            "due_date",
            "paid_amount",
            "credited_amount",
            "balance",
            "base_balance",
            "source_quote",
            "recurrence",
            "period",
        ]
        read_only_fields = [
            *DocumentSerializer.Meta.read_only_fields,
            "source_quote",
            "recurrence",
            "period",
        ]


class CreditNoteSerializer(DocumentSerializer):
    """A credit note: negative totals that lower the balance of the invoice it ``credits``.

    It takes the invoice's customer, currency and rate; ``draft → issued``.
    """

    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    credits = TenantRelatedField(
        queryset=Document.objects.filter(type=Document.Type.INVOICE), module="finance"
    )

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.common_fields, "credits"]
        read_only_fields = [
            *DocumentSerializer.Meta.read_only_fields,
            "currency",
            "exchange_rate",
        ]


class DocumentSendSerializer(serializers.Serializer):
    """How a draft is issued: e-mailed as a PDF (to ``to``, else the customer) or not."""

    email = StrictBooleanField(
        default=True, help_text="E-mail the PDF (a job) when there is an address."
    )
    to = StrictEmailField(required=False, help_text="Default: the customer's e-mail.")


class DocumentExportSerializer(serializers.ModelSerializer):
    """A document as one row of an export (its totals; lines are in the API)."""

    status = StrictCharField(source="shown_status")
    customer_name = StrictCharField(source="customer.name")

    class Meta:
        model = Document
        fields = [
            "id",
            "type",
            "number",
            "customer",
            "customer_name",
            "status",
            "issue_date",
            "due_date",
            "expiry_date",
            "currency",
            "exchange_rate",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "base_total",
            "paid_amount",
            "credited_amount",
            "balance",
            "base_balance",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    """A payment of an invoice, in the invoice's currency; ``entry`` is its ledger income."""

    invoice = TenantRelatedField(
        queryset=Document.objects.filter(type=Document.Type.INVOICE), module="finance"
    )
    invoice_number = StrictCharField(source="invoice.number", read_only=True)
    amount = MoneyField(min_value=None, positive=True)
    category = TenantRelatedField(
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="The income category of its ledger entry (default: `Invoice payments`).",
    )
    reference = StrictCharField(max_length=100, required=False, allow_blank=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "amount",
            "date",
            "method",
            "reference",
            "category",
            "entry",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "entry", "created_by", "created_at"]


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
