"""Portal endpoints under ``/api/v1/portal/``: a client member's quotes, invoices and payments.

Only ``client`` members use the portal (policy module ``portal``); every row comes from their
own customer (``Membership.customer``). Anyone else gets 403; another customer's document is a
404, like another organization's.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.core.viewsets import TenantViewSet
from valar.finance.api.serializers import InvoiceSerializer, PaymentSerializer, QuoteSerializer
from valar.finance.api.views import DocumentPdfMixin
from valar.finance.models import Document, Payment
from valar.finance.selectors import IssuedDocumentFilter, PaymentFilter
from valar.portal import selectors, services

#: What the organization keeps to itself: who wrote a document, where it was e-mailed, and
#: the recurring schedule that made it.
PRIVATE_FIELDS = ("created_by", "emailed_to", "emailed_at", "recurrence")


class PortalQuoteSerializer(QuoteSerializer):
    """A quote as its customer sees it."""

    class Meta(QuoteSerializer.Meta):
        fields = [f for f in QuoteSerializer.Meta.fields if f not in PRIVATE_FIELDS]
        read_only_fields = fields


class PortalInvoiceSerializer(InvoiceSerializer):
    """An invoice as its customer sees it (with its balance)."""

    class Meta(InvoiceSerializer.Meta):
        fields = [
            f for f in InvoiceSerializer.Meta.fields if f not in (*PRIVATE_FIELDS, "source_quote")
        ]
        read_only_fields = fields


class PortalPaymentSerializer(PaymentSerializer):
    """A payment of one of the customer's invoices."""

    class Meta(PaymentSerializer.Meta):
        fields = ["id", "invoice", "invoice_number", "amount", "date", "method", "reference"]
        read_only_fields = fields


class PortalDocumentViewSet(
    DocumentPdfMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The client's customer's issued documents of one type, with their PDF."""

    module = "portal"
    model = Document
    document_type: str
    filterset_class = IssuedDocumentFilter
    search_fields = ["number"]
    ordering_fields = ["issue_date", "number", "total"]
    ordering = ["-issue_date", "-created_at"]
    action_permissions = {"pdf": "view", "accept": "respond", "reject": "respond"}

    def select(self):
        """The documents of the client's customer (none without one)."""
        return selectors.portal_documents(tenant=self.tenant, document_type=self.document_type)

    def present(self, queryset):
        """Their shown status, customer and lines."""
        return selectors.portal_document_display(queryset, tenant=self.tenant)


class PortalQuoteViewSet(PortalDocumentViewSet):
    """``portal/quotes/``: the customer's quotes; a sent one is accepted or rejected here."""

    document_type = Document.Type.QUOTE
    serializer_class = PortalQuoteSerializer

    def _respond(self, name: str) -> Response:
        """Accept or reject the quote of the URL, then answer it as the portal shows it."""
        quote = services.quote_respond(tenant=self.tenant, quote=self.get_object(), action=name)
        shown = self.present(Document.objects.filter(pk=quote.pk)).get()
        return Response(self.get_serializer(shown).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept the sent quote (409 when it is not sent, or expired)."""
        return self._respond("accept")

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the sent quote (409 when it is not sent)."""
        return self._respond("reject")


class PortalInvoiceViewSet(PortalDocumentViewSet):
    """``portal/invoices/``: the customer's invoices, their balances and PDFs."""

    document_type = Document.Type.INVOICE
    serializer_class = PortalInvoiceSerializer


class PortalPaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """``portal/payments/``: the payments of the customer's invoices."""

    module = "portal"
    model = Payment
    serializer_class = PortalPaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["date", "amount"]
    ordering = ["-date", "-created_at"]

    def select(self):
        """The payments of the client's customer's invoices."""
        return selectors.portal_payments(tenant=self.tenant)

    def present(self, queryset):
        """With their invoice's number."""
        return selectors.portal_payment_display(queryset)
