"""Finance use cases: entries kept exact in the base currency, categories, attachments."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core import bulk, files, versions
from valar.core.errors import Conflict, DomainError
from valar.core.money import fixed_rate, in_base, missing_rate
from valar.core.notify import notify
from valar.core.policy import Access, decide, owner_filter
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.finance.models import (
    ApprovalStatus,
    Attachment,
    Category,
    Kind,
    LedgerEntry,
    RecurringEntry,
    Subcategory,
)

ENTRY_FIELDS = [
    "title",
    "description",
    "amount",
    "currency",
    "exchange_rate",
    "date",
    "time",
    "category",
    "subcategory",
    "team",
    "customer",
    "vendor",
    "reference",
    "receipt_number",
    "tax_amount",
    "is_billable",
]
#: The fields that record a decision on an expense claim.
DECISION_FIELDS = ["approval_status", "rejection_reason", "decided_by", "decided_at"]


def entry_prepare(entry: LedgerEntry, base_currency: str) -> LedgerEntry:
    """Check the entry's rules and compute its exact amount in the base currency."""
    errors: dict[str, list[str]] = {}
    if entry.category.type != entry.kind:
        errors["category"] = [f"Choose a category of {entry.kind}."]
    if entry.subcategory is not None and entry.subcategory.category_id != entry.category_id:
        errors["subcategory"] = ["The subcategory is not in the category."]
    if entry.amount is None or entry.amount <= 0:
        errors["amount"] = ["The amount must be greater than zero."]
    elif entry.tax_amount is None or not 0 <= entry.tax_amount <= entry.amount:
        errors["tax_amount"] = ["The tax amount must be between zero and the amount."]
    if entry.is_billable and entry.kind != Kind.EXPENSE:
        errors["is_billable"] = ["Only an expense can be billable."]
    rate = fixed_rate(
        currency=entry.currency, exchange_rate=entry.exchange_rate, base_currency=base_currency
    )
    if rate is None:
        errors["exchange_rate"] = [
            missing_rate(base_currency=base_currency, what="an entry", currency=entry.currency)
        ]
    if errors:
        raise DomainError("The entry is invalid; see errors.", errors=errors)
    entry.exchange_rate = rate
    entry.base_amount = in_base(entry.amount, rate)
    return entry


def entry_kind(*, fixed_kind: str | None, data: dict[str, Any], entry=None) -> str:
    """The kind of a new entry (the URL's, else the body's), or check that a change keeps it.

    Removes ``kind`` from ``data``; 400 when a new entry has none or a change would alter it.
    """
    given = data.pop("kind", None)
    if entry is not None:
        if given is not None and given != entry.kind:
            raise DomainError(
                "The kind of an entry cannot change.",
                errors={"kind": ["The kind of an entry cannot change."]},
            )
        return entry.kind
    kind = fixed_kind or given
    if kind is None:
        raise DomainError("The entry needs a kind.", errors={"kind": ["This field is required."]})
    return kind


def _finance_access(tenant: Tenant, action: str) -> Access:
    """What the caller may do with ``action`` in finance (a lookup in the policy table)."""
    membership = tenant.membership
    return decide(role=membership.role, modules=membership.modules, module="finance", action=action)


def may_approve(tenant: Tenant) -> bool:
    """Whether the caller approves expense claims (``finance: approve``: managers, admins)."""
    return _finance_access(tenant, "approve") == Access.ALL


def _submit(entry: LedgerEntry) -> None:
    """Put an expense claim (back) to ``submitted``, clearing any earlier decision."""
    entry.approval_status = ApprovalStatus.SUBMITTED
    entry.rejection_reason = ""
    entry.decided_by = None
    entry.decided_at = None


def entry_build(*, tenant: Tenant, kind: str, data: dict[str, Any]) -> LedgerEntry:
    """A new income or expense, checked and with its base amount, unsaved.

    Income needs ``finance: create`` (basic members record expense claims only: 403). An
    income, and an expense of a member who approves claims, is ``approved`` on entry; any
    other expense is a claim ``submitted`` for approval.
    """
    if kind == Kind.INCOME and _finance_access(tenant, "create") == Access.NONE:
        raise DomainError(
            "You may record expense claims, not income.", code="forbidden", status_code=403
        )
    organization = tenant.organization
    data = {**data, "currency": data.get("currency") or organization.base_currency}
    entry = LedgerEntry(
        organization=organization, created_by=tenant.membership.user, kind=kind, **data
    )
    if "exchange_rate" not in data or data["exchange_rate"] is None:
        entry.exchange_rate = None
    if kind == Kind.EXPENSE and not may_approve(tenant):
        _submit(entry)
    else:
        entry.approval_status = ApprovalStatus.APPROVED
    return entry_prepare(entry, organization.base_currency)


@transaction.atomic
def entry_create(*, tenant: Tenant, kind: str, data: dict[str, Any]) -> LedgerEntry:
    """Record an income or an expense."""
    entry = entry_build(tenant=tenant, kind=kind, data=data)
    entry.save()
    return entry


def _check_not_paid_in(entry: LedgerEntry) -> None:
    """An entry a payment made changes and goes only with its payment (409)."""
    try:
        linked = entry.payment is not None
    except ObjectDoesNotExist:
        linked = False
    if linked:
        raise Conflict(
            "The entry records an invoice payment; change or delete the payment.",
            code="payment_entry",
        )
    try:
        billed_on = entry.billed_line.document
    except ObjectDoesNotExist:
        billed_on = None
    if billed_on is not None and billed_on.status != "draft":
        raise Conflict(
            f"The expense is billed on {billed_on.number}; correct it with a credit note.",
            code="billed",
        )


def entry_change(*, tenant: Tenant, entry: LedgerEntry, data: dict[str, Any]) -> LedgerEntry:
    """Apply a change to an entry, checked, its base amount following; unsaved.

    An entry a payment made is a 409 (it changes with its payment). A change of an expense by
    a member who does not approve claims (its submitter: they change only their own) sends it
    for approval again: a submitted claim stays ``submitted``, a rejected or approved one
    becomes ``submitted``. A manager's or admin's change keeps the status.
    """
    _check_not_paid_in(entry)
    for field in ENTRY_FIELDS:
        if field in data:
            setattr(entry, field, data[field])
    if entry.kind == Kind.EXPENSE and not may_approve(tenant):
        _submit(entry)
    if "category" in data and "subcategory" not in data:
        keep = entry.subcategory and entry.subcategory.category_id == entry.category_id
        entry.subcategory = entry.subcategory if keep else None
    return entry_prepare(entry, tenant.organization.base_currency)


@transaction.atomic
def entry_update(*, tenant: Tenant, entry: LedgerEntry, data: dict[str, Any]) -> LedgerEntry:
    """Change an entry; its base amount follows."""
    entry_change(tenant=tenant, entry=entry, data=data).save()
    return entry


class EntryWriter(bulk.Writer):
    """Bulk writes of ledger entries, by the rules of the single-entry services.

    ``fixed_kind`` is the kind the URL fixes (``incomes/``, ``expenses/``); deleting an
    entry deletes its attachments (and their files), as :func:`entry_delete` does.
    """

    model = LedgerEntry
    related = ("category", "subcategory", "payment", "billed_line__document")

    def __init__(self, fixed_kind: str | None = None) -> None:
        """Remember the URL's kind, if any."""
        self.fixed_kind = fixed_kind

    def build(self, *, tenant: Tenant, data: dict[str, Any]) -> LedgerEntry:
        """A new entry, as :func:`entry_create` records it."""
        data = dict(data)
        kind = entry_kind(fixed_kind=self.fixed_kind, data=data)
        return entry_build(tenant=tenant, kind=kind, data=data)

    def change(self, *, tenant: Tenant, instance: LedgerEntry, data: dict[str, Any]) -> None:
        """A change, as :func:`entry_update` applies it (the kind stays)."""
        data = dict(data)
        entry_kind(fixed_kind=self.fixed_kind, data=data, entry=instance)
        entry_change(tenant=tenant, entry=instance, data=data)


def _decide(*, tenant: Tenant, entry: LedgerEntry, status: str, reason: str = "") -> LedgerEntry:
    """Approve or reject a submitted expense claim; audited, its submitter notified.

    403 for the claim's own submitter (nobody decides their own claim); 409 unless the claim
    is ``submitted`` (``submitted -> approved | rejected``).
    """
    actor = tenant.membership.user
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    verb = "approve" if status == ApprovalStatus.APPROVED else "reject"
    if entry.created_by_id == actor.pk:
        raise DomainError(
            f"You cannot {verb} your own expense claim; another manager or admin decides it.",
            code="own_claim",
            status_code=403,
        )
    if entry.approval_status != ApprovalStatus.SUBMITTED:
        raise Conflict(
            f"The claim is {entry.approval_status}; only a submitted claim can be approved or "
            "rejected (submitted -> approved | rejected).",
            code="invalid_transition",
        )
    entry.approval_status = status
    entry.rejection_reason = reason
    entry.decided_by = actor
    entry.decided_at = timezone.now()
    entry.save(update_fields=[*DECISION_FIELDS, "updated_at"])
    audit_record(
        action=f"expense.{verb}",
        organization_id=entry.organization_id,
        instance=entry,
        changes={"reason": reason} if reason else {},
    )
    approved = status == ApprovalStatus.APPROVED
    notify(
        organization=tenant.organization,
        recipients={entry.created_by_id} - {None},
        title=f"Expense claim {'approved' if approved else 'rejected'}: {entry.title}"[:200],
        body=f"{actor.full_name} {'approved' if approved else 'rejected'} your claim of "
        f"{entry.amount} {entry.currency}." + ("" if approved else f" Reason: {reason}"),
        link=f"/api/v1/finance/expenses/{entry.pk}/",
        level="success" if approved else "warning",
        kind="finance",
        actor=actor,
    )
    return entry


@transaction.atomic
def expense_approve(*, tenant: Tenant, entry: LedgerEntry) -> LedgerEntry:
    """Approve a submitted expense claim (403 for its submitter, 409 unless submitted)."""
    return _decide(tenant=tenant, entry=entry, status=ApprovalStatus.APPROVED)


@transaction.atomic
def expense_reject(*, tenant: Tenant, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Reject a submitted expense claim with a reason (403 for its submitter, 409 unless
    submitted)."""
    if not reason.strip():
        raise DomainError(
            "Give the reason for the rejection.", errors={"reason": ["This field is required."]}
        )
    return _decide(tenant=tenant, entry=entry, status=ApprovalStatus.REJECTED, reason=reason)


def entry_delete(*, entry: LedgerEntry) -> None:
    """Delete an entry and its attachments (their files too); a payment's entry is a 409."""
    _check_not_paid_in(entry)
    for attachment in entry.attachments.all():
        attachment.delete()
    entry.delete()


@transaction.atomic
def category_save(*, tenant: Tenant, category: Category | None, data: dict[str, Any]) -> Category:
    """Create or change a category: its name is unique per type; one in use keeps its type."""
    name = data.get("name", getattr(category, "name", None))
    kind = data.get("type", getattr(category, "type", None))
    taken = Category.objects.filter(organization=tenant.organization, type=kind, name__iexact=name)
    if category is not None:
        taken = taken.exclude(pk=category.pk)
    if taken.exists():
        raise Conflict(
            "A category of this type has this name.",
            code="duplicate",
            errors={"name": ["A category of this type has this name."]},
        )
    if category is None:
        return Category.objects.create(
            organization=tenant.organization, created_by=tenant.membership.user, **data
        )
    if kind != category.type and (
        category.entries.exists() or RecurringEntry.objects.filter(category=category).exists()
    ):
        raise Conflict(
            "The category has entries or recurring entries; its type cannot change.",
            code="in_use",
        )
    category, _ = model_update(
        instance=category, fields=["name", "description", "type", "color"], data=data
    )
    return category


@transaction.atomic
def subcategory_save(
    *, tenant: Tenant, subcategory: Subcategory | None, data: dict[str, Any]
) -> Subcategory:
    """Create or change a subcategory: unique name in its category; one in use stays there."""
    category = data.get("category", getattr(subcategory, "category", None))
    name = data.get("name", getattr(subcategory, "name", None))
    taken = Subcategory.objects.filter(category=category, name__iexact=name)
    if subcategory is not None:
        taken = taken.exclude(pk=subcategory.pk)
    if taken.exists():
        raise Conflict(
            "The category has this subcategory.",
            code="duplicate",
            errors={"name": ["The category has this subcategory."]},
        )
    if subcategory is None:
        return Subcategory.objects.create(
            organization=tenant.organization, created_by=tenant.membership.user, **data
        )
    if category != subcategory.category and subcategory.entries.exists():
        raise Conflict("The subcategory has entries; it cannot change category.", code="in_use")
    subcategory, _ = model_update(
        instance=subcategory,
        fields=["category", "name", "description", "color"],
        data=data,
    )
    return subcategory


def subcategory_delete(*, subcategory: Subcategory) -> None:
    """Delete a subcategory no entry uses (409 otherwise)."""
    if subcategory.entries.exists():
        raise Conflict("The subcategory is in use.", code="in_use")
    subcategory.delete()


@transaction.atomic
def category_delete(
    *, tenant: Tenant, category: Category, reassign_to: Category | None = None
) -> None:
    """Delete a category; one in use is a 409 unless its entries move to ``reassign_to``.

    Moving entries changes them: a member who may change only their own entries (``OWN``)
    cannot move other members' entries (409; a manager or admin can).
    """
    entries = LedgerEntry.objects.filter(category=category)
    if entries.exists():
        if reassign_to is None:
            raise Conflict(
                "The category is in use; give reassign_to to move its entries.", code="in_use"
            )
        membership = tenant.membership
        may_change = decide(
            role=membership.role, modules=membership.modules, module="finance", action="change"
        )
        if (
            may_change != Access.ALL
            and entries.exclude(owner_filter(LedgerEntry, membership.user_id)).exists()
        ):
            raise Conflict(
                "Other members' entries use this category; a manager or admin can move them.",
                code="in_use",
            )
        if reassign_to.pk == category.pk or reassign_to.type != category.type:
            raise DomainError(
                "Move the entries to another category of the same type.",
                errors={"reassign_to": ["Choose another category of the same type."]},
            )
        entries.update(category=reassign_to, subcategory=None)
        versions.bump(category.organization_id, "finance")
    category.delete()


def attachment_create(*, tenant: Tenant, entry: LedgerEntry, upload) -> Attachment:
    """Store an uploaded receipt under an unguessable name, after checking its bytes
    (``core.files``: the rules every attachment follows)."""
    content_type = files.check_upload(upload)
    return Attachment.objects.create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        entry=entry,
        file=upload,
        original_name=(upload.name or "file")[:255],
        content_type=content_type,
        size=upload.size,
    )
