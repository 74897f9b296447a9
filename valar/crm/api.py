"""CRM endpoints under ``/api/v1/crm/``: leads, customers, pipelines, stages, deals, vendors."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.accounts.models import User
from valar.core import bulk
from valar.core.bulk_api import BulkMixin
from valar.core.metrics.documents import MoneyOutField, SeriesSerializer
from valar.core.metrics.engine import INTERVALS
from valar.core.serializers import (
    CurrencyField,
    MoneyField,
    PeriodSerializer,
    RateField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    TenantRelatedField,
)
from valar.core.viewsets import ExportMixin, RowListMixin, TenantViewSet
from valar.crm import selectors, services
from valar.crm.models import Customer, Deal, DealStageChange, Lead, Pipeline, Stage, Vendor
from valar.organizations.models import Team

SEARCH_HELP = "Searches the resource's text fields."


def _member_field(**kwargs) -> TenantRelatedField:
    """A member of the caller's organization, by id."""
    return TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        required=False,
        allow_null=True,
        **kwargs,
    )


def _team_field() -> TenantRelatedField:
    """A team of the caller's organization, by id."""
    return TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)


class LeadSerializer(serializers.ModelSerializer):
    """A lead; ``score`` is computed from the organization's weights."""

    estimated_value = MoneyField(required=False, allow_null=True)
    assigned_to = _member_field()
    team = _team_field()

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "source",
            "status",
            "estimated_value",
            "score",
            "assigned_to",
            "team",
            "notes",
            "disqualification_reason",
            "converted_customer",
            "converted_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "score",
            "disqualification_reason",
            "converted_customer",
            "converted_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class DisqualifySerializer(serializers.Serializer):
    """Input of ``leads/{id}/disqualify/``."""

    reason = StrictCharField(max_length=500)


class ConvertSerializer(serializers.Serializer):
    """Input of ``leads/{id}/convert/``."""

    create_deal = StrictBooleanField(default=False)
    value = MoneyField(required=False, allow_null=True)
    title = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class CustomerSerializer(serializers.ModelSerializer):
    """A customer, with its code and its open and won deal values (base currency)."""

    code = StrictCharField(
        read_only=True, help_text="CUST-0001...: given on create, gap-free, never reused."
    )
    assigned_to = _member_field()
    open_deals_value = MoneyField(read_only=True)
    won_deals_value = MoneyField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "email",
            "phone",
            "company",
            "address",
            "tax_number",
            "status",
            "assigned_to",
            "source_lead",
            "open_deals_value",
            "won_deals_value",
            "watchlist_flagged",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "source_lead",
            "watchlist_flagged",
            "created_by",
            "created_at",
            "updated_at",
        ]


class CustomerStatsQuerySerializer(PeriodSerializer):
    """Query parameters of ``customers/stats/``: the period and the series' interval."""

    interval = serializers.ChoiceField(choices=list(INTERVALS), default="month")


class CustomerStatusCountsSerializer(serializers.Serializer):
    """Customers by their status now."""

    active = serializers.IntegerField(min_value=0)
    inactive = serializers.IntegerField(min_value=0)
    prospect = serializers.IntegerField(min_value=0)
    vip = serializers.IntegerField(min_value=0)


class CustomerStatsSerializer(serializers.Serializer):
    """``customers/stats/``: customers by status, and the new ones of the period."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    interval = serializers.ChoiceField(choices=list(INTERVALS))
    total = serializers.IntegerField(min_value=0, help_text="Every customer, whenever created.")
    by_status = CustomerStatusCountsSerializer(help_text="Every customer, by its status now.")
    new_customers = serializers.IntegerField(
        min_value=0, help_text="Customers created in the period."
    )
    labels = serializers.ListField(child=StrictCharField())
    series = SeriesSerializer(
        many=True, help_text="`new_customers`: customers created per bucket (counts)."
    )


class CustomerFiguresSerializer(serializers.Serializer):
    """``customers/{id}/stats/``: one customer's deals, invoice figures and last activity."""

    id = StrictUUIDField()
    code = StrictCharField()
    currency = StrictCharField(help_text="The organization's base currency.")
    deals_won = serializers.IntegerField(min_value=0)
    won_value = MoneyOutField(help_text="Value of the won deals in the base currency.")
    open_deals = serializers.IntegerField(min_value=0)
    invoiced = MoneyOutField(
        allow_null=True, help_text="Issued invoices' totals (null without the finance module)."
    )
    credited = MoneyOutField(allow_null=True, help_text="Issued credit notes' totals.")
    paid = MoneyOutField(allow_null=True, help_text="Payments of its invoices (the ledger's).")
    outstanding = MoneyOutField(allow_null=True, help_text="Its open invoices' balances.")
    last_activity = serializers.DateTimeField(
        allow_null=True,
        help_text="The newest change to the customer's deals, documents, ledger entries or "
        "support chats (of those the caller may read); null without any.",
    )


class StageSerializer(serializers.ModelSerializer):
    """A stage of a pipeline."""

    pipeline = TenantRelatedField(queryset=Pipeline.objects.all())

    class Meta:
        model = Stage
        fields = ["id", "pipeline", "name", "order", "probability", "is_won", "is_lost"]
        read_only_fields = ["id"]
        validators: list = []


class PipelineStageInputSerializer(serializers.ModelSerializer):
    """A stage given inline when creating a pipeline."""

    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "is_won", "is_lost"]
        read_only_fields = ["id"]


class PipelineSerializer(serializers.ModelSerializer):
    """A pipeline and its ordered stages (given on create; changed at ``crm/stages/``)."""

    stages = PipelineStageInputSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "stages", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class NonEmptyListSerializer(serializers.ListSerializer):
    """A list of at least one item, declared ``minItems: 1`` (the service refuses an empty one
    with the error on the field itself)."""


class NonEmptyListSchema(OpenApiSerializerFieldExtension):
    """The schema of a :class:`NonEmptyListSerializer`: the list's, with ``minItems: 1``."""

    target_class = NonEmptyListSerializer

    def map_serializer_field(self, auto_schema, direction):
        """Add ``minItems`` to the generated array."""
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "minItems": 1}


class NewStageSerializer(PipelineStageInputSerializer):
    """A stage given when creating a pipeline (a list of at least one)."""

    class Meta(PipelineStageInputSerializer.Meta):
        list_serializer_class = NonEmptyListSerializer


class PipelineCreateSerializer(PipelineSerializer):
    """A new pipeline: ``stages`` are required, at least one, with unique orders."""

    stages = NewStageSerializer(
        many=True,
        help_text="At least one stage; orders unique; no stage both won and lost.",
    )


class DealSerializer(serializers.ModelSerializer):
    """A deal; pipeline, stage, probability and currency default sensibly."""

    customer = TenantRelatedField(queryset=Customer.objects.all())
    pipeline = TenantRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = TenantRelatedField(queryset=Stage.objects.all(), required=False)
    value = MoneyField(required=False)
    currency = CurrencyField(required=False)
    exchange_rate = RateField(
        help_text="The rate to the base currency; required for a deal in another currency "
        "(1 in the base currency).",
    )
    base_value = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="value x exchange_rate, half-up to the cent: what every deal figure sums "
        "(null only on older deals in another currency without a rate).",
    )
    probability = StrictIntegerField(min_value=0, max_value=100, required=False)
    assigned_to = _member_field()
    team = _team_field()
    customer_name = StrictCharField(read_only=True)
    stage_name = StrictCharField(read_only=True)
    pipeline_name = StrictCharField(read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "title",
            "customer",
            "customer_name",
            "value",
            "currency",
            "exchange_rate",
            "base_value",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "probability",
            "expected_close_date",
            "assigned_to",
            "team",
            "status",
            "closed_at",
            "lost_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "closed_at",
            "lost_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]


class MoveStageSerializer(serializers.Serializer):
    """Input of ``deals/{id}/move-stage/``."""

    stage = TenantRelatedField(queryset=Stage.objects.all())


class WinSerializer(serializers.Serializer):
    """Input of ``deals/{id}/win/``: optionally the rate to fix the won value at."""

    exchange_rate = RateField(
        allow_null=False,
        help_text="The rate to the base currency at the win (the deal's own rate by default).",
    )


class LoseSerializer(serializers.Serializer):
    """Input of ``deals/{id}/lose/``."""

    reason = StrictCharField(max_length=500)


class StageChangeSerializer(serializers.ModelSerializer):
    """One stage change of a deal."""

    from_stage_name = StrictCharField(source="from_stage.name", allow_null=True)
    to_stage_name = StrictCharField(source="to_stage.name", allow_null=True)
    changed_by = StrictUUIDField(source="created_by_id", allow_null=True)
    changed_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = DealStageChange
        fields = [
            "id",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "changed_by",
            "changed_at",
        ]
        read_only_fields = fields


class VendorSerializer(serializers.ModelSerializer):
    """A vendor."""

    class Meta:
        model = Vendor
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "company",
            "category",
            "notes",
            "watchlist_flagged",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "watchlist_flagged", "created_by", "created_at", "updated_at"]


class CrmViewSet(RowListMixin, ExportMixin, TenantViewSet, ModelViewSet):
    """The CRM's resources: module ``crm``, the standard list, export and CRUD."""

    module = "crm"


LEADS = bulk.register(
    bulk.BulkResource(
        name="crm.leads",
        module="crm",
        serializer_class=LeadSerializer,
        writer=services.LeadWriter(),
        preview_fields=("score",),
    )
)
CUSTOMERS = bulk.register(
    bulk.BulkResource(
        name="crm.customers",
        module="crm",
        serializer_class=CustomerSerializer,
        writer=services.CustomerWriter(),
    )
)


class LeadViewSet(BulkMixin, CrmViewSet):
    """Leads: scored on every save; qualify, disqualify and convert."""

    model = Lead
    bulk_resource = LEADS
    serializer_class = LeadSerializer
    filterset_class = selectors.LeadFilter
    search_fields = ["first_name", "last_name", "email", "company", "phone"]
    ordering_fields = ["score", "created_at", "estimated_value"]
    ordering = ["-created_at"]
    export_filename = "leads"
    count_sources = ("crm",)
    count_cached_params = ("status", "source", "min_score", "start_date", "end_date", "search")
    action_permissions = {"qualify": "change", "disqualify": "change", "convert": "change"}

    def select(self):
        """The organization's leads."""
        return selectors.lead_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Create through the service (scored)."""
        serializer.instance = services.lead_create(
            tenant=self.tenant, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        """Change through the service (scored again)."""
        serializer.instance = services.lead_update(
            tenant=self.tenant, lead=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        """Mark the lead qualified (409 when converted or qualified already)."""
        lead = services.lead_qualify(lead=self.get_object())
        return Response(LeadSerializer(lead).data)

    @extend_schema(request=DisqualifySerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        """Mark the lead unqualified, with a reason."""
        serializer = DisqualifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_disqualify(lead=self.get_object(), **serializer.validated_data)
        return Response(LeadSerializer(lead).data)

    @extend_schema(
        request=ConvertSerializer,
        responses={
            201: inline_serializer(
                "LeadConversion",
                {
                    "lead": LeadSerializer(),
                    "customer": CustomerSerializer(),
                    "deal": DealSerializer(allow_null=True),
                },
            )
        },
    )
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Create a customer (and an open deal) from the lead, in one transaction."""
        serializer = ConvertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer, deal = services.lead_convert(
            tenant=self.tenant,
            lead=self.get_object(),
            create_deal=data["create_deal"],
            deal_value=data.get("value"),
            deal_title=data["title"],
        )
        organization = self.tenant.organization
        lead = selectors.lead_list(organization=organization).get(pk=pk)
        customer = selectors.customer_display(
            selectors.customer_list(organization=organization), organization=organization
        ).get(pk=customer.pk)
        deals = selectors.deal_display(selectors.deal_list(organization=organization))
        deal = deals.get(pk=deal.pk) if deal else None
        return Response(
            {
                "lead": LeadSerializer(lead).data,
                "customer": CustomerSerializer(customer).data,
                "deal": DealSerializer(deal).data if deal else None,
            },
            status=status.HTTP_201_CREATED,
        )


class CustomerViewSet(BulkMixin, CrmViewSet):
    """Customers, with their open and won deal values."""

    model = Customer
    bulk_resource = CUSTOMERS
    serializer_class = CustomerSerializer
    filterset_class = selectors.CustomerFilter
    search_fields = ["code", "name", "email", "company", "phone", "tax_number"]
    ordering_fields = ["code", "name", "created_at", "open_deals_value", "won_deals_value"]
    ordering = ["name"]
    export_filename = "customers"
    count_sources = ("crm",)
    count_cached_params = ("status", "code", "start_date", "end_date", "search")
    action_permissions = {"stats": "view", "figures": "view"}

    def select(self):
        """The organization's customers."""
        return selectors.customer_list(organization=self.tenant.organization)

    def present(self, queryset):
        """Their open and won deal values."""
        return selectors.customer_display(queryset, organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Create through the service (with the next code), then read it back with its figures."""
        customer = services.customer_create(
            organization=self.tenant.organization,
            created_by=self.request.user,
            **serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=customer.pk)

    def perform_update(self, serializer):
        """Change, then read it back with its figures."""
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        """A customer with deals cannot be deleted (409)."""
        services.customer_delete(customer=instance)

    @extend_schema(
        operation_id="v1_crm_customers_stats_summary",
        parameters=[CustomerStatsQuerySerializer],
        responses={200: CustomerStatsSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def stats(self, request):
        """Customers by status, and those created in the period per interval (metrics engine)."""
        query = CustomerStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.customer_stats(tenant=self.tenant, **query.validated_data))

    @extend_schema(responses={200: CustomerFiguresSerializer})
    @action(
        detail=True, methods=["get"], url_path="stats", pagination_class=None, filter_backends=[]
    )
    def figures(self, request, pk=None):
        """The customer's deals won (count, base value), open deals and last activity."""
        customer = self.get_object()
        return Response(selectors.customer_figures(tenant=self.tenant, customer=customer))


@extend_schema_view(create=extend_schema(responses={201: PipelineSerializer}))
class PipelineViewSet(CrmViewSet):
    """Pipelines with ordered stages; exactly one is the organization's default."""

    model = Pipeline
    serializer_class = PipelineSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    export_filename = "pipelines"
    action_permissions = {"funnel": "view", "value_by_stage": "view"}

    def get_serializer_class(self):
        """Stages are required on create and read-only afterwards."""
        return PipelineCreateSerializer if self.action == "create" else PipelineSerializer

    def select(self):
        """The organization's pipelines."""
        return selectors.pipeline_list(organization=self.tenant.organization)

    def present(self, queryset):
        """Their stages."""
        return selectors.pipeline_display(queryset)

    def perform_create(self, serializer):
        """Create with stages through the service."""
        pipeline = services.pipeline_create(
            tenant=self.tenant, data=dict(serializer.validated_data)
        )
        serializer.instance = self.get_queryset().get(pk=pipeline.pk)

    def perform_update(self, serializer):
        """Rename or make default through the service (stages change at ``crm/stages/``)."""
        services.pipeline_update(pipeline=serializer.instance, data=serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        """Only a pipeline that is not the default and holds no deals."""
        services.pipeline_delete(pipeline=instance)

    @extend_schema(
        responses=inline_serializer(
            "FunnelStage",
            {
                "id": StrictUUIDField(),
                "name": StrictCharField(),
                "order": StrictIntegerField(),
                "deals": StrictIntegerField(),
                "value": MoneyField(),
            },
            many=True,
        )
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def funnel(self, request, pk=None):
        """Deals that ever reached each stage: count and value (base currency)."""
        rows = selectors.funnel(organization=self.tenant.organization, pipeline=self.get_object())
        return Response(
            [{**row, "id": str(row["id"]), "value": f"{row['value']:.2f}"} for row in rows]
        )

    @extend_schema(
        responses=inline_serializer(
            "StageValue",
            {
                "id": StrictUUIDField(),
                "name": StrictCharField(),
                "order": StrictIntegerField(),
                "deal_count": StrictIntegerField(),
                "value": MoneyField(),
                "weighted": MoneyField(),
            },
            many=True,
        )
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="value-by-stage",
        pagination_class=None,
        filter_backends=[],
    )
    def value_by_stage(self, request, pk=None):
        """Open deals per stage: count, value and value weighted by probability."""
        rows = selectors.pipeline_value_by_stage(
            organization=self.tenant.organization, pipeline=self.get_object()
        )
        return Response(
            [
                {
                    **row,
                    "id": str(row["id"]),
                    "value": f"{row['value']:.2f}",
                    "weighted": f"{row['weighted']:.2f}",
                }
                for row in rows
            ]
        )


class StageViewSet(CrmViewSet):
    """Stages of the organization's pipelines."""

    model = Stage
    serializer_class = StageSerializer
    filterset_class = selectors.StageFilter
    ordering_fields = ["order", "name"]
    export_filename = "stages"

    def select(self):
        """The organization's stages."""
        return selectors.stage_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Create through the service (order unique in the pipeline; not won and lost)."""
        serializer.instance = services.stage_create(
            tenant=self.tenant, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        """Change through the service (a stage with deals keeps its pipeline and meaning)."""
        services.stage_update(stage=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        """Only a stage no deal is in."""
        services.stage_delete(stage=instance)


class DealViewSet(CrmViewSet):
    """Deals: move between stages of their pipeline, win or lose; every move recorded."""

    model = Deal
    serializer_class = DealSerializer
    filterset_class = selectors.DealFilter
    search_fields = ["title", "customer__name"]
    ordering_fields = ["stage", "status", "value", "expected_close_date", "created_at"]
    ordering_aliases = {"stage": "stage_order"}
    ordering = ["-created_at"]
    export_filename = "deals"
    count_sources = ("crm",)
    count_cached_params = (
        "status",
        "stage",
        "pipeline",
        "customer",
        "min_value",
        "max_value",
        "start_date",
        "end_date",
        "search",
    )
    action_permissions = {
        "move_stage": "change",
        "win": "change",
        "lose": "change",
        "history": "view",
    }

    def select(self):
        """The organization's deals."""
        return selectors.deal_list(organization=self.tenant.organization)

    def present(self, queryset):
        """The customer, stage and pipeline names they show."""
        return selectors.deal_display(queryset)

    def _fresh(self, deal: Deal) -> Deal:
        """The deal as the list shows it."""
        return self.get_queryset().get(pk=deal.pk)

    def perform_create(self, serializer):
        """Create through the service (defaults, first stage recorded)."""
        deal = services.deal_create(tenant=self.tenant, data=dict(serializer.validated_data))
        serializer.instance = self._fresh(deal)

    def perform_update(self, serializer):
        """Change through the service (stage checks, history)."""
        deal = services.deal_update(
            tenant=self.tenant, deal=serializer.instance, data=dict(serializer.validated_data)
        )
        serializer.instance = self._fresh(deal)

    def perform_destroy(self, instance):
        """Delete the deal and its history."""
        instance.delete()

    @extend_schema(request=MoveStageSerializer, responses=DealSerializer)
    @action(detail=True, methods=["post"], url_path="move-stage")
    def move_stage(self, request, pk=None):
        """Move the deal to another stage of its pipeline."""
        deal = self.get_object()
        serializer = MoveStageSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        deal = services.deal_move_stage(tenant=self.tenant, deal=deal, **serializer.validated_data)
        return Response(DealSerializer(self._fresh(deal)).data)

    @extend_schema(request=WinSerializer, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        """Close the deal as won (409 when closed); its base value is fixed again."""
        deal = self.get_object()
        serializer = WinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal = services.deal_win(tenant=self.tenant, deal=deal, **serializer.validated_data)
        return Response(DealSerializer(self._fresh(deal)).data)

    @extend_schema(request=LoseSerializer, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """Close the deal as lost, with a reason (409 when closed)."""
        serializer = LoseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal = services.deal_lose(
            tenant=self.tenant, deal=self.get_object(), **serializer.validated_data
        )
        return Response(DealSerializer(self._fresh(deal)).data)

    @extend_schema(responses=StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk=None):
        """The deal's stage changes, oldest first (paginated; the list's filters do not apply)."""
        deal = self.get_object()
        page = self.paginate_queryset(selectors.deal_history(deal=deal))
        return self.get_paginated_response(StageChangeSerializer(page, many=True).data)


class VendorViewSet(CrmViewSet):
    """Vendors (suppliers)."""

    model = Vendor
    serializer_class = VendorSerializer
    filterset_class = selectors.VendorFilter
    search_fields = ["name", "email", "company", "category"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    export_filename = "vendors"

    def select(self):
        """The organization's vendors."""
        return selectors.vendor_list(organization=self.tenant.organization)
