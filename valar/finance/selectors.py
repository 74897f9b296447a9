"""Finance reads: scoped lists and the summary over the metrics engine.

Lists are narrowed to what the caller may read by ``TenantViewSet`` (``view: own``); figures
go through ``run_for``, so a member who sees only their own entries is summed only those.
"""

import datetime
from decimal import Decimal

import django_filters
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When

from valar.core import tenancy
from valar.core.filters import (
    DateRangeFilterSet,
    MoneyFilter,
    StrictBooleanFilter,
    TimeFilter,
    UserRefFilter,
)
from valar.core.metrics import run_for
from valar.core.metrics.engine import cached_figures
from valar.core.policy import Access, owner_filter, view_access
from valar.core.tenancy import Tenant
from valar.finance.metrics import SUMMARY_SOURCES
from valar.finance.models import (
    ApprovalStatus,
    Attachment,
    Category,
    Document,
    Frequency,
    Kind,
    LedgerEntry,
    Payment,
    RecurringEntry,
    RecurringInvoice,
    Subcategory,
)
from valar.organizations.models import Organization


class EntryFilter(DateRangeFilterSet):
    """Ledger filters; ``start_date``/``end_date`` apply to the business date."""

    date_field = "date"
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    start_time = TimeFilter(field_name="time", lookup_expr="gte")
    end_time = TimeFilter(field_name="time", lookup_expr="lte")
    category = django_filters.UUIDFilter(field_name="category_id")
    subcategory = django_filters.UUIDFilter(field_name="subcategory_id")
    team = django_filters.UUIDFilter(field_name="team_id")
    customer = django_filters.UUIDFilter(field_name="customer_id")
    vendor = django_filters.UUIDFilter(field_name="vendor_id")
    min_amount = MoneyFilter(field_name="amount", lookup_expr="gte")
    max_amount = MoneyFilter(field_name="amount", lookup_expr="lte")
    created_by = UserRefFilter(field_name="created_by")
    approval_status = django_filters.ChoiceFilter(choices=ApprovalStatus.choices)
    is_billable = StrictBooleanFilter()
    recurrence = django_filters.UUIDFilter(
        field_name="recurrence_id", help_text="The entries a recurring schedule made."
    )

    class Meta:
        model = LedgerEntry
        fields: list[str] = []


class CategoryFilter(django_filters.FilterSet):
    """Category filters."""

    type = django_filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Category
        fields: list[str] = []


class SubcategoryFilter(django_filters.FilterSet):
    """Subcategory filters."""

    category = django_filters.UUIDFilter(field_name="category_id")

    class Meta:
        model = Subcategory
        fields: list[str] = []


class AttachmentFilter(django_filters.FilterSet):
    """Attachment filters."""

    entry = django_filters.UUIDFilter(field_name="entry_id")

    class Meta:
        model = Attachment
        fields: list[str] = []


def category_list(*, tenant: Tenant) -> QuerySet[Category]:
    """The organization's categories (:func:`category_display` adds their entry counts)."""
    return Category.objects.filter(organization=tenant.organization)


def category_display(categories: QuerySet[Category], *, tenant: Tenant) -> QuerySet[Category]:
    """``categories`` with how many entries the caller may see use each."""
    membership = tenant.membership
    counted = None
    if view_access(membership=membership, module="finance") == Access.OWN:
        counted = owner_filter(LedgerEntry, membership.user_id, prefix="entries__")
    return categories.annotate(entry_count=Count("entries", filter=counted))


def subcategory_list(*, organization: Organization) -> QuerySet[Subcategory]:
    """The organization's subcategories."""
    return Subcategory.objects.filter(organization=organization)


def entry_list(*, organization: Organization, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """The organization's ledger entries (of one kind when given)."""
    entries = LedgerEntry.objects.filter(organization=organization)
    return entries.filter(kind=kind) if kind else entries


def entry_display(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """``entries`` with their category, subcategory and team (for their names)."""
    return entries.select_related("category", "subcategory", "team")


def attachment_list(*, organization: Organization) -> QuerySet[Attachment]:
    """The organization's attachments."""
    return Attachment.objects.filter(organization=organization)


def _totals(
    tenant: Tenant,
    start: datetime.date,
    end: datetime.date,
    names: dict[str, str] = SUMMARY_SOURCES[False],
) -> dict:
    """Income, expense, profit and margin over a period the caller may see (cached).

    ``names`` maps each figure to its metrics source (:data:`SUMMARY_SOURCES`): approved
    entries only by default (as ``insights/overview/`` shows them).
    """
    values = {}
    for source in ("income", "expense"):
        name = names[source]
        document = run_for(
            tenant=tenant,
            spec={"source": name, "measure": "sum", "start_date": start, "end_date": end},
        )
        values[source] = Decimal(document["totals"][name])
    profit = values["income"] - values["expense"]
    margin = (
        (profit / values["income"] * 100).quantize(Decimal("0.01")) if values["income"] else None
    )
    return {
        "income": f"{values['income']:.2f}",
        "expense": f"{values['expense']:.2f}",
        "profit": f"{profit:.2f}",
        "margin": f"{margin:.2f}" if margin is not None else None,
    }


def _change(current: str | None, previous: str | None) -> str | None:
    """Percent change from ``previous`` to ``current`` (None when there is no base)."""
    if current is None or previous is None or Decimal(previous) == 0:
        return None
    change = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous)) * 100
    return f"{change.quantize(Decimal('0.01'))}"


def finance_summary(
    *,
    tenant: Tenant,
    start_date: datetime.date,
    end_date: datetime.date,
    interval: str | None = "month",
    group_by: str | None = None,
    include_unapproved: bool = False,
) -> dict:
    """Totals, the series and the comparison with the previous period of equal length.

    Only approved entries count, unless ``include_unapproved`` (expense claims submitted or
    rejected too).
    """
    organization = tenant.organization
    names = SUMMARY_SOURCES[include_unapproved]
    totals = _totals(tenant, start_date, end_date, names)
    length = end_date - start_date + datetime.timedelta(days=1)
    previous_end = start_date - datetime.timedelta(days=1)
    previous = _totals(
        tenant, previous_end - length + datetime.timedelta(days=1), previous_end, names
    )
    base = {"start_date": start_date, "end_date": end_date, "interval": interval, "measure": "sum"}
    labels: list[str] = []
    series: list[dict] = []
    if group_by:
        for source in ("income", "expense"):
            spec = {**base, "source": names[source], "group_by": group_by}
            document = run_for(tenant=tenant, spec=spec)
            labels = document["labels"]
            series += [{**item, "name": f"{source}: {item['name']}"} for item in document["series"]]
    else:
        for source in ("income", "expense", "profit"):
            document = run_for(tenant=tenant, spec={**base, "source": names[source]})
            labels = document["labels"]
            series.append({**document["series"][0], "name": source})
    return {
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "interval": interval,
        "include_unapproved": include_unapproved,
        "currency": organization.base_currency,
        "totals": totals,
        "previous_totals": previous,
        "change_percent": {key: _change(totals[key], previous[key]) for key in totals},
        "labels": labels,
        "series": series,
    }


def _overdue(today: datetime.date) -> Q:
    """Invoices sent, not fully paid and past their due date on ``today``."""
    return Q(
        type=Document.Type.INVOICE,
        status__in=(Document.Status.SENT, Document.Status.PARTIAL),
        due_date__lt=today,
    )


def _expired(today: datetime.date) -> Q:
    """Quotes sent and not answered whose expiry date has passed on ``today``."""
    return Q(type=Document.Type.QUOTE, status=Document.Status.SENT, expiry_date__lt=today)


class IssuedDocumentFilter(DateRangeFilterSet):
    """What any reader of documents filters by, the portal's clients too: dates, status,
    number. ``start_date``/``end_date`` apply to the issue date.

    ``status=overdue`` finds the invoices past their due date that are not paid, and
    ``status=expired`` the quotes past their expiry date; ``sent`` and ``partial`` then leave
    those out, as the answers show them.
    """

    date_field = "issue_date"
    status = django_filters.ChoiceFilter(choices=Document.Status.choices, method="filter_status")
    number = django_filters.CharFilter(field_name="number", lookup_expr="iexact")

    class Meta:
        model = Document
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        """The documents that show ``value`` (overdue and expired derived from the date)."""
        today = tenancy.local_today(tenancy.resolve(self.request).organization)
        overdue, expired = _overdue(today), _expired(today)
        if value == Document.Status.OVERDUE:
            return queryset.filter(overdue)
        if value == Document.Status.EXPIRED:
            return queryset.filter(Q(status=value) | expired)
        return queryset.filter(status=value).exclude(overdue).exclude(expired)


class DocumentFilter(IssuedDocumentFilter):
    """The organization's own document filters: also by customer, author and schedule (what
    the portal does not show its clients)."""

    customer = django_filters.UUIDFilter(field_name="customer_id")
    created_by = UserRefFilter(field_name="created_by")
    recurrence = django_filters.UUIDFilter(
        field_name="recurrence_id", help_text="The invoices a recurring schedule made."
    )

    class Meta(IssuedDocumentFilter.Meta):
        pass


class PaymentFilter(DateRangeFilterSet):
    """Payment filters; ``start_date``/``end_date`` apply to the payment date."""

    date_field = "date"
    invoice = django_filters.UUIDFilter(field_name="invoice_id")
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices)

    class Meta:
        model = Payment
        fields: list[str] = []


def document_list(*, organization: Organization, document_type: str) -> QuerySet[Document]:
    """The organization's documents of one type."""
    return Document.objects.filter(organization=organization, type=document_type)


def document_display(documents: QuerySet[Document], *, organization) -> QuerySet[Document]:
    """``documents`` with their shown status (``overdue`` and ``expired`` derived from the
    date, before the hourly job stores ``expired``), customer and lines."""
    today = tenancy.local_today(organization)
    return (
        documents.select_related("customer")
        .prefetch_related("lines")
        .annotate(
            shown_status=Case(
                When(_overdue(today), then=Value(Document.Status.OVERDUE)),
                When(_expired(today), then=Value(Document.Status.EXPIRED)),
                default=F("status"),
                output_field=CharField(),
            )
        )
    )


def payment_list(*, organization: Organization) -> QuerySet[Payment]:
    """The organization's payments."""
    return Payment.objects.filter(organization=organization)


def payment_display(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """``payments`` with their invoice (for its number)."""
    return payments.select_related("invoice")


#: The aging buckets of receivables: days past the due date (not yet due counts as 0).
AGING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
#: How many customers ``receivables`` lists, largest balances first.
RECEIVABLE_CUSTOMERS = 20


def _aged(today: datetime.date, low: int, high: int | None) -> Q:
    """Invoices ``low`` to ``high`` days past due on ``today`` (inclusive; none due yet: 0)."""
    if low == 0:
        return Q(due_date__isnull=True) | Q(due_date__gte=today - datetime.timedelta(days=high))
    condition = Q(due_date__lte=today - datetime.timedelta(days=low))
    if high is not None:
        condition &= Q(due_date__gte=today - datetime.timedelta(days=high))
    return condition


def _money(value) -> str:
    """An aggregate sum as a money string (0.00 over no row)."""
    return f"{(value or Decimal(0)):.2f}"


def receivables(*, tenant: Tenant, as_of: datetime.date | None = None) -> dict:
    """What customers owe on open invoices (sent or partly paid), in the base currency, aged
    by days past due, in total and for the customers who owe most; computed in SQL (one
    aggregate and one ``GROUP BY``), cached under the ``finance`` version. Members who read
    only their own finance rows are shown their own invoices.

    ``as_of`` ages the invoices issued by that date on that date; their balances are the
    current ones (payments and credits recorded since are not taken back).
    """
    organization = tenant.organization
    today = as_of or tenancy.local_today(organization)
    own = view_access(membership=tenant.membership, module="finance") == Access.OWN

    def compute() -> dict:
        """The figures, from the database."""
        rows = Document.objects.filter(
            organization=organization,
            type=Document.Type.INVOICE,
            status__in=(Document.Status.SENT, Document.Status.PARTIAL),
            issue_date__lte=today,
        )
        if own:
            rows = rows.filter(owner_filter(Document, tenant.membership.user_id))
        overdue = Q(due_date__lt=today)
        aggregates = {}
        for index, (_, low, high) in enumerate(AGING_BUCKETS):
            condition = _aged(today, low, high)
            aggregates[f"amount_{index}"] = Sum("base_balance", filter=condition)
            aggregates[f"count_{index}"] = Count("pk", filter=condition)
        totals = rows.aggregate(
            outstanding=Sum("base_balance"),
            invoices=Count("pk"),
            overdue=Sum("base_balance", filter=overdue),
            overdue_invoices=Count("pk", filter=overdue),
            **aggregates,
        )
        customers = (
            rows.values("customer_id", "customer__name")
            .annotate(
                outstanding=Sum("base_balance"),
                overdue=Sum("base_balance", filter=overdue),
                invoices=Count("pk"),
            )
            .order_by("-outstanding", "customer__name")[:RECEIVABLE_CUSTOMERS]
        )
        return {
            "as_of": today.isoformat(),
            "currency": organization.base_currency,
            "outstanding": _money(totals["outstanding"]),
            "invoices": totals["invoices"],
            "overdue": _money(totals["overdue"]),
            "overdue_invoices": totals["overdue_invoices"],
            "buckets": [
                {
                    "name": name,
                    "from_days": low,
                    "to_days": high,
                    "amount": _money(totals[f"amount_{index}"]),
                    "invoices": totals[f"count_{index}"],
                }
                for index, (name, low, high) in enumerate(AGING_BUCKETS)
            ],
            "customers": [
                {
                    "customer": str(row["customer_id"]),
                    "name": row["customer__name"],
                    "outstanding": _money(row["outstanding"]),
                    "overdue": _money(row["overdue"]),
                    "invoices": row["invoices"],
                }
                for row in customers
            ],
        }

    return cached_figures(
        organization=organization,
        name="receivables",
        params={"as_of": today, "owner": tenant.membership.user_id if own else None},
        sources=("finance",),
        compute=compute,
    )


class RecurrenceFilter(django_filters.FilterSet):
    """Filters every recurring schedule has: active or paused, and frequency."""

    active = StrictBooleanFilter()
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)


class RecurringInvoiceFilter(RecurrenceFilter):
    """Recurring invoice filters: also by customer."""

    customer = django_filters.UUIDFilter(field_name="customer_id")

    class Meta:
        model = RecurringInvoice
        fields: list[str] = []


class RecurringEntryFilter(RecurrenceFilter):
    """Recurring entry filters: also by kind and category."""

    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    category = django_filters.UUIDFilter(field_name="category_id")

    class Meta:
        model = RecurringEntry
        fields: list[str] = []


def recurring_invoice_list(*, organization: Organization) -> QuerySet[RecurringInvoice]:
    """The organization's recurring invoices."""
    return RecurringInvoice.objects.filter(organization=organization)


def recurring_entry_list(*, organization: Organization) -> QuerySet[RecurringEntry]:
    """The organization's recurring entries."""
    return RecurringEntry.objects.filter(organization=organization)


def recurring_display(schedules: QuerySet) -> QuerySet:
    """``schedules`` with the names they show (the customer's, the category's)."""
    if schedules.model is RecurringInvoice:
        return schedules.select_related("customer")
    return schedules.select_related("category")
