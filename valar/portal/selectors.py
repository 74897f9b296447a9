"""What a client member reads in the portal: their customer's issued documents and payments.

Every query starts from the client's own customer (``Membership.customer``); a client linked
to no customer reads nothing. Drafts never reach the portal.
"""

from django.db.models import QuerySet

from valar.core.tenancy import Tenant
from valar.finance.models import Document, Payment
from valar.finance.selectors import document_display, payment_display


def portal_documents(*, tenant: Tenant, document_type: str) -> QuerySet[Document]:
    """The client's customer's issued documents of one type (never a draft)."""
    customer_id = tenant.membership.customer_id
    if customer_id is None:
        return Document.objects.none()
    return Document.objects.filter(
        organization=tenant.organization, type=document_type, customer_id=customer_id
    ).exclude(status=Document.Status.DRAFT)


def portal_document_display(documents: QuerySet[Document], *, tenant: Tenant) -> QuerySet:
    """The documents as the portal shows them (status, customer, lines): the finance display."""
    return document_display(documents, organization=tenant.organization)


def portal_payments(*, tenant: Tenant) -> QuerySet[Payment]:
    """The payments of the client's customer's invoices."""
    customer_id = tenant.membership.customer_id
    if customer_id is None:
        return Payment.objects.none()
    return Payment.objects.filter(
        organization=tenant.organization, invoice__customer_id=customer_id
    )


def portal_payment_display(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """The payments with their invoice's number."""
    return payment_display(payments)
