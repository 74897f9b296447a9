"""What a client member does in the portal: accept or reject a quote sent to their customer.

The transition rules are finance's (``finance.documents``); the portal only lets the
customer's own client take them, and records who answered in the audit trail.
"""

from django.db import transaction

from valar.audit.services import audit_record
from valar.core.tenancy import Tenant
from valar.finance.documents import document_transition
from valar.finance.models import Document


@transaction.atomic
def quote_respond(*, tenant: Tenant, quote: Document, action: str) -> Document:
    """The client accepts or rejects (``action``) a sent quote of their customer (409 else)."""
    quote = document_transition(document=quote, action=action)
    audit_record(
        action=f"quote.{action}",
        organization_id=tenant.organization.pk,
        instance=quote,
        actor=tenant.membership.user,
        changes={"status": quote.status, "via": "portal"},
    )
    return quote
