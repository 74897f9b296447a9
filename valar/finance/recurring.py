"""Recurring invoices and ledger entries: the schedules' use cases and the job that runs them.

A schedule (:class:`~valar.finance.models.RecurringInvoice`,
:class:`~valar.finance.models.RecurringEntry`) makes one invoice or one entry per period.
:func:`run_due` (the hourly job ``finance.run_schedules``) makes every period due by each
organization's own date, oldest first, and moves the schedule on in the same transaction.
"Once" does not rest on that bookkeeping alone: the made row carries ``(recurrence, period)``
under a unique constraint, and a second insert for the same period is refused by the
database (the savepoint rolls back and the period is skipped), never checked first and then
inserted. So two runs at once, or a run repeated after a crash, make nothing twice.
"""

import datetime
import logging
import zoneinfo
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from valar.core.errors import Conflict, DomainError
from valar.core.money import fixed_rate, missing_rate
from valar.core.policy import Access, decide
from valar.core.tenancy import Tenant, local_today
from valar.finance import documents, pricing
from valar.finance.models import (
    ApprovalStatus,
    Document,
    Frequency,
    LedgerEntry,
    Recurrence,
    RecurringEntry,
    RecurringInvoice,
)
from valar.finance.services import entry_prepare
from valar.organizations.models import Membership, Organization

logger = logging.getLogger(__name__)

#: Months between two periods of each frequency.
MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}
#: The most periods one run makes for one schedule (a schedule started long ago catches up
#: over several runs rather than holding its lock for thousands of rows).
CATCH_UP = 24
#: How far in the past a new schedule may start (its missed periods are made on the next run).
MAX_BACKDATE_DAYS = 366
#: The fields of a schedule its rhythm hangs on: they change only before its first period.
RHYTHM_FIELDS = ("frequency", "start_date")


def period_date(schedule: Recurrence, index: int) -> datetime.date:
    """The date of the schedule's ``index``-th period (0 is the start date).

    Counted from the start date each time, so a schedule starting on the 31st falls on the
    last day of shorter months and returns to the 31st after them.
    """
    return schedule.start_date + relativedelta(months=MONTHS[schedule.frequency] * index)


def _check_schedule(
    schedule: Recurrence, organization: Organization, *, new_start: bool
) -> dict[str, list[str]]:
    """The rules every schedule keeps (dates, currency rate); the errors found.

    How far back the start may be is checked only when it is set (``new_start``): a paused
    schedule that was never run stays editable as days pass.
    """
    errors: dict[str, list[str]] = {}
    today = local_today(organization)
    if schedule.end_date is not None and schedule.end_date < schedule.start_date:
        errors["end_date"] = ["It cannot be before the start date."]
    if new_start and schedule.start_date < today - datetime.timedelta(days=MAX_BACKDATE_DAYS):
        errors["start_date"] = [f"At most {MAX_BACKDATE_DAYS} days in the past."]
    base = organization.base_currency
    rate = fixed_rate(
        currency=schedule.currency, exchange_rate=schedule.exchange_rate, base_currency=base
    )
    if rate is None:
        errors["exchange_rate"] = [
            missing_rate(base_currency=base, what="a schedule", currency=schedule.currency)
        ]
    # In the base currency no rate is kept: each period is at par with the base currency of
    # its day, and a schedule whose currency the base no longer is needs a rate again.
    schedule.exchange_rate = None if schedule.currency == base else rate
    return errors


def _check_entry_template(schedule: RecurringEntry, organization: Organization) -> None:
    """The entry it makes must be valid: checked by the ledger's own rules, once, now."""
    sample = LedgerEntry(
        organization=organization,
        kind=schedule.kind,
        title=schedule.title,
        amount=schedule.amount,
        currency=schedule.currency,
        exchange_rate=schedule.exchange_rate,
        category=schedule.category,
        subcategory=schedule.subcategory,
    )
    entry_prepare(sample, organization.base_currency)


def _check_invoice_template(schedule: RecurringInvoice) -> None:
    """The invoice it makes must be priceable: each line, and the total at the rate."""
    figures = [
        documents.line_figure(position, _line_values(line))
        for position, line in enumerate(schedule.line_items, start=1)
    ]
    total = pricing.document_totals(figures).total
    pricing.in_base(total, schedule.exchange_rate or Decimal(1), field="line_items")


@transaction.atomic
def schedule_save(
    *, tenant: Tenant, model: type[Recurrence], schedule: Recurrence | None, data: dict[str, Any]
) -> Recurrence:
    """Create (``schedule`` None) or change a schedule of ``model``.

    Its frequency and start date change only before its first period is made (409
    ``started`` after: end it and start a new one); changing them moves ``next_date`` back to
    the start. Everything else (the template, the end, ``active``) changes any time and
    applies from the next period on.
    """
    organization = tenant.organization
    data = dict(data)
    if "line_items" in data:
        data["line_items"] = [_line_json(line) for line in data["line_items"]]
    new_start = schedule is None or (
        "start_date" in data and data["start_date"] != schedule.start_date
    )
    if schedule is None:
        schedule = model(
            organization=organization,
            created_by=tenant.membership.user,
            **{"currency": organization.base_currency, **data},
        )
    else:
        schedule = model.objects.select_for_update().filter(pk=schedule.pk).first()
        if schedule is None:
            raise Http404
        changed = [f for f in RHYTHM_FIELDS if f in data and data[f] != getattr(schedule, f)]
        if changed and schedule.runs:
            raise Conflict(
                f"The schedule has made {schedule.runs} period(s); its {', '.join(changed)} "
                "cannot change. Set an end date and start a new schedule.",
                code="started",
            )
        if "currency" in data and "exchange_rate" not in data:
            schedule.exchange_rate = None
        schedule.created_by = tenant.membership.user  # it runs on behalf of its last approver
        for field, value in data.items():
            setattr(schedule, field, value)
    if schedule.runs == 0:
        schedule.next_date = schedule.start_date
    errors = _check_schedule(schedule, organization, new_start=new_start)
    if isinstance(schedule, RecurringInvoice) and not schedule.line_items:
        errors["line_items"] = ["An invoice needs at least one line."]
    if errors:
        raise DomainError("The schedule is invalid; see errors.", errors=errors)
    if isinstance(schedule, RecurringEntry):
        _check_entry_template(schedule, organization)
    else:
        _check_invoice_template(schedule)
    schedule.save()
    return schedule


def _line_json(line: dict[str, Any]) -> dict[str, str]:
    """A line as stored in a schedule: its decimals as exact strings."""
    return {
        "description": line["description"],
        "quantity": str(line["quantity"]),
        "unit_price": str(line["unit_price"]),
        "discount_percent": str(line.get("discount_percent") or Decimal(0)),
        "tax_rate": str(line.get("tax_rate") or Decimal(0)),
    }


def _line_values(line: dict[str, str]) -> dict[str, Any]:
    """A stored line with its decimals read back exactly."""
    return {
        **line,
        **{k: Decimal(line.get(k) or 0) for k in ("discount_percent", "tax_rate")},
        **{k: Decimal(line[k]) for k in ("quantity", "unit_price")},
    }


def _make_invoice(schedule: RecurringInvoice, period: datetime.date) -> None:
    """The schedule's invoice for ``period`` (issued and e-mailed with ``send``)."""
    invoice = Document(
        organization=schedule.organization,
        created_by=schedule.created_by,
        type=Document.Type.INVOICE,
        customer_id=schedule.customer_id,
        issue_date=period,
        due_date=period + datetime.timedelta(days=schedule.due_days),
        currency=schedule.currency,
        exchange_rate=schedule.exchange_rate,
        terms=schedule.terms,
        notes=schedule.notes,
        recurrence=schedule,
        period=period,
    )
    documents.check_fields(invoice, schedule.organization.base_currency)
    invoice.save()  # the unique (recurrence, period) refuses a second one here
    lines = [_line_values(line) for line in schedule.line_items]
    documents.write_lines(invoice, lines, schedule.created_by)
    invoice.save()
    if schedule.send:
        documents.issue(
            invoice, organization=schedule.organization, user=schedule.created_by, email=True
        )


def _make_entry(schedule: RecurringEntry, period: datetime.date) -> None:
    """The schedule's ledger entry for ``period``, approved (set up by an approver)."""
    entry = LedgerEntry(
        organization=schedule.organization,
        created_by=schedule.created_by,
        kind=schedule.kind,
        title=schedule.title,
        description=schedule.description,
        amount=schedule.amount,
        currency=schedule.currency,
        exchange_rate=schedule.exchange_rate,
        date=period,
        category=schedule.category,
        subcategory=schedule.subcategory,
        team_id=schedule.team_id,
        customer_id=schedule.customer_id,
        vendor_id=schedule.vendor_id,
        reference=schedule.reference,
        approval_status=ApprovalStatus.APPROVED,
        recurrence=schedule,
        period=period,
    )
    entry_prepare(entry, schedule.organization.base_currency)
    entry.save()  # the unique (recurrence, period) refuses a second one here


#: Why a schedule whose approver is gone makes nothing.
NO_APPROVER = (
    "The member who last set this schedule up may no longer approve in finance (or left); "
    "an approver's change to it (PATCH) makes it theirs and lets it run."
)


def _may_run(schedule: Recurrence) -> bool:
    """Whether the schedule's owner is still an active member who may approve in finance."""
    membership = (
        Membership.objects.filter(
            organization_id=schedule.organization_id,
            user_id=schedule.created_by_id,
            user__is_active=True,
        )
        .only("role", "modules")
        .first()
    )
    return membership is not None and (
        decide(role=membership.role, modules=membership.modules, module="finance", action="approve")
        != Access.NONE
    )


def _explained(error: DomainError) -> str:
    """The error's message with its field messages, as ``last_error`` shows it."""
    details = "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in (error.errors or {}).items()
    )
    return f"{error} ({details})" if details else str(error)


MAKERS = {RecurringInvoice: _make_invoice, RecurringEntry: _make_entry}


def _due(today: datetime.date) -> Q:
    """Active schedules whose next period has come and is not past their end."""
    return Q(active=True, next_date__lte=today) & (
        Q(end_date__isnull=True) | Q(next_date__lte=F("end_date"))
    )


@transaction.atomic
def run_schedule(model: type[Recurrence], pk, today: datetime.date) -> int:
    """Make the due periods of one schedule up to ``today``; how many were made now.

    The schedule's row is locked (another run skips it); each period is made in a savepoint,
    and one the unique key already holds is skipped, not made again. A period that cannot be
    made (its customer's rules changed, say) stops the schedule there with ``last_error``
    set, and the next run tries it again. A schedule whose owner may no longer approve in
    finance (or left) makes nothing and says so.
    """
    schedule = (
        model.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("organization")
        .filter(_due(today), pk=pk)
        .first()
    )
    if schedule is None:
        return 0
    made = 0
    schedule.last_error = ""
    if _may_run(schedule):
        made = _make_due(model, schedule, today)
    else:
        schedule.last_error = NO_APPROVER
    schedule.last_run_at = timezone.now()
    schedule.save(update_fields=["runs", "next_date", "last_run_at", "last_error", "updated_at"])
    return made


def _make_due(model: type[Recurrence], schedule: Recurrence, today: datetime.date) -> int:
    """Make the (locked) schedule's due periods, oldest first, at most :data:`CATCH_UP`."""
    made = 0
    for _ in range(CATCH_UP):
        period = schedule.next_date
        if period > today or (schedule.end_date is not None and period > schedule.end_date):
            break
        try:
            with transaction.atomic():
                MAKERS[model](schedule, period)
            made += 1
        except IntegrityError:
            logger.info("%s %s: period %s exists; skipped", model.__name__, schedule.pk, period)
        except DomainError as exc:
            schedule.last_error = f"{period}: {_explained(exc)}"[:500]
            break
        schedule.runs += 1
        schedule.next_date = period_date(schedule, schedule.runs)
    return made


def run_due(now: datetime.datetime | None = None) -> dict[str, int]:
    """Make every due period of every schedule, by each organization's own date.

    One query per model and time zone in use finds the due schedules; each is then run in
    its own transaction (:func:`run_schedule`), so one schedule's failure keeps no other
    from running. Answers how many invoices and entries were made.
    """
    now = now or timezone.now()
    made = {"invoices": 0, "entries": 0}
    zones = Organization.objects.values_list("timezone", flat=True).distinct()
    for model, name in ((RecurringInvoice, "invoices"), (RecurringEntry, "entries")):
        for zone in zones:
            today = now.astimezone(zoneinfo.ZoneInfo(zone or "UTC")).date()
            due = model.objects.filter(_due(today), organization__timezone=zone)
            for pk in due.values_list("pk", flat=True):
                made[name] += run_schedule(model, pk, today)
    return made
