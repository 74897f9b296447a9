"""Quotes, invoices, credit notes and payments: the use cases (writes) of documents.

Every document has one shape (:class:`~valar.finance.models.Document`); the rules are here:

- a draft is changed freely; issuing it (``send``) fixes its number (gap-free per
  organization, type and year, :mod:`valar.core.sequences`), its issue date and its rate;
  after that only its status and payments change, and a correction is a credit note;
- transitions follow :data:`TRANSITIONS`; a wrong one is a 409 naming the allowed ones;
- a payment creates its income ledger entry in the same transaction, and deleting it deletes
  that entry, so the ledger and the invoices agree to the cent.
"""

import zoneinfo
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from valar.core import mail
from valar.core.errors import Conflict, DomainError
from valar.core.money import MAX_AMOUNT, fixed_rate, missing_rate
from valar.core.sequences import formatted, next_number
from valar.core.tenancy import Tenant, local_today
from valar.finance import pdf, pricing
from valar.finance.models import Category, Document, DocumentLine, Kind, LedgerEntry, Payment
from valar.jobs.services import job_start
from valar.organizations.models import Organization
from valar.organizations.services import DEFAULT_DOCUMENT_PREFIXES

Type = Document.Type
Status = Document.Status

#: Each type's actions: the statuses an action starts from and the status it leads to.
TRANSITIONS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    Type.QUOTE: {
        "send": ((Status.DRAFT,), Status.SENT),
        "accept": ((Status.SENT,), Status.ACCEPTED),
        "reject": ((Status.SENT,), Status.REJECTED),
        "expire": ((Status.SENT,), Status.EXPIRED),
        "convert": ((Status.ACCEPTED,), Status.ACCEPTED),
    },
    Type.INVOICE: {
        "send": ((Status.DRAFT,), Status.SENT),
        "cancel": ((Status.SENT,), Status.CANCELLED),
        "pay": ((Status.SENT, Status.PARTIAL), Status.PARTIAL),
    },
    Type.CREDIT_NOTE: {
        "send": ((Status.DRAFT,), Status.ISSUED),
    },
}
#: The income category payments are recorded in when the request names none.
PAYMENT_CATEGORY = "Invoice payments"
DOCUMENT_FIELDS = (
    "customer",
    "issue_date",
    "due_date",
    "expiry_date",
    "currency",
    "exchange_rate",
    "terms",
    "notes",
)


def allowed_actions(document: Document) -> list[str]:
    """The actions the document allows now: its stored status's, ``convert`` once only, and
    neither ``accept`` nor ``reject`` for a quote past its expiry date."""
    actions = [
        action
        for action, (sources, _) in TRANSITIONS[document.type].items()
        if document.status in sources and action not in ("expire", "pay")
    ]
    if "convert" in actions and Document.objects.filter(source_quote=document).exists():
        actions.remove("convert")
    expired = document.expiry_date is not None and document.expiry_date < local_today(
        document.organization
    )
    if document.type == Type.QUOTE and expired:
        actions = [action for action in actions if action not in ("accept", "reject")]
    return actions


def _check_transition(document: Document, action: str) -> str:
    """The status ``action`` leads to, or a 409 naming what the document allows."""
    sources, target = TRANSITIONS[document.type].get(action, ((), ""))
    if document.status in sources:
        return target
    allowed = allowed_actions(document)
    name = document.get_type_display().lower()
    raise Conflict(
        f"The {name} is {document.status}; it cannot {action}. "
        f"Allowed now: {', '.join(allowed) or 'nothing'}.",
        code="invalid_transition",
        errors={"status": [f"Allowed from {document.status}: {', '.join(allowed) or 'none'}."]},
    )


def _locked(document: Document) -> Document:
    """The document's row again, locked until the transaction ends.

    A row deleted meanwhile (a concurrent delete committed first) is a 404, as it would have
    been had the request come a moment later.
    """
    found = Document.objects.select_for_update().filter(pk=document.pk).first()
    if found is None:
        raise Http404
    return found


def check_fields(document: Document, base_currency: str) -> None:
    """The document's own rules: dates of its type, a rate for a foreign currency."""
    errors: dict[str, list[str]] = {}
    if document.type != Type.QUOTE and document.expiry_date is not None:
        errors["expiry_date"] = ["Only quotes have an expiry date."]
    if document.type == Type.QUOTE and document.due_date is not None:
        errors["due_date"] = ["Quotes have no due date; give expiry_date."]
    if document.issue_date is not None:
        for field in ("due_date", "expiry_date"):
            value = getattr(document, field)
            if value is not None and value < document.issue_date:
                errors[field] = ["It cannot be before the issue date."]
    errors.update(_fix_rate(document, base_currency, issuing=False))
    if errors:
        raise DomainError("The document is invalid; see errors.", errors=errors)


def _fix_rate(document: Document, base_currency: str, *, issuing: bool) -> dict:
    """Set the document's rate: a draft in the base currency keeps none (it is at par with
    whatever the base currency is when it is issued), an issued document keeps its rate (1 in
    the base currency); the errors found (a foreign currency without a rate)."""
    rate = fixed_rate(
        currency=document.currency,
        exchange_rate=document.exchange_rate,
        base_currency=base_currency,
    )
    if rate is None:
        return {
            "exchange_rate": [
                missing_rate(
                    base_currency=base_currency, what="a document", currency=document.currency
                )
            ]
        }
    document.exchange_rate = rate if issuing or document.currency != base_currency else None
    return {}


def line_figure(position: int, line: dict[str, Any]) -> pricing.LineFigures:
    """The line's figures by the rounding policy; a 400 on ``line_items`` past 10^12."""
    figure = pricing.line_figures(
        line["quantity"],
        line["unit_price"],
        line.get("discount_percent") or Decimal(0),
        line.get("tax_rate") or Decimal(0),
    )
    if max(abs(figure.amount), abs(figure.total)) >= MAX_AMOUNT:
        raise DomainError(
            "A line's amount is too large.",
            errors={"line_items": [f"Line {position}: amounts must stay below 10^12."]},
        )
    return figure


def write_lines(document: Document, lines: list[dict[str, Any]], user) -> None:
    """Replace the document's lines and recompute its totals by the rounding policy."""
    document.lines.all().delete()
    figures = []
    rows = []
    for position, line in enumerate(lines, start=1):
        figure = line_figure(position, line)
        figures.append(figure)
        rows.append(
            DocumentLine(
                organization=document.organization,
                created_by=user,
                document=document,
                position=position,
                description=line["description"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                discount_percent=line.get("discount_percent") or Decimal(0),
                tax_rate=line.get("tax_rate") or Decimal(0),
                amount=figure.amount,
                discount=figure.discount,
                tax=figure.tax,
                total=figure.total,
                expense=line.get("expense"),
            )
        )
    _check_expenses(document, rows)
    DocumentLine.objects.bulk_create(rows)
    totals = pricing.document_totals(figures, sign=-1 if document.type == Type.CREDIT_NOTE else 1)
    document.subtotal = totals.subtotal
    document.discount_total = totals.discount_total
    document.tax_total = totals.tax_total
    document.total = totals.total
    _refresh_amounts(document)


def _check_expenses(document: Document, rows: list[DocumentLine]) -> None:
    """Lines billing expenses: only on invoices, approved billable expenses, each once."""
    linked = [row for row in rows if row.expense is not None]
    if not linked:
        return
    if document.type != Type.INVOICE:
        raise DomainError(
            "Only invoices bill expenses.",
            errors={"line_items": ["Only invoice lines link an expense."]},
        )
    ids = [row.expense.pk for row in linked]
    if len(set(ids)) != len(ids):
        raise DomainError(
            "An expense is billed once.", errors={"line_items": ["An expense appears twice."]}
        )
    for row in linked:
        if row.expense.kind != Kind.EXPENSE or not _billable(row.expense):
            raise DomainError(
                "Only billable, approved expenses are billed.",
                errors={"line_items": [f"The entry {row.expense.pk} is not a billable expense."]},
            )
    taken = DocumentLine.objects.filter(expense_id__in=ids).exclude(document=document)
    if taken.exists():
        raise Conflict("An expense is billed on another invoice already.", code="billed")


def _billable(entry: LedgerEntry) -> bool:
    """Whether the ledger entry may be billed (billable and approved, where those exist)."""
    return (
        bool(getattr(entry, "is_billable", False))
        and getattr(entry, "approval_status", "approved") == "approved"
    )


def _refresh_amounts(document: Document) -> None:
    """The document's base total and balance, from its stored figures."""
    rate = document.exchange_rate if document.exchange_rate is not None else Decimal(1)
    document.base_total = pricing.in_base(document.total, rate, field="line_items")
    if document.type == Type.INVOICE:
        document.balance = document.total - document.paid_amount - document.credited_amount
    else:
        document.balance = Decimal("0.00")
    document.base_balance = pricing.in_base(document.balance, rate, field="line_items")


def _prefix(organization, document_type: str) -> str:
    """The organization's number prefix for the type."""
    prefixes = (organization.settings or {}).get("document_prefixes") or {}
    return prefixes.get(document_type) or DEFAULT_DOCUMENT_PREFIXES[document_type]


@transaction.atomic
def document_create(*, tenant: Tenant, document_type: str, data: dict[str, Any]) -> Document:
    """A new draft quote, invoice or credit note with its lines (no number yet).

    A credit note names the invoice it ``credits`` and takes its customer, currency and rate.
    """
    organization = tenant.organization
    data = dict(data)
    lines = data.pop("line_items", [])
    credits = data.pop("credits", None)
    if document_type == Type.CREDIT_NOTE:
        if credits is None or credits.type != Type.INVOICE or credits.number == "":
            raise DomainError(
                "A credit note credits an issued invoice.",
                errors={"credits": ["Give an issued invoice."]},
            )
        data.update(
            customer=credits.customer,
            currency=credits.currency,
            exchange_rate=credits.exchange_rate,
        )
    elif credits is not None:
        raise DomainError(
            "Only credit notes credit an invoice.",
            errors={"credits": ["Only credit notes credit an invoice."]},
        )
    if "customer" not in data:
        raise DomainError(
            "The document needs a customer.", errors={"customer": ["This field is required."]}
        )
    document = Document(
        organization=organization,
        created_by=tenant.membership.user,
        type=document_type,
        credits=credits,
        **{"currency": organization.base_currency, **data},
    )
    check_fields(document, organization.base_currency)
    document.save()
    write_lines(document, lines, tenant.membership.user)
    document.save()
    return document


@transaction.atomic
def document_update(*, tenant: Tenant, document: Document, data: dict[str, Any]) -> Document:
    """Change a draft (its lines replaced when ``line_items`` is given); issued is a 409."""
    document = _locked(document)
    if document.status != Status.DRAFT:
        raise Conflict(
            "An issued document cannot change; correct an invoice with a credit note.",
            code="issued",
        )
    data = dict(data)
    lines = data.pop("line_items", None)
    data.pop("credits", None)
    if document.type == Type.CREDIT_NOTE:
        for field in ("customer", "currency", "exchange_rate"):
            data.pop(field, None)
    for field in DOCUMENT_FIELDS:
        if field in data:
            setattr(document, field, data[field])
    if "currency" in data and "exchange_rate" not in data:
        document.exchange_rate = None
    check_fields(document, tenant.organization.base_currency)
    if lines is not None:
        write_lines(document, lines, tenant.membership.user)
    else:
        _refresh_amounts(document)
    document.save()
    return document


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Delete a draft; an issued document stays (cancel an invoice, credit it).

    The row is locked and its status read again, so a draft being sent or changed at the
    same moment is either deleted before (the other request is a 404) or issued first
    (this one is a 409), never both.
    """
    document = _locked(document)
    if document.status != Status.DRAFT:
        raise Conflict(
            "Only drafts are deleted; cancel or credit an issued document.", code="issued"
        )
    document.delete()


@transaction.atomic
def document_send(
    *, tenant: Tenant, document: Document, email: bool = True, to: str = ""
) -> Document:
    """Issue a draft: its number, issue date and rate are fixed; a credit note lowers the
    balance of the invoice it credits (never below zero).

    With ``email`` the PDF is e-mailed by a job (``finance.email_document``) after the commit,
    to ``to`` or else the customer's address (none: it is only issued).
    """
    return issue(
        _locked(document),
        organization=tenant.organization,
        user=tenant.membership.user,
        email=email,
        to=to,
    )


def issue(
    document: Document, *, organization: Organization, user, email: bool, to: str = ""
) -> Document:
    """Issue the (locked) draft ``document`` on behalf of ``user``: :func:`document_send`'s
    body, shared with the recurring invoices that are sent as they are made."""
    status = _check_transition(document, "send")
    if not document.lines.exists():
        raise Conflict("A document without lines cannot be issued.", code="empty")
    _check_billed_expenses(document)
    if document.type == Type.CREDIT_NOTE:
        document.exchange_rate = document.credits.exchange_rate  # the invoice's own rate
    errors = _fix_rate(document, organization.base_currency, issuing=True)
    if errors:
        raise DomainError("The document needs a rate to be issued.", errors=errors)
    _refresh_amounts(document)
    today = local_today(organization)
    if document.expiry_date is not None and document.expiry_date < today:
        raise Conflict(
            "The quote's expiry date has passed; change it before sending.",
            code="expired",
            errors={"expiry_date": ["It is before today."]},
        )
    document.issue_date = document.issue_date or today
    if document.type == Type.CREDIT_NOTE:
        _apply_credit(document)
    year = document.issue_date.year
    number = next_number(organization.pk, f"{document.type}:{year}")
    document.number = formatted(_prefix(organization, document.type), number, year=year)
    document.status = status
    if document.type == Type.INVOICE:
        _settle(document)  # an invoice of 0.00 owes nothing: paid on issue
    document.issued_at = timezone.now()
    document.save()
    address = to or document.customer.email
    if email and address:
        job_start(
            organization=organization,
            user=user,
            kind="finance.email_document",
            document_id=str(document.pk),
            to=address,
        )
    return document


def document_email(*, document_id: str, to: str) -> dict[str, str]:
    """Render the document's PDF, e-mail it to ``to`` and record it (the job's body)."""
    document = (
        Document.objects.select_related("organization", "customer")
        .prefetch_related("lines")
        .get(pk=document_id)
    )
    title = f"{pdf.TITLES[document.type]} {document.number}"
    mail.send_file(
        to=to,
        subject=f"{title} from {document.organization.name}",
        body=f"Please find attached {title.lower()} for {document.total:.2f} {document.currency}.",
        filename=pdf.filename(document),
        content=pdf.render(document),
        mimetype="application/pdf",
    )
    Document.objects.filter(pk=document.pk).update(emailed_to=to, emailed_at=timezone.now())
    return {"to": to, "number": document.number}


def _check_billed_expenses(document: Document) -> None:
    """The expenses a draft bills must still be billable and approved when it is issued."""
    billed = LedgerEntry.objects.filter(billed_line__document=document)
    if any(not _billable(entry) for entry in billed):
        raise Conflict(
            "An expense this draft bills is no longer billable or approved; change the line.",
            code="expense_not_billable",
        )


def _apply_credit(note: Document) -> None:
    """Lower the credited invoice's balance by the note's total (locked; 409 past it)."""
    invoice = _locked(note.credits)
    amount = -note.total
    if invoice.status in (Status.DRAFT, Status.CANCELLED):
        raise Conflict(f"The invoice is {invoice.status}; it cannot be credited.", code="state")
    if amount > invoice.balance:
        raise Conflict(
            f"The credit ({amount}) is more than the invoice's balance ({invoice.balance}).",
            code="over_credit",
        )
    invoice.credited_amount += amount
    _settle(invoice)
    invoice.save()


def _settle(invoice: Document) -> None:
    """The invoice's balance and status from what was paid and credited."""
    _refresh_amounts(invoice)
    if invoice.balance == 0:
        invoice.status = Status.PAID
    elif invoice.paid_amount > 0 or invoice.credited_amount > 0:
        invoice.status = Status.PARTIAL
    else:
        invoice.status = Status.SENT


@transaction.atomic
def document_transition(*, document: Document, action: str) -> Document:
    """Move a document by ``action`` (accept, reject, cancel), or 409."""
    document = _locked(document)
    status = _check_transition(document, action)
    if action in ("accept", "reject") and document.expiry_date is not None:
        if document.expiry_date < local_today(document.organization):
            raise Conflict(f"The quote has expired; it cannot {action}.", code="expired")
    if action == "cancel" and document.payments.exists():
        raise Conflict("The invoice has payments; delete them or credit it.", code="paid")
    if action == "cancel" and document.credit_notes.exclude(status=Status.DRAFT).exists():
        raise Conflict("The invoice has issued credit notes.", code="credited")
    document.status = status
    document.save()
    return document


@transaction.atomic
def quote_convert(*, tenant: Tenant, quote: Document) -> Document:
    """The draft invoice of an accepted quote, created once (a second time is a 409)."""
    quote = _locked(quote)
    _check_transition(quote, "convert")
    if Document.objects.filter(source_quote=quote).exists():
        raise Conflict("The quote was converted already.", code="converted")
    lines = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_rate": line.tax_rate,
        }
        for line in quote.lines.all()
    ]
    invoice = Document(
        organization=quote.organization,
        created_by=tenant.membership.user,
        type=Type.INVOICE,
        customer_id=quote.customer_id,
        currency=quote.currency,
        exchange_rate=quote.exchange_rate,
        terms=quote.terms,
        notes=quote.notes,
        source_quote=quote,
    )
    check_fields(invoice, tenant.organization.base_currency)  # no rate kept in the base currency
    invoice.save()
    write_lines(invoice, lines, tenant.membership.user)
    invoice.save()
    return invoice


def expire_quotes() -> int:
    """Mark sent quotes past their expiry date ``expired``; how many changed (a daily job).

    "Past" is by each organization's own date: one ``UPDATE`` per time zone in use.
    """
    changed = 0
    now = timezone.now()
    zones = Organization.objects.values_list("timezone", flat=True).distinct()
    for zone in zones:
        today = now.astimezone(zoneinfo.ZoneInfo(zone or "UTC")).date()
        changed += Document.objects.filter(
            organization__timezone=zone,
            type=Type.QUOTE,
            status=Status.SENT,
            expiry_date__lt=today,
        ).update(status=Status.EXPIRED, updated_at=now)
    return changed


def _payment_category(tenant: Tenant) -> Category:
    """The organization's income category for invoice payments (created when first needed)."""
    category, _ = Category.objects.get_or_create(
        organization=tenant.organization,
        type=Kind.INCOME,
        name=PAYMENT_CATEGORY,
        defaults={"created_by": tenant.membership.user},
    )
    return category


@transaction.atomic
def payment_create(*, tenant: Tenant, data: dict[str, Any]) -> Payment:
    """Record a payment of a sent invoice and its income ledger entry, together.

    More than the balance is a 400; a draft, cancelled or paid invoice is a 409.
    """
    invoice = _locked(data["invoice"])
    if invoice.type != Type.INVOICE:
        raise DomainError("Payments are of invoices.", errors={"invoice": ["Give an invoice."]})
    _check_transition(invoice, "pay")
    amount = data["amount"]
    if amount <= 0:
        raise DomainError(
            "The amount must be greater than zero.",
            errors={"amount": ["The amount must be greater than zero."]},
        )
    if amount > invoice.balance:
        raise DomainError(
            f"The payment is more than the invoice's balance ({invoice.balance}).",
            code="overpayment",
            errors={"amount": [f"At most the balance, {invoice.balance}."]},
        )
    category = data.get("category") or _payment_category(tenant)
    if category.type != Kind.INCOME:
        raise DomainError(
            "Choose a category of income.", errors={"category": ["Choose a category of income."]}
        )
    entry = LedgerEntry(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        kind=Kind.INCOME,
        title=f"Payment of {invoice.number}",
        amount=amount,
        currency=invoice.currency,
        exchange_rate=invoice.exchange_rate,
        base_amount=pricing.in_base(amount, invoice.exchange_rate),
        date=data["date"],
        category=category,
        customer_id=invoice.customer_id,
        reference=invoice.number,
    )
    entry.save()
    payment = Payment.objects.create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        invoice=invoice,
        amount=amount,
        date=data["date"],
        method=data.get("method") or Payment.Method.BANK_TRANSFER,
        reference=data.get("reference", ""),
        entry=entry,
    )
    invoice.paid_amount += amount
    _settle(invoice)
    invoice.save()
    return payment


@transaction.atomic
def payment_delete(*, payment: Payment) -> None:
    """Delete a payment and its ledger entry together; the invoice's balance follows."""
    invoice = _locked(payment.invoice)
    # Read again under the invoice's lock: a concurrent delete of the same payment has
    # committed by now, and this one finds nothing (404), never a half-deleted payment.
    payment = Payment.objects.select_related("entry").filter(pk=payment.pk).first()
    if payment is None:
        raise Http404
    entry = payment.entry
    payment.delete()
    entry.delete()
    invoice.paid_amount -= payment.amount
    _settle(invoice)
    invoice.save()
