"""CRM reads: scoped lists with what they show, and the sales figures, all in SQL."""

import datetime
from decimal import Decimal

import django_filters
from django.db.models import (
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from valar.core.filters import DateRangeFilterSet, IntegerFilter, MoneyFilter, UserRefFilter
from valar.core.limits import MAX_DATE, MIN_DATE
from valar.core.metrics import run_for
from valar.core.policy import Access, view_access, visible_rows
from valar.core.tenancy import Tenant
from valar.crm.models import Customer, Deal, DealStageChange, Lead, Pipeline, Stage, Vendor
from valar.finance.models import Document, LedgerEntry, Payment
from valar.organizations.models import Organization
from valar.support.models import Chat

MONEY_OUTPUT = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY_OUTPUT)
#: A customer's deals of one status, their base values summed (0 without any), correlated to
#: the customer row of the list's statement (``crm_customer`` is its unaliased base table).
DEALS_VALUE_SQL = (
    f'SELECT COALESCE(SUM(d."base_value"), 0) FROM "{Deal._meta.db_table}" d '
    f'WHERE d."customer_id" = "{Customer._meta.db_table}"."id" AND d."status" = %s'
)


class AssignedToFilterMixin(django_filters.FilterSet):
    """``assigned_to`` by user id, or ``me`` for the caller."""

    assigned_to = UserRefFilter(field_name="assigned_to")


class LeadFilter(AssignedToFilterMixin, DateRangeFilterSet):
    """Lead filters; ``start_date``/``end_date`` apply to when the lead was created."""

    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices, distinct=False)
    source = django_filters.MultipleChoiceFilter(choices=Lead.Source.choices, distinct=False)
    team = django_filters.UUIDFilter(field_name="team_id")
    min_score = IntegerFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = Lead
        fields: list[str] = []


class CustomerFilter(AssignedToFilterMixin, DateRangeFilterSet):
    """Customer filters; ``code`` is exact (any case)."""

    status = django_filters.MultipleChoiceFilter(choices=Customer.Status.choices, distinct=False)
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact", max_length=20)

    class Meta:
        model = Customer
        fields: list[str] = []


class DealFilter(AssignedToFilterMixin, DateRangeFilterSet):
    """Deal filters; ``start_date``/``end_date`` apply to the expected close date."""

    date_field = "expected_close_date"
    status = django_filters.MultipleChoiceFilter(choices=Deal.Status.choices, distinct=False)
    stage = django_filters.UUIDFilter(field_name="stage_id")
    pipeline = django_filters.UUIDFilter(field_name="pipeline_id")
    customer = django_filters.UUIDFilter(field_name="customer_id")
    team = django_filters.UUIDFilter(field_name="team_id")
    min_value = MoneyFilter(field_name="value", lookup_expr="gte")
    max_value = MoneyFilter(field_name="value", lookup_expr="lte")

    class Meta:
        model = Deal
        fields: list[str] = []


class StageFilter(django_filters.FilterSet):
    """Stage filters."""

    pipeline = django_filters.UUIDFilter(field_name="pipeline_id")

    class Meta:
        model = Stage
        fields: list[str] = []


class VendorFilter(DateRangeFilterSet):
    """Vendor filters."""

    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")

    class Meta:
        model = Vendor
        fields: list[str] = []


def lead_list(*, organization: Organization) -> QuerySet[Lead]:
    """The organization's leads."""
    return Lead.objects.filter(organization=organization)


def customer_list(*, organization: Organization) -> QuerySet[Customer]:
    """The organization's customers by name (:func:`customer_display` adds their figures)."""
    return Customer.objects.filter(organization=organization).order_by("name")


def customer_display(
    customers: QuerySet[Customer], *, organization: Organization
) -> QuerySet[Customer]:
    """``customers`` with their open and won deal values in the base currency.

    Correlated subqueries, added after the list is counted: they run for the page's rows only.
    They are written as SQL once (the same statement the ORM's ``Subquery`` + ``Sum`` made):
    building and compiling two ORM subqueries cost more per request than the database's work.
    """
    return customers.annotate(
        open_deals_value=RawSQL(DEALS_VALUE_SQL, (Deal.Status.OPEN,), MONEY_OUTPUT),
        won_deals_value=RawSQL(DEALS_VALUE_SQL, (Deal.Status.WON,), MONEY_OUTPUT),
    )


def pipeline_list(*, organization: Organization) -> QuerySet[Pipeline]:
    """The organization's pipelines (:func:`pipeline_display` brings their stages)."""
    return Pipeline.objects.filter(organization=organization)


def pipeline_display(pipelines: QuerySet[Pipeline]) -> QuerySet[Pipeline]:
    """``pipelines`` with their stages, in one more query for the page."""
    return pipelines.prefetch_related("stages")


def stage_list(*, organization: Organization) -> QuerySet[Stage]:
    """The organization's stages, by pipeline and order."""
    return Stage.objects.filter(organization=organization).order_by("pipeline_id", "order")


def deal_list(*, organization: Organization) -> QuerySet[Deal]:
    """The organization's deals (:func:`deal_display` adds the names they show)."""
    return Deal.objects.filter(organization=organization)


def deal_display(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """``deals`` with their customer, pipeline and stage names (and the stage's order)."""
    return deals.annotate(
        customer_name=F("customer__name"),
        stage_name=F("stage__name"),
        stage_order=F("stage__order"),
        pipeline_name=F("pipeline__name"),
    )


def deal_history(*, deal: Deal) -> QuerySet[DealStageChange]:
    """The deal's stage changes, oldest first, with the stages' names."""
    return (
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "created_by")
        .order_by("created_at")
    )


def vendor_list(*, organization: Organization) -> QuerySet[Vendor]:
    """The organization's vendors."""
    return Vendor.objects.filter(organization=organization)


# --- figures for insights ---------------------------------------------------------------


def _period(start: datetime.date, end: datetime.date) -> Q:
    """Rows created in the inclusive date range (server time zone)."""
    lower = DateRangeFilterSet._day_start(start)
    upper = DateRangeFilterSet._day_start(end + datetime.timedelta(days=1))
    return Q(created_at__gte=lower, created_at__lt=upper)


def lead_figures(
    *, organization: Organization, start_date: datetime.date, end_date: datetime.date
) -> dict:
    """Leads created in the period: total, converted, conversion rate, by source and status."""
    leads = Lead.objects.filter(_period(start_date, end_date), organization=organization)
    totals = leads.aggregate(
        total=Count("pk"), converted=Count("pk", filter=Q(status=Lead.Status.CONVERTED))
    )
    by_source = {row["source"]: row["n"] for row in leads.values("source").annotate(n=Count("pk"))}
    by_status = {row["status"]: row["n"] for row in leads.values("status").annotate(n=Count("pk"))}
    total, converted = totals["total"], totals["converted"]
    return {
        "total": total,
        "converted": converted,
        "conversion_rate": converted / total if total else None,
        "by_source": by_source,
        "by_status": by_status,
    }


def deal_figures(
    *, organization: Organization, start_date: datetime.date, end_date: datetime.date
) -> dict:
    """Deals closed in the period (win rate, won value) and the open pipeline now.

    Values are the deals' base values (every deal, in the organization's base currency).
    """
    base = Deal.objects.filter(organization=organization)
    lower = DateRangeFilterSet._day_start(start_date)
    upper = DateRangeFilterSet._day_start(end_date + datetime.timedelta(days=1))
    closed = base.filter(closed_at__gte=lower, closed_at__lt=upper)
    closed_totals = closed.aggregate(
        won=Count("pk", filter=Q(status=Deal.Status.WON)),
        lost=Count("pk", filter=Q(status=Deal.Status.LOST)),
        won_value=Coalesce(Sum("base_value", filter=Q(status=Deal.Status.WON)), ZERO),
    )
    open_totals = base.filter(status=Deal.Status.OPEN).aggregate(
        open=Count("pk"),
        pipeline_value=Coalesce(Sum("base_value"), ZERO),
        weighted_cents=Sum(F("base_value") * F("probability"), output_field=DecimalField()),
    )
    decided = closed_totals["won"] + closed_totals["lost"]
    weighted = _percent_of(open_totals.pop("weighted_cents"))
    return {
        **closed_totals,
        **open_totals,
        "weighted_value": weighted,
        "win_rate": closed_totals["won"] / decided if decided else None,
    }


def _percent_of(value_times_percent) -> Decimal:
    """``sum(value * probability) / 100`` to the cent (divided here, exactly, on any database)."""
    return (Decimal(value_times_percent or 0) / 100).quantize(Decimal("0.01"))


def pipeline_value_by_stage(*, organization: Organization, pipeline: Pipeline) -> list[dict]:
    """Open deals of a pipeline per stage: count, value, value weighted by probability."""
    deals = Deal.objects.filter(
        organization=organization,
        pipeline=pipeline,
        status=Deal.Status.OPEN,
        stage=OuterRef("pk"),
    )

    def aggregate(expression):
        return Subquery(deals.values("stage").annotate(result=expression).values("result")[:1])

    rows = (
        Stage.objects.filter(organization=organization, pipeline=pipeline)
        .order_by("order")
        .annotate(
            deal_count=Coalesce(aggregate(Count("pk")), 0),
            value=Coalesce(aggregate(Sum("base_value")), ZERO),
            weighted=aggregate(
                Sum(F("base_value") * F("probability"), output_field=DecimalField())
            ),
        )
        .values("id", "name", "order", "deal_count", "value", "weighted")
    )
    return [{**row, "weighted": _percent_of(row["weighted"])} for row in rows]


def funnel(*, organization: Organization, pipeline: Pipeline) -> list[dict]:
    """The sales funnel: deals (any status) that ever reached each stage, count and value.

    A deal that entered a stage twice counts once there, with its value once.
    """
    reached = Deal.objects.filter(
        organization=organization,
        pipeline=pipeline,
        pk__in=DealStageChange.objects.filter(to_stage=OuterRef(OuterRef("pk"))).values("deal_id"),
    )

    def aggregate(expression):
        return Subquery(reached.values("pipeline").annotate(result=expression).values("result")[:1])

    rows = (
        Stage.objects.filter(organization=organization, pipeline=pipeline)
        .order_by("order")
        .annotate(
            reached=Coalesce(aggregate(Count("pk")), 0),
            value=Coalesce(aggregate(Sum("base_value")), ZERO),
        )
        .values("id", "name", "order", "reached", "value")
    )
    return [
        {**{key: value for key, value in row.items() if key != "reached"}, "deals": row["reached"]}
        for row in rows
    ]


def won_value_by(
    *,
    organization: Organization,
    group_by: str,
    start_date: datetime.date,
    end_date: datetime.date,
) -> list[dict]:
    """Value of deals won in the period per ``assigned_to`` or ``team`` (base currency)."""
    if group_by not in ("assigned_to", "team"):
        raise ValueError("group_by must be 'assigned_to' or 'team'")
    lower = DateRangeFilterSet._day_start(start_date)
    upper = DateRangeFilterSet._day_start(end_date + datetime.timedelta(days=1))
    return list(
        Deal.objects.filter(
            organization=organization,
            status=Deal.Status.WON,
            closed_at__gte=lower,
            closed_at__lt=upper,
            **{f"{group_by}__isnull": False},
        )
        .values(group_by)
        .annotate(deals=Count("pk"), value=Sum("base_value"))
        .order_by("-value", group_by)
    )


# --- customer figures -------------------------------------------------------------------


def customer_stats(
    *,
    tenant: Tenant,
    start_date: datetime.date,
    end_date: datetime.date,
    interval: str | None = "month",
) -> dict:
    """The customers the caller may see, by status now, and those new in the period.

    Two cached queries of the metrics engine's ``customers`` source (``run_for``: a member
    whose crm ``view`` is ``own`` counts only the customers they created or are assigned to):
    every customer grouped by status, and the customers created in ``start_date``..
    ``end_date`` bucketed by ``interval``.
    """
    base = {"source": "customers", "measure": "count"}
    everyone = run_for(
        tenant=tenant,
        spec={**base, "start_date": MIN_DATE, "end_date": MAX_DATE, "group_by": "status"},
    )
    counted = {line["key"]: everyone["totals"][line["name"]] for line in everyone["series"]}
    by_status = {status: counted.get(status, 0) for status in Customer.Status.values}
    new = run_for(
        tenant=tenant,
        spec={**base, "start_date": start_date, "end_date": end_date, "interval": interval},
    )
    return {
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "interval": interval,
        "total": sum(by_status.values()),
        "by_status": by_status,
        "new_customers": new["totals"]["customers"],
        "labels": new["labels"],
        "series": [{**new["series"][0], "name": "new_customers"}],
    }


def customer_figures(*, tenant: Tenant, customer: Customer) -> dict:
    """One customer's deals won (count, value), open deals, invoice figures and last activity.

    One aggregate query per module the caller reads (``visible_rows``): the customer's deals
    (crm); with ``finance``, its issued invoices and credit notes (invoiced, credited,
    outstanding), the payments of its invoices (paid, from their ledger entries, so it agrees
    with the ledger) and its ledger entries; with ``support``, its chats. Money is in the base
    currency; the invoice figures are ``null`` for a member without ``finance``.
    ``last_activity`` is the newest ``updated_at`` of all of them.
    """
    membership = tenant.membership
    won = Q(status=Deal.Status.WON)
    deals = visible_rows(
        Deal.objects.filter(customer=customer), membership=membership, module="crm"
    ).aggregate(
        deals_won=Count("pk", filter=won),
        won_value=Coalesce(Sum("base_value", filter=won), ZERO),
        open_deals=Count("pk", filter=Q(status=Deal.Status.OPEN)),
        last=Max("updated_at"),
    )
    latest = [deals.pop("last")]
    money = {"invoiced": None, "credited": None, "paid": None, "outstanding": None}
    if view_access(membership=membership, module="finance") != Access.NONE:
        money, last = _invoice_figures(tenant=tenant, customer=customer)
        latest.append(last)
    for model, module in ((LedgerEntry, "finance"), (Chat, "support")):
        rows = visible_rows(
            model.objects.filter(organization=tenant.organization, customer=customer),
            membership=membership,
            module=module,
        )
        latest.append(rows.aggregate(last=Max("updated_at"))["last"])
    known = [moment for moment in latest if moment is not None]
    return {
        "id": str(customer.pk),
        "code": customer.code,
        "currency": tenant.organization.base_currency,
        **deals,
        "won_value": f"{deals['won_value']:.2f}",
        **{key: None if value is None else f"{value:.2f}" for key, value in money.items()},
        "last_activity": max(known) if known else None,
    }


def _invoice_figures(*, tenant: Tenant, customer: Customer) -> tuple[dict, object]:
    """The customer's invoiced, credited, paid and outstanding amounts (base currency), and
    the newest change to its documents; two queries over what the caller reads in finance."""
    membership = tenant.membership
    issued = ~Q(status__in=(Document.Status.DRAFT, Document.Status.CANCELLED))
    invoice = Q(type=Document.Type.INVOICE)
    documents = visible_rows(
        Document.objects.filter(organization=tenant.organization, customer=customer),
        membership=membership,
        module="finance",
    ).aggregate(
        invoiced=Coalesce(Sum("base_total", filter=issued & invoice), ZERO),
        credited=Coalesce(
            Sum(-F("base_total"), filter=issued & Q(type=Document.Type.CREDIT_NOTE)), ZERO
        ),
        outstanding=Coalesce(Sum("base_balance", filter=invoice & issued), ZERO),
        last=Max("updated_at"),
    )
    paid = visible_rows(
        Payment.objects.filter(organization=tenant.organization, invoice__customer=customer),
        membership=membership,
        module="finance",
    ).aggregate(paid=Coalesce(Sum("entry__base_amount"), ZERO))["paid"]
    last = documents.pop("last")
    return {**documents, "paid": paid}, last
