"""CRM use cases: scoring, qualifying and converting leads; pipelines; moving and closing deals."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core import bulk, versions
from valar.core.errors import Conflict, DomainError
from valar.core.money import fixed_rate, in_base, missing_rate
from valar.core.notify import notify
from valar.core.sequences import formatted, next_numbers
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.crm import scoring
from valar.crm.models import Customer, Deal, DealStageChange, Lead, Pipeline, Stage
from valar.organizations.models import Organization

#: The pipeline every organization starts with: (name, probability, is_won, is_lost).
DEFAULT_STAGES = (
    ("Lead", 10, False, False),
    ("Qualified", 25, False, False),
    ("Proposal", 50, False, False),
    ("Negotiation", 75, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
)
LEAD_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "source",
    "status",
    "estimated_value",
    "assigned_to",
    "team",
    "notes",
]


# --- pipelines ---------------------------------------------------------------------------


@transaction.atomic
def pipeline_create_default(*, organization: Organization, actor=None) -> Pipeline:
    """Give an organization its default pipeline (Lead -> ... -> Won / Lost)."""
    pipeline = Pipeline.objects.create(
        organization=organization, name="Sales", is_default=True, created_by=actor
    )
    Stage.objects.bulk_create(
        [
            Stage(
                organization=organization,
                pipeline=pipeline,
                name=name,
                order=order,
                probability=probability,
                is_won=is_won,
                is_lost=is_lost,
                created_by=actor,
            )
            for order, (name, probability, is_won, is_lost) in enumerate(DEFAULT_STAGES, 1)
        ]
    )
    return pipeline


def _check_stages(stages: list[dict[str, Any]]) -> None:
    """Refuse repeated orders and stages that are both won and lost."""
    orders = [stage["order"] for stage in stages]
    if len(orders) != len(set(orders)):
        raise DomainError("Stage orders must be unique.", errors={"stages": ["Repeated order."]})
    if any(stage.get("is_won") and stage.get("is_lost") for stage in stages):
        raise DomainError(
            "A stage cannot be both won and lost.",
            errors={"stages": ["A stage cannot be both won and lost."]},
        )


def _make_default(pipeline: Pipeline) -> None:
    """Make ``pipeline`` its organization's only default."""
    Pipeline.objects.filter(organization_id=pipeline.organization_id, is_default=True).exclude(
        pk=pipeline.pk
    ).update(is_default=False)


@transaction.atomic
def pipeline_create(*, tenant: Tenant, data: dict[str, Any]) -> Pipeline:
    """Create a pipeline with its ordered stages (at least one)."""
    stages = data.pop("stages", [])
    if not stages:
        raise DomainError("A pipeline needs stages.", errors={"stages": ["Give at least one."]})
    _check_stages(stages)
    if Pipeline.objects.filter(organization=tenant.organization, name=data["name"]).exists():
        raise Conflict("A pipeline with this name exists.", code="duplicate")
    pipeline = Pipeline(organization=tenant.organization, created_by=tenant.membership.user, **data)
    if pipeline.is_default:
        Pipeline.objects.filter(organization=tenant.organization, is_default=True).update(
            is_default=False
        )
    pipeline.save()
    Stage.objects.bulk_create(
        [
            Stage(
                organization=tenant.organization,
                pipeline=pipeline,
                created_by=tenant.membership.user,
                **stage,
            )
            for stage in stages
        ]
    )
    versions.bump(tenant.organization.pk, "crm")
    return pipeline


@transaction.atomic
def pipeline_update(*, pipeline: Pipeline, data: dict[str, Any]) -> Pipeline:
    """Rename a pipeline or make it the default (the previous default stops being one)."""
    data = {key: value for key, value in data.items() if key != "stages"}
    if "name" in data and (
        Pipeline.objects.filter(organization_id=pipeline.organization_id, name=data["name"])
        .exclude(pk=pipeline.pk)
        .exists()
    ):
        raise Conflict("A pipeline with this name exists.", code="duplicate")
    if data.get("is_default") is False and pipeline.is_default:
        raise Conflict("Make another pipeline the default instead.", code="default_required")
    if data.get("is_default"):
        _make_default(pipeline)
    pipeline, _ = model_update(instance=pipeline, fields=["name", "is_default"], data=data)
    return pipeline


def pipeline_delete(*, pipeline: Pipeline) -> None:
    """Delete a pipeline that is not the default and has no deals."""
    if pipeline.is_default:
        raise Conflict("The default pipeline cannot be deleted.", code="default_required")
    if pipeline.deals.exists():
        raise Conflict("The pipeline has deals.", code="in_use")
    pipeline.delete()


def _check_stage_fields(*, pipeline: Pipeline, stage: Stage | None, data: dict[str, Any]) -> None:
    """A stage is not both won and lost, and its order is unique in its pipeline."""
    is_won = data.get("is_won", getattr(stage, "is_won", False))
    is_lost = data.get("is_lost", getattr(stage, "is_lost", False))
    if is_won and is_lost:
        raise DomainError(
            "A stage cannot be won and lost.",
            errors={"is_lost": ["A stage cannot be won and lost."]},
        )
    order = data.get("order", getattr(stage, "order", None))
    taken = Stage.objects.filter(pipeline=pipeline, order=order)
    if stage is not None:
        taken = taken.exclude(pk=stage.pk)
    if taken.exists():
        raise Conflict(
            "Another stage has this order.",
            code="duplicate",
            errors={"order": ["Another stage has this order."]},
        )


def stage_create(*, tenant: Tenant, data: dict[str, Any]) -> Stage:
    """Add a stage to a pipeline."""
    _check_stage_fields(pipeline=data["pipeline"], stage=None, data=data)
    return Stage.objects.create(
        organization=tenant.organization, created_by=tenant.membership.user, **data
    )


@transaction.atomic
def stage_update(*, stage: Stage, data: dict[str, Any]) -> Stage:
    """Change a stage; a stage holding deals keeps its pipeline and its won/lost meaning."""
    if "pipeline" in data and data["pipeline"].pk != stage.pipeline_id:
        raise DomainError(
            "A stage cannot move to another pipeline.",
            errors={"pipeline": ["A stage cannot move to another pipeline."]},
        )
    _check_stage_fields(pipeline=stage.pipeline, stage=stage, data=data)
    meaning_changes = any(
        key in data and data[key] != getattr(stage, key) for key in ("is_won", "is_lost")
    )
    if meaning_changes and stage.deals.exists():
        raise Conflict("Deals are in this stage; its won/lost flags stay.", code="in_use")
    stage, _ = model_update(
        instance=stage, fields=["name", "order", "probability", "is_won", "is_lost"], data=data
    )
    return stage


CUSTOMER_HAS_DEALS = "The customer has deals."
#: The counter (``core.sequences``) and the prefix of customer codes.
CUSTOMER_SEQUENCE, CUSTOMER_PREFIX = "customer", "CUST"


def customer_codes(organization_id, count: int) -> list[str]:
    """The organization's next ``count`` customer codes (``CUST-0001``...), in one statement.

    Gap-free and never reused (a deleted customer's code is not given again): call it inside
    the transaction that saves the customers, so a rollback gives the numbers back.
    """
    numbers = next_numbers(organization_id, CUSTOMER_SEQUENCE, count)
    return [formatted(CUSTOMER_PREFIX, number) for number in numbers]


@transaction.atomic
def customer_create(*, organization: Organization, created_by=None, **fields) -> Customer:
    """Create a customer with the organization's next code (every single create goes here)."""
    customer = Customer(organization=organization, created_by=created_by, **fields)
    customer.code = customer_codes(organization.pk, 1)[0]
    customer.save()
    return customer


def customers_with_deals(customer_ids) -> set:
    """Which of the customers have deals (and so cannot be deleted), in one query."""
    return set(
        Deal.objects.filter(customer_id__in=customer_ids)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer that has no deals (409 otherwise); its code is never given again."""
    if customers_with_deals([customer.pk]):
        raise Conflict(CUSTOMER_HAS_DEALS, code="in_use")
    customer.delete()


class CustomerWriter(bulk.Writer):
    """Bulk writes of customers: the serializer's fields, a code for each new one (numbered
    as they are written); one with deals is not deleted."""

    model = Customer

    def refuse_deletes(self, *, tenant: Tenant, instances: list[Customer]) -> dict:
        """The customers that have deals (one query), as :func:`customer_delete` refuses."""
        used = customers_with_deals([customer.pk for customer in instances])
        return {pk: CUSTOMER_HAS_DEALS for pk in used}

    def numbered(self, *, tenant: Tenant, created: list[Customer]) -> None:
        """The new customers' codes, in the order of the request (one statement)."""
        codes = customer_codes(tenant.organization.pk, len(created))
        for customer, code in zip(created, codes, strict=True):
            customer.code = code


def stage_delete(*, stage: Stage) -> None:
    """Delete a stage no deal is in."""
    if stage.deals.exists():
        raise Conflict("Deals are in this stage.", code="in_use")
    stage.delete()


# --- leads -------------------------------------------------------------------------------


def _scored(lead: Lead, organization: Organization) -> Lead:
    """Set the lead's score from the organization's weights."""
    lead.score = scoring.score(lead, scoring.weights_of(organization.settings))
    return lead


#: Statuses a client sets directly; the others come from qualify, disqualify and convert.
DIRECT_STATUSES = (Lead.Status.NEW, Lead.Status.CONTACTED)


def _check_direct_status(current: str | None, wanted: str | None) -> None:
    """Refuse setting a status that only the lead's actions set."""
    if wanted is not None and wanted != current and wanted not in DIRECT_STATUSES:
        raise DomainError(
            "Use qualify/, disqualify/ or convert/ for this status.",
            errors={"status": ["Use qualify/, disqualify/ or convert/ for this status."]},
        )


def lead_build(*, tenant: Tenant, data: dict[str, Any]) -> Lead:
    """A new scored lead (as new or contacted), unsaved."""
    _check_direct_status(None, data.get("status"))
    lead = Lead(organization=tenant.organization, created_by=tenant.membership.user, **data)
    return _scored(lead, tenant.organization)


def lead_create(*, tenant: Tenant, data: dict[str, Any]) -> Lead:
    """Create a scored lead (as new or contacted)."""
    lead = lead_build(tenant=tenant, data=data)
    lead.save()
    return lead


@transaction.atomic
def lead_update(*, tenant: Tenant, lead: Lead, data: dict[str, Any]) -> Lead:
    """Change a lead and score it again; a converted lead keeps its status.

    The row is re-read under a lock, so a stale edit cannot undo a conversion that committed
    in between.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    lead_change(tenant=tenant, lead=lead, data=data)
    lead.save()
    return lead


def lead_change(*, tenant: Tenant, lead: Lead, data: dict[str, Any]) -> Lead:
    """Apply a change to a lead (loaded under a lock) and score it again, unsaved.

    A converted lead keeps its status; the statuses of qualify/, disqualify/ and convert/ are
    set only by them.
    """
    _check_direct_status(lead.status, data.get("status"))
    if lead.status == Lead.Status.CONVERTED and data.get("status", lead.status) != lead.status:
        raise Conflict("A converted lead keeps its status.", code="already_converted")
    for field in LEAD_FIELDS:
        if field in data:
            setattr(lead, field, data[field])
    if data.get("status") in (Lead.Status.NEW, Lead.Status.CONTACTED):
        lead.disqualification_reason = ""
    return _scored(lead, tenant.organization)


class LeadWriter(bulk.Writer):
    """Bulk writes of leads, by the rules of :func:`lead_create` and :func:`lead_update`.

    The bulk service loads the leads it changes under a lock, as :func:`lead_update` does.
    """

    model = Lead

    def build(self, *, tenant: Tenant, data: dict[str, Any]) -> Lead:
        """A new scored lead."""
        return lead_build(tenant=tenant, data=data)

    def change(self, *, tenant: Tenant, instance: Lead, data: dict[str, Any]) -> None:
        """A change, scored again."""
        lead_change(tenant=tenant, lead=instance, data=data)


def _check_open(lead: Lead) -> None:
    """Refuse changing the outcome of a converted lead."""
    if lead.status == Lead.Status.CONVERTED:
        raise Conflict("The lead is already converted.", code="already_converted")


@transaction.atomic
def lead_qualify(*, lead: Lead) -> Lead:
    """Mark a lead qualified (409 when converted or already qualified)."""
    _check_open(lead)
    if lead.status == Lead.Status.QUALIFIED:
        raise Conflict("The lead is already qualified.", code="already_qualified")
    lead.status = Lead.Status.QUALIFIED
    lead.disqualification_reason = ""
    lead.save(update_fields=["status", "disqualification_reason", "updated_at"])
    audit_record(action="lead.qualify", organization_id=lead.organization_id, instance=lead)
    return lead


@transaction.atomic
def lead_disqualify(*, lead: Lead, reason: str) -> Lead:
    """Mark a lead unqualified with a reason (409 when converted or already unqualified)."""
    _check_open(lead)
    if lead.status == Lead.Status.UNQUALIFIED:
        raise Conflict("The lead is already unqualified.", code="already_unqualified")
    lead.status = Lead.Status.UNQUALIFIED
    lead.disqualification_reason = reason
    lead.save(update_fields=["status", "disqualification_reason", "updated_at"])
    audit_record(
        action="lead.disqualify",
        organization_id=lead.organization_id,
        instance=lead,
        changes={"reason": reason},
    )
    return lead


@transaction.atomic
def lead_convert(
    *,
    tenant: Tenant,
    lead: Lead,
    create_deal: bool = False,
    deal_value: Decimal | None = None,
    deal_title: str = "",
) -> tuple[Customer, Deal | None]:
    """Turn a lead into a customer (and an open deal), all or nothing.

    409 when the lead is converted already or was disqualified.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _check_open(lead)
    if lead.status == Lead.Status.UNQUALIFIED:
        raise Conflict("An unqualified lead cannot be converted.", code="unqualified")
    customer = customer_create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        name=lead.company or str(lead),
        email=lead.email,
        phone=lead.phone,
        company=lead.company,
        status=Customer.Status.ACTIVE,
        assigned_to=lead.assigned_to,
        source_lead=lead,
    )
    deal = None
    if create_deal:
        deal = deal_create(
            tenant=tenant,
            data={
                "title": deal_title or f"{customer.name}: first deal",
                "customer": customer,
                "value": deal_value if deal_value is not None else Decimal("0"),
                "assigned_to": lead.assigned_to,
                "team": lead.team,
            },
        )
    lead.status = Lead.Status.CONVERTED
    lead.converted_customer = customer
    lead.converted_at = timezone.now()
    lead.save(update_fields=["status", "converted_customer", "converted_at", "updated_at"])
    audit_record(action="lead.convert", organization_id=lead.organization_id, instance=lead)
    return customer, deal


def leads_rescore(*, organization: Organization) -> int:
    """Score every open lead of the organization again in one UPDATE; return how many."""
    weights = scoring.weights_of(organization.settings)
    updated = Lead.objects.filter(organization=organization, status__in=Lead.OPEN).update(
        score=scoring.score_expression(weights)
    )
    versions.bump(organization.pk, "crm")
    return updated


# --- deals -------------------------------------------------------------------------------


def _record_stage(deal: Deal, from_stage: Stage | None, actor) -> None:
    """Remember that the deal entered its current stage."""
    DealStageChange.objects.create(
        organization_id=deal.organization_id,
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        created_by=actor,
    )


def _check_stage(pipeline: Pipeline, stage: Stage) -> None:
    """Refuse a stage of another pipeline."""
    if stage.pipeline_id != pipeline.pk:
        raise DomainError(
            "The stage is not in the deal's pipeline.",
            errors={"stage": ["The stage is not in the deal's pipeline."]},
        )


def _fix_base_value(deal: Deal, base_currency: str) -> Deal:
    """Fix the deal's value in the base currency at its rate (400 naming the base currency when
    a deal in another currency has none), as a ledger entry's amount is fixed."""
    rate = fixed_rate(
        currency=deal.currency, exchange_rate=deal.exchange_rate, base_currency=base_currency
    )
    if rate is None:
        message = missing_rate(base_currency=base_currency, what="a deal", currency=deal.currency)
        raise DomainError(message, errors={"exchange_rate": [message]})
    deal.exchange_rate = rate
    deal.base_value = in_base(deal.value, rate, field="value")
    return deal


@transaction.atomic
def deal_create(*, tenant: Tenant, data: dict[str, Any]) -> Deal:
    """Create a deal: default pipeline, its first stage, the stage's probability, base currency."""
    organization = tenant.organization
    pipeline = (
        data.get("pipeline")
        or Pipeline.objects.filter(organization=organization, is_default=True).first()
    )
    if pipeline is None:
        raise DomainError("The organization has no pipeline.", errors={"pipeline": ["Required."]})
    stage = data.get("stage") or pipeline.stages.filter(is_won=False, is_lost=False).first()
    if stage is None:
        raise DomainError("The pipeline has no open stage.", errors={"stage": ["Required."]})
    _check_stage(pipeline, stage)
    deal = Deal(
        organization=organization,
        created_by=tenant.membership.user,
        **{
            **data,
            "pipeline": pipeline,
            "stage": stage,
            "currency": data.get("currency") or organization.base_currency,
            "exchange_rate": data.get("exchange_rate"),  # not the column's default of 1
            "probability": data.get("probability", stage.probability),
        },
    )
    _fix_base_value(deal, organization.base_currency)
    deal.save()
    _record_stage(deal, None, tenant.membership.user)
    if stage.is_won or stage.is_lost:
        # Created closed: the same close as `win/`/`lose/` (audited and notified alike).
        deal = _close(tenant, deal, won=stage.is_won, stage=stage)
    return deal


def _check_not_closed(deal: Deal) -> None:
    """Refuse changing the outcome of a closed deal."""
    if deal.status != Deal.Status.OPEN:
        raise Conflict(f"The deal is already {deal.status}.", code="already_closed")


@transaction.atomic
def deal_update(*, tenant: Tenant, deal: Deal, data: dict[str, Any]) -> Deal:
    """Change a deal; a new stage must be in its (possibly new) pipeline and is recorded."""
    previous_stage = deal.stage
    pipeline = data.get("pipeline", deal.pipeline)
    stage = data.get("stage", deal.stage if pipeline.pk == deal.pipeline_id else None)
    if stage is None:
        raise DomainError(
            "Give a stage of the new pipeline.", errors={"stage": ["Required with a pipeline."]}
        )
    _check_stage(pipeline, stage)
    closing = stage.pk != previous_stage.pk and (stage.is_won or stage.is_lost)
    if stage.pk != previous_stage.pk:
        _check_not_closed(deal)
    priced = Deal(
        currency=data.get("currency", deal.currency),
        value=data.get("value", deal.value),
        exchange_rate=data.get("exchange_rate", deal.exchange_rate),
    )
    if "currency" in data and "exchange_rate" not in data and priced.currency != deal.currency:
        priced.exchange_rate = None  # a new currency needs its own rate
    _fix_base_value(priced, tenant.organization.base_currency)
    if closing:
        # Into a won or lost stage: the other fields first, then the close itself, exactly as
        # `win/` or `lose/` does it (audited and notified alike).
        stage = previous_stage
    deal, changed = model_update(
        instance=deal,
        fields=[
            "title",
            "customer",
            "value",
            "currency",
            "exchange_rate",
            "base_value",
            "pipeline",
            "stage",
            "probability",
            "expected_close_date",
            "assigned_to",
            "team",
            "status",
            "closed_at",
        ],
        data={
            **data,
            "exchange_rate": priced.exchange_rate,
            "base_value": priced.base_value,
            "pipeline": pipeline,
            "stage": stage,
            "status": deal.status,
            "closed_at": deal.closed_at,
        },
    )
    if "stage" in changed:
        _record_stage(deal, previous_stage, tenant.membership.user)
    if closing:
        target = data["stage"]
        deal = _close(tenant, deal, won=target.is_won, stage=target)
    return deal


@transaction.atomic
def deal_move_stage(*, tenant: Tenant, deal: Deal, stage: Stage) -> Deal:
    """Move an open deal to another stage of its pipeline (recorded; probability follows)."""
    _check_not_closed(deal)
    _check_stage(deal.pipeline, stage)
    if stage.pk == deal.stage_id:
        raise Conflict("The deal is already in this stage.", code="same_stage")
    if stage.is_won or stage.is_lost:
        return _close(tenant, deal, won=stage.is_won, stage=stage)
    previous = deal.stage
    deal.stage, deal.probability = stage, stage.probability
    deal.save(update_fields=["stage", "probability", "updated_at"])
    _record_stage(deal, previous, tenant.membership.user)
    return deal


def _close(
    tenant: Tenant,
    deal: Deal,
    *,
    won: bool,
    reason: str = "",
    stage: Stage | None = None,
    exchange_rate: Decimal | None = None,
) -> Deal:
    """Close a deal as won or lost, moving it to ``stage`` or the pipeline's matching stage.

    The one path to a closed deal (``win/``, ``lose/``, ``move-stage/``, a change of stage
    into a won or lost one, or a deal created in one): audited as ``deal.win`` /
    ``deal.lose``; a win notifies the deal's owner and creator (but not whoever closed it).
    A win fixes the base value again, at ``exchange_rate`` when given (else the deal's rate).
    """
    _check_not_closed(deal)
    previous = deal.stage
    if stage is None:
        stage = deal.pipeline.stages.filter(**{"is_won" if won else "is_lost": True}).first()
    if won:
        if exchange_rate is not None:
            deal.exchange_rate = exchange_rate
        _fix_base_value(deal, tenant.organization.base_currency)
    deal.status = Deal.Status.WON if won else Deal.Status.LOST
    deal.closed_at = timezone.now()
    deal.lost_reason = "" if won else reason
    deal.probability = 100 if won else 0
    if stage is not None:
        deal.stage = stage
    deal.save()
    if stage is not None and stage.pk != previous.pk:
        _record_stage(deal, previous, tenant.membership.user)
    audit_record(
        action="deal.win" if won else "deal.lose",
        organization_id=deal.organization_id,
        instance=deal,
        changes={"reason": reason} if reason else {},
    )
    if won:
        actor = tenant.membership.user
        notify(
            organization=tenant.organization,
            recipients={deal.assigned_to_id, deal.created_by_id} - {actor.pk},
            title=f"Deal won: {deal.title}"[:200],
            body=f"{actor.full_name} closed this deal as won ({deal.value} {deal.currency}).",
            link=f"/api/v1/crm/deals/{deal.pk}/",
            level="success",
            kind="crm",
            actor=actor,
        )
    return deal


@transaction.atomic
def deal_win(*, tenant: Tenant, deal: Deal, exchange_rate: Decimal | None = None) -> Deal:
    """Close a deal as won (409 when closed), its base value fixed again (at a new rate)."""
    return _close(tenant, deal, won=True, exchange_rate=exchange_rate)


@transaction.atomic
def deal_lose(*, tenant: Tenant, deal: Deal, reason: str) -> Deal:
    """Close a deal as lost with a reason (409 when closed)."""
    return _close(tenant, deal, won=False, reason=reason)
