"""Insights endpoints (``/api/v1/insights/``) and dashboards (``/api/v1/dashboards/``)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.accounts.models import User
from valar.core.exports import EXPORT_FORMATS, export_response
from valar.core.limits import MAX_REPORT_CELLS
from valar.core.metrics import get_source, run_for
from valar.core.metrics.documents import (
    FiltersField,
    MetricsDocumentSerializer,
    MetricValueField,
    MoneyOutField,
    NamedSeriesSerializer,
    date_field_names,
    dimension_names,
    measure_names,
    source_names,
)
from valar.core.metrics.engine import INTERVALS, source_version, validate
from valar.core.serializers import (
    DateField,
    PeriodSerializer,
    QuerySerializer,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictUUIDField,
    TenantRelatedField,
)
from valar.core.viewsets import TenantViewSet
from valar.finance import selectors as finance_selectors
from valar.finance.api.serializers import ChangeSerializer, TotalsSerializer
from valar.insights import selectors, services
from valar.insights.models import Chart, Dashboard, DashboardShare
from valar.organizations.models import Team
from valar.screening import reports as screening_reports
from valar.screening.api.serializers import ScreeningInsightsSerializer

LEADERBOARD_ORDERING = [
    f"{sign}{name}" for name in (*selectors.TEAM_METRICS, "name") for sign in ("", "-")
]


class BreakdownQuerySerializer(PeriodSerializer):
    """Query of ``insights/breakdown/``."""

    by = serializers.ChoiceField(choices=list(selectors.BREAKDOWNS))


class ProjectionQuerySerializer(QuerySerializer):
    """Query of ``insights/projections/``."""

    history_months = StrictIntegerField(min_value=2, max_value=60, default=12)
    periods = StrictIntegerField(min_value=1, max_value=24, default=3)


class LeaderboardQuerySerializer(PeriodSerializer):
    """Query of ``insights/teams/``."""

    ordering = serializers.ChoiceField(choices=LEADERBOARD_ORDERING, required=False)


class QuerySpecSerializer(serializers.Serializer):
    """A metrics query: see the metrics documents in the API guide.

    The engine checks the combination (a source's own measures, dimensions and date fields);
    the enums list what any source offers.
    """

    def get_fields(self):
        """The fields, with enums read from the registry of sources."""
        return {
            "source": serializers.ChoiceField(choices=source_names()),
            "measure": serializers.ChoiceField(
                choices=measure_names(),
                required=False,
                allow_null=True,
                help_text="sum by default (also when null).",
            ),
            "start_date": DateField(),
            "end_date": DateField(),
            "interval": serializers.ChoiceField(
                choices=list(INTERVALS),
                required=False,
                allow_null=True,
                help_text=(
                    "None for one bucket over the whole period. day covers at most 5 years. "
                    f"A report holds at most {MAX_REPORT_CELLS} cells (buckets x series): more "
                    "is a 400 `report_too_large`."
                ),
            ),
            "group_by": serializers.ChoiceField(
                choices=dimension_names(), required=False, allow_null=True
            ),
            "date_field": serializers.ChoiceField(
                choices=date_field_names(),
                required=False,
                allow_null=True,
                help_text="The source's business date by default.",
            ),
            "filters": FiltersField(required=False),
        }


class TopCategorySerializer(serializers.Serializer):
    """A category among the period's largest."""

    category = StrictUUIDField()
    name = StrictCharField()
    total = MoneyOutField()


class FinanceOverviewSerializer(TotalsSerializer):
    """The money part of the overview (members with the finance module only)."""

    previous = TotalsSerializer(help_text="The period of equal length just before.")
    change_percent = ChangeSerializer()
    top_income_categories = TopCategorySerializer(many=True)
    top_expense_categories = TopCategorySerializer(many=True)


class TaskFiguresSerializer(serializers.Serializer):
    """Open and overdue tasks now; completed and on time in the period."""

    open = StrictIntegerField()
    overdue = StrictIntegerField()
    completed = StrictIntegerField()
    on_time = StrictIntegerField()
    on_time_rate = StrictFloatField(allow_null=True, help_text="0..1; null without due.")


class LeadFiguresSerializer(serializers.Serializer):
    """Leads created in the period."""

    total = StrictIntegerField()
    converted = StrictIntegerField()
    conversion_rate = StrictFloatField(allow_null=True, help_text="0..1; null without.")
    by_source = serializers.DictField(child=StrictIntegerField())
    by_status = serializers.DictField(child=StrictIntegerField())


class DealFiguresSerializer(serializers.Serializer):
    """Deals closed in the period and the open pipeline now (money with finance only)."""

    won = StrictIntegerField()
    lost = StrictIntegerField()
    open = StrictIntegerField()
    win_rate = StrictFloatField(allow_null=True, help_text="0..1; null without.")
    won_value = MoneyOutField(required=False)
    pipeline_value = MoneyOutField(required=False)
    weighted_value = MoneyOutField(required=False)


class OverviewSerializer(serializers.Serializer):
    """``insights/overview/``: each part present only for members of its module."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    currency = StrictCharField(required=False)
    finance = FinanceOverviewSerializer(required=False)
    tasks = TaskFiguresSerializer(required=False)
    leads = LeadFiguresSerializer(required=False)
    deals = DealFiguresSerializer(required=False)


class TrendsSerializer(serializers.Serializer):
    """``insights/trends/``: monthly labels and one series per figure the caller may see."""

    labels = serializers.ListField(child=StrictCharField())
    series = NamedSeriesSerializer(
        many=True, help_text="revenue, expenses, profit (finance); new_leads, won_deals (crm)."
    )


class BreakdownItemSerializer(serializers.Serializer):
    """One group of a breakdown."""

    key = StrictCharField(allow_null=True)
    name = StrictCharField()
    total = MetricValueField()


class BreakdownSerializer(serializers.Serializer):
    """``insights/breakdown/``: per source, its groups (empty without the module)."""

    by = serializers.ChoiceField(choices=list(selectors.BREAKDOWNS))
    groups = inline_serializer(
        "BreakdownGroup",
        {
            "source": StrictCharField(help_text="The source summed."),
            "items": BreakdownItemSerializer(many=True),
        },
        many=True,
    )


class LabelledMoneySerializer(serializers.Serializer):
    """Money values by label."""

    labels = serializers.ListField(child=StrictCharField())
    data = serializers.ListField(child=MoneyOutField())


class ProjectionSeriesSerializer(serializers.Serializer):
    """One projected figure: its history, projection and fitted line."""

    name = StrictCharField()
    history = LabelledMoneySerializer()
    projection = LabelledMoneySerializer()
    fit = inline_serializer(
        "ProjectionFit",
        {
            "slope": StrictFloatField(),
            "intercept": StrictFloatField(),
            "r2": StrictFloatField(allow_null=True),
        },
    )


class ProjectionsSerializer(serializers.Serializer):
    """``insights/projections/``."""

    method = StrictCharField()
    description = StrictCharField()
    history_months = StrictIntegerField()
    periods = StrictIntegerField()
    series = ProjectionSeriesSerializer(many=True, help_text="Empty without finance.")


class TeamRowSerializer(serializers.Serializer):
    """A team's figures (money only for members with the finance module)."""

    team = StrictUUIDField()
    name = StrictCharField()
    income = MoneyOutField(required=False)
    expense = MoneyOutField(required=False)
    profit = MoneyOutField(required=False)
    tasks_completed = StrictIntegerField()
    on_time_rate = StrictFloatField(allow_null=True)
    deals_won = StrictIntegerField()
    deals_won_value = MoneyOutField(required=False)
    leads_converted = StrictIntegerField()


class LeaderboardRowSerializer(TeamRowSerializer):
    """A team's figures and its rank (equal figures share a rank)."""

    rank = StrictIntegerField()


class LeaderboardSerializer(serializers.Serializer):
    """``insights/teams/``: every visible team, ranked (not paginated)."""

    count = StrictIntegerField()
    results = LeaderboardRowSerializer(many=True)


class TeamDetailSerializer(TeamRowSerializer):
    """``insights/teams/{id}/``: the team's figures and monthly series."""

    labels = serializers.ListField(child=StrictCharField())
    series = NamedSeriesSerializer(many=True, help_text="profit (finance), tasks_completed.")


def _period(request, serializer_class=PeriodSerializer) -> dict:
    """The validated query parameters."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReceivablesQuerySerializer(QuerySerializer):
    """Query parameters of ``insights/receivables/``."""

    as_of = DateField(required=False, help_text="Age the balances on this date (default today).")


class AgingBucketSerializer(serializers.Serializer):
    """Open balances between ``from_days`` and ``to_days`` days past due (null: no upper end)."""

    name = StrictCharField()
    from_days = StrictIntegerField()
    to_days = StrictIntegerField(allow_null=True)
    amount = MoneyOutField()
    invoices = StrictIntegerField()


class ReceivableCustomerSerializer(serializers.Serializer):
    """One customer's open balance."""

    customer = StrictUUIDField()
    name = StrictCharField()
    outstanding = MoneyOutField()
    overdue = MoneyOutField()
    invoices = StrictIntegerField()


class ReceivablesSerializer(serializers.Serializer):
    """What customers owe on open invoices, in the base currency, aged by days past due."""

    as_of = DateField()
    currency = StrictCharField()
    outstanding = MoneyOutField()
    invoices = StrictIntegerField()
    overdue = MoneyOutField()
    overdue_invoices = StrictIntegerField()
    buckets = AgingBucketSerializer(many=True)
    customers = ReceivableCustomerSerializer(
        many=True, help_text="The 20 customers who owe most, largest balance first."
    )


class CatalogueSourceSerializer(serializers.Serializer):
    """A metrics source a query may name, with the names its fields accept."""

    name = StrictCharField()
    description = StrictCharField()
    module = StrictCharField(help_text="The module a caller needs to query it (empty: none).")
    money = serializers.BooleanField(help_text="Values are amounts in the base currency.")
    measures = serializers.ListField(child=StrictCharField())
    dimensions = serializers.ListField(
        child=StrictCharField(), help_text="The names `group_by` and `filters` accept."
    )
    date_fields = serializers.ListField(
        child=StrictCharField(), help_text="The dates `date_field` accepts, the default first."
    )
    default_date_field = StrictCharField()


class QueryCatalogueSerializer(serializers.Serializer):
    """``insights/sources/``: what a metrics query may name, for the caller."""

    intervals = serializers.ListField(child=StrictCharField())
    sources = CatalogueSourceSerializer(many=True)


class InsightsViewSet(TenantViewSet):
    """Company figures, trends, breakdowns, projections, team leaderboards, ad-hoc queries."""

    module = "insights"
    model = Team
    serializer_class = QuerySpecSerializer
    pagination_class = None
    filter_backends: list = []
    action_permissions = {
        name: "view"
        for name in (
            "overview",
            "trends",
            "breakdown",
            "projections",
            "query",
            "sources",
            "teams",
            "team",
            "receivables",
            "screening",
        )
    }

    def select(self):
        """The teams the caller may track (for the team detail)."""
        return selectors.visible_teams(tenant=self.tenant)

    @extend_schema(parameters=[PeriodSerializer], responses={200: OverviewSerializer})
    @action(detail=False, methods=["get"])
    def overview(self, request):
        """Revenue, expenses, profit, tasks, leads and deals for the period."""
        period = _period(request)
        return Response(
            selectors.overview(
                tenant=self.tenant, start=period["start_date"], end=period["end_date"]
            )
        )

    @extend_schema(parameters=[PeriodSerializer], responses={200: TrendsSerializer})
    @action(detail=False, methods=["get"])
    def trends(self, request):
        """Monthly series of revenue, expenses, profit, new leads and won deals."""
        period = _period(request)
        return Response(
            selectors.trends(tenant=self.tenant, start=period["start_date"], end=period["end_date"])
        )

    @extend_schema(parameters=[BreakdownQuerySerializer], responses={200: BreakdownSerializer})
    @action(detail=False, methods=["get"])
    def breakdown(self, request):
        """Totals by category, team or lead source."""
        query = _period(request, BreakdownQuerySerializer)
        return Response(
            selectors.breakdown(
                tenant=self.tenant,
                by=query["by"],
                start=query["start_date"],
                end=query["end_date"],
            )
        )

    @extend_schema(parameters=[ProjectionQuerySerializer], responses={200: ProjectionsSerializer})
    @action(detail=False, methods=["get"])
    def projections(self, request):
        """Revenue and expenses projected by a least-squares line over the history."""
        query = _period(request, ProjectionQuerySerializer)
        return Response(selectors.projections(tenant=self.tenant, **query))

    @extend_schema(responses={200: QueryCatalogueSerializer})
    @action(detail=False, methods=["get"])
    def sources(self, request):
        """The intervals and the sources (with their measures, dimensions and date fields) a
        metrics query of the caller may name: sources of modules they lack are left out."""
        return Response(selectors.query_catalogue(tenant=self.tenant))

    @extend_schema(request=QuerySpecSerializer, responses={200: MetricsDocumentSerializer})
    @action(detail=False, methods=["post"])
    def query(self, request):
        """Run any metrics query the caller's modules allow; the engine's document."""
        spec = validate(request.data if isinstance(request.data, dict) else {})
        source = get_source(spec["source"])
        if source.module and not selectors.can_view(self.tenant, source.module):
            return self.permission_denied(
                request, message=f"The {source.name} source needs the {source.module} module."
            )
        return Response(run_for(tenant=self.tenant, spec=spec))

    @extend_schema(parameters=[ReceivablesQuerySerializer], responses={200: ReceivablesSerializer})
    @action(detail=False, methods=["get"])
    def receivables(self, request):
        """Open invoice balances aged 0-30, 31-60, 61-90 and 90+ days past due (module
        ``finance`` needed too; members who read only their own finance rows see theirs)."""
        if not selectors.can_view(self.tenant, "finance"):
            return self.permission_denied(request, message="Receivables need the finance module.")
        query = ReceivablesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            finance_selectors.receivables(
                tenant=self.tenant, as_of=query.validated_data.get("as_of")
            )
        )

    @extend_schema(responses={200: ScreeningInsightsSerializer})
    @action(detail=False, methods=["get"])
    def screening(self, request):
        """Watch-list screening at a glance: entries, lists, matches by status and per month
        (the last 12), the commonest nationalities listed, confirmed hits (module
        ``screening`` needed too)."""
        if not selectors.can_view(self.tenant, "screening"):
            return self.permission_denied(request, message="Screening needs the screening module.")
        return Response(screening_reports.screening_insights(tenant=self.tenant))

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses={200: LeaderboardSerializer})
    @action(detail=False, methods=["get"])
    def teams(self, request):
        """The caller's visible teams ranked by a figure (default profit, ties by name)."""
        query = _period(request, LeaderboardQuerySerializer)
        rows = selectors.leaderboard(
            tenant=self.tenant,
            start=query["start_date"],
            end=query["end_date"],
            ordering=query.get("ordering"),
        )
        return Response({"count": len(rows), "results": rows})

    @extend_schema(
        operation_id="v1_insights_team_detail",
        parameters=[PeriodSerializer],
        responses={200: TeamDetailSerializer},
    )
    @action(detail=False, methods=["get"], url_path=r"teams/(?P<team_id>[0-9a-fA-F-]{36})")
    def team(self, request, team_id=None):
        """One team's figures and monthly series."""
        period = _period(request)
        team = get_object_or_404(self.get_queryset(), pk=team_id)
        return Response(
            selectors.team_detail(
                tenant=self.tenant, team=team, start=period["start_date"], end=period["end_date"]
            )
        )


@extend_schema_field(QuerySpecSerializer)
class ChartQueryField(serializers.JSONField):
    """A chart's metrics query (checked by the engine when the chart is saved)."""


@extend_schema_field(MetricsDocumentSerializer)
class ChartDocumentField(serializers.JSONField):
    """A chart's stored document, as the engine computed it."""


class ChartSerializer(serializers.ModelSerializer):
    """A chart and its stored document; ``stale`` when its source changed since."""

    query = ChartQueryField()
    document = ChartDocumentField(read_only=True)
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Chart
        fields = [
            "id",
            "title",
            "chart_type",
            "query",
            "document",
            "position",
            "computed_at",
            "stale",
        ]
        read_only_fields = ["id", "document", "computed_at", "stale"]

    def get_stale(self, chart: Chart) -> bool:
        """Whether the chart's source changed after it was computed."""
        current = self.context.get("versions", {}).get(chart.query.get("source"))
        return bool(current) and current != chart.source_version


class ShareSerializer(serializers.Serializer):
    """One share: a user or a team of the organization, as viewer or editor."""

    user = TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        required=False,
        allow_null=True,
    )
    team = TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    role = serializers.ChoiceField(choices=DashboardShare.Role.choices, default="viewer")

    def validate(self, attrs):
        """Exactly one of user and team."""
        if bool(attrs.get("user")) == bool(attrs.get("team")):
            raise serializers.ValidationError("Give either a user or a team.")
        return attrs


class SharingSerializer(serializers.Serializer):
    """Input of ``dashboards/{id}/share/``: the full list of shares, and the visibility."""

    shares = ShareSerializer(many=True)
    visibility = serializers.ChoiceField(choices=Dashboard.Visibility.choices, required=False)


class DashboardSerializer(serializers.ModelSerializer):
    """A dashboard with its charts (read) in order."""

    charts = serializers.SerializerMethodField()
    owner = StrictUUIDField(source="created_by_id", read_only=True)

    class Meta:
        model = Dashboard
        fields = [
            "id",
            "title",
            "description",
            "visibility",
            "owner",
            "charts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "charts", "created_at", "updated_at"]

    @extend_schema_field(ChartSerializer(many=True))
    def get_charts(self, dashboard: Dashboard) -> list[dict]:
        """The charts the viewer may see (modules, ``view: own``), with their stale flags."""
        allowed = self.context.get("allowed_sources")
        charts = [
            chart
            for chart in dashboard.charts.all()
            if allowed is None or selectors.chart_visible(chart, allowed)
        ]
        return ChartSerializer(charts, many=True, context=self.context).data


class DashboardViewSet(TenantViewSet, ModelViewSet):
    """Dashboards: created by members, shared with users and teams, charts stored as JSON."""

    module = "insights"
    model = Dashboard
    serializer_class = DashboardSerializer
    search_fields = ["title", "description"]
    ordering_fields = ["title", "created_at", "updated_at"]
    action_permissions = {
        name: "view"
        for name in (
            "update",
            "partial_update",
            "destroy",
            "charts",
            "add_chart",
            "chart",
            "change_chart",
            "remove_chart",
            "refresh_chart",
            "export_chart",
            "refresh",
            "share",
            "replace_shares",
        )
    }

    def select(self):
        """Dashboards the caller may see."""
        return selectors.dashboard_list(tenant=self.tenant)

    def present(self, queryset):
        """Their charts, in one more query."""
        return queryset.prefetch_related("charts")

    def get_serializer_context(self):
        """Versions for stale flags and the sources the viewer may see, read once."""
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False) or "tenant" not in context:
            return context
        tenant = context["tenant"]
        allowed = selectors.chartable_sources(tenant)
        context["allowed_sources"] = allowed
        context["versions"] = {
            name: source_version(tenant.organization, name) for name in sorted(allowed)
        }
        return context

    def perform_update(self, serializer):
        """Editors change title and description; owners and admins also the visibility."""
        serializer.instance = services.dashboard_update(
            tenant=self.tenant, dashboard=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """Owners and admins only."""
        services.dashboard_delete(tenant=self.tenant, dashboard=instance)

    def _chart(self, dashboard: Dashboard, chart_id) -> Chart:
        """A chart of the dashboard the viewer's modules allow (404 otherwise)."""
        chart = get_object_or_404(selectors.chart_list(dashboard=dashboard), pk=chart_id)
        if not selectors.chart_visible(chart, self.get_serializer_context()["allowed_sources"]):
            raise Http404
        return chart

    @extend_schema(responses=ChartSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def charts(self, request, pk=None):
        """The dashboard's charts in order."""
        dashboard = self.get_object()
        return Response(self.get_serializer(dashboard).data["charts"])

    @extend_schema(request=ChartSerializer, responses={201: ChartSerializer})
    @charts.mapping.post
    def add_chart(self, request, pk=None):
        """Add a chart: its query is validated and run now, and the document stored."""
        dashboard = self.get_object()
        serializer = ChartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chart = services.chart_create(
            tenant=self.tenant, dashboard=dashboard, data=serializer.validated_data
        )
        return Response(
            ChartSerializer(chart, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=ChartSerializer)
    @action(detail=True, methods=["get"], url_path=r"charts/(?P<chart_id>[0-9a-fA-F-]{36})")
    def chart(self, request, pk=None, chart_id=None):
        """One chart."""
        chart = self._chart(self.get_object(), chart_id)
        return Response(ChartSerializer(chart, context=self.get_serializer_context()).data)

    @extend_schema(request=ChartSerializer, responses=ChartSerializer)
    @chart.mapping.patch
    def change_chart(self, request, pk=None, chart_id=None):
        """Rename, retype, move (``position``) or re-query a chart."""
        chart = self._chart(self.get_object(), chart_id)
        serializer = ChartSerializer(chart, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        chart = services.chart_update(
            tenant=self.tenant, chart=chart, data=serializer.validated_data
        )
        return Response(ChartSerializer(chart, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={204: None})
    @chart.mapping.delete
    def remove_chart(self, request, pk=None, chart_id=None):
        """Remove a chart."""
        services.chart_delete(tenant=self.tenant, chart=self._chart(self.get_object(), chart_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ChartSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"charts/(?P<chart_id>[0-9a-fA-F-]{36})/refresh",
    )
    def refresh_chart(self, request, pk=None, chart_id=None):
        """Compute one chart again."""
        chart = services.chart_refresh(
            tenant=self.tenant, chart=self._chart(self.get_object(), chart_id)
        )
        return Response(ChartSerializer(chart, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS))],
        responses={(200, mime): OpenApiTypes.BINARY for mime in EXPORT_FORMATS.values()},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"charts/(?P<chart_id>[0-9a-fA-F-]{36})/export",
    )
    def export_chart(self, request, pk=None, chart_id=None):
        """The chart's stored data as CSV or XLSX: one row per label, one column per series."""
        chart = self._chart(self.get_object(), chart_id)
        fmt = request.query_params.get("format", "csv")
        if fmt not in EXPORT_FORMATS:
            raise serializers.ValidationError({"format": ["Choose csv or xlsx."]})
        document = chart.document
        headers = ["label", *[series["name"] for series in document["series"]]]
        rows = [
            [label, *[series["data"][index] for series in document["series"]]]
            for index, label in enumerate(document["labels"])
        ]
        return export_response(fmt, headers, rows, "chart")

    @extend_schema(request=None, responses=DashboardSerializer)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Compute every chart of the dashboard again."""
        dashboard = services.dashboard_refresh(tenant=self.tenant, dashboard=self.get_object())
        dashboard = self.get_queryset().get(pk=dashboard.pk)
        return Response(self.get_serializer(dashboard).data)

    @extend_schema(responses=SharingSerializer)
    @action(detail=True, methods=["get"])
    def share(self, request, pk=None):
        """Who the dashboard is shared with, and its visibility."""
        dashboard = self.get_object()
        shares = [
            {"user": s.user_id, "team": s.team_id, "role": s.role} for s in dashboard.shares.all()
        ]
        return Response({"shares": shares, "visibility": dashboard.visibility})

    @extend_schema(request=SharingSerializer, responses=SharingSerializer)
    @share.mapping.put
    def replace_shares(self, request, pk=None):
        """Replace the shares (owner or admin); users and teams of this organization only."""
        dashboard = self.get_object()
        serializer = SharingSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.dashboard_share(
            tenant=self.tenant, dashboard=dashboard, **serializer.validated_data
        )
        return self.share(request, pk=pk)
