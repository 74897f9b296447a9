"""Alert rule endpoints under ``/api/v1/ops/alerts/``: CRUD, firings, check now."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.accounts.models import User
from valar.alerts import selectors, services
from valar.alerts.models import AlertFiring, AlertRule, Comparison, Period, State
from valar.core.metrics.documents import (
    MONEY_OUT,
    FiltersField,
    date_field_names,
    measure_names,
    source_names,
)
from valar.core.serializers import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TenantRelatedField,
)
from valar.core.viewsets import TenantViewSet
from valar.organizations.models import Team

#: A rule's figure as the API answers it: an exact decimal string to the cent, or null.
FIGURE_OUT = {
    **MONEY_OUT,
    "nullable": True,
    "description": "The figure to the cent (counts too: 21.00); null when it has no value "
    "(a minimum, maximum or average over no rows) or before the first check.",
}


@extend_schema_field(FIGURE_OUT)
class FigureField(serializers.DecimalField):
    """A computed figure (read-only), to the cent."""

    def __init__(self, **kwargs):
        """Read-only, 20 digits, 2 decimals."""
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


class AlertRuleSerializer(serializers.ModelSerializer):
    """A rule: a metric figure over a period, compared to a threshold, and who is told.

    ``source``, ``measure``, ``date_field`` and ``filters`` are those of a metrics query
    (``insights/query/``); the enums list every registered source, measure and date field,
    and the rule must name ones its source offers.
    """

    users = TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        many=True,
        required=False,
        help_text="Members told of a firing (ids of users of this organization).",
    )
    teams = TenantRelatedField(
        queryset=Team.objects.all(),
        many=True,
        required=False,
        help_text="Teams whose members are told of a firing (teams of this organization).",
    )
    filters = FiltersField(required=False)
    threshold = MoneyField(
        min_value=None, help_text="The figure fires strictly above (or below) this."
    )
    last_value = FigureField()

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "source",
            "measure",
            "date_field",
            "filters",
            "period",
            "period_length",
            "comparison",
            "threshold",
            "users",
            "teams",
            "enabled",
            "state",
            "last_value",
            "last_checked_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "state",
            "last_value",
            "last_checked_at",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        """The fields, with the registry's sources, measures and date fields as enums."""
        fields = super().get_fields()
        fields["name"] = StrictCharField(max_length=150)
        fields["source"] = serializers.ChoiceField(
            choices=source_names(), help_text="A metric source (as in insights/query/)."
        )
        fields["measure"] = serializers.ChoiceField(
            choices=measure_names(),
            required=False,
            help_text="One of the source's measures; its first (sum, or count) by default.",
        )
        fields["date_field"] = serializers.ChoiceField(
            choices=date_field_names(),
            required=False,
            help_text="The date the period applies to; the source's default date by default.",
        )
        fields["period"] = serializers.ChoiceField(
            choices=Period.choices,
            required=False,
            help_text="The window, in the organization's time zone: the whole day, week "
            "(from Monday) or month holding now; the last period_length hours or days "
            "(hours need a datetime field); or every date before today.",
        )
        fields["period_length"] = StrictIntegerField(
            min_value=1,
            max_value=services.MAX_PERIOD_LENGTH[Period.LAST_HOURS],
            allow_null=True,
            required=False,
            help_text="Hours (1-744) for last_hours, days (1-366) for last_days; null otherwise.",
        )
        fields["comparison"] = serializers.ChoiceField(choices=Comparison.choices, required=False)
        fields["enabled"] = StrictBooleanField(required=False)
        return fields


class AlertFiringSerializer(serializers.ModelSerializer):
    """One firing: the figure when the rule crossed, and when (and at what) it cleared."""

    value = FigureField(allow_null=False)
    threshold = FigureField(allow_null=False)
    cleared_value = FigureField(
        help_text="The figure when it cleared; null while open or when the rule was changed "
        "or disabled."
    )

    class Meta:
        model = AlertFiring
        fields = [
            "id",
            "rule",
            "value",
            "comparison",
            "threshold",
            "fired_at",
            "cleared_at",
            "cleared_value",
        ]
        read_only_fields = fields


class AlertCheckSerializer(serializers.Serializer):
    """The answer of ``check/``: the figure now, the state, and what the check did."""

    rule = serializers.UUIDField()
    value = FigureField()
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    threshold = FigureField(allow_null=False)
    crossing = serializers.BooleanField(help_text="Whether the figure is past the threshold.")
    state = serializers.ChoiceField(choices=State.choices)
    enabled = serializers.BooleanField(help_text="A disabled rule is computed, never fired.")
    fired = AlertFiringSerializer(allow_null=True, help_text="The firing this check opened.")
    cleared = AlertFiringSerializer(allow_null=True, help_text="The firing this check closed.")
    checked_at = serializers.DateTimeField()


class AlertRuleViewSet(TenantViewSet, ModelViewSet):
    """Alert rules of the organization: admins and managers manage them, nobody else sees them.

    A member sees only rules over sources they read in full.
    """

    module = "alerts"
    model = AlertRule
    serializer_class = AlertRuleSerializer
    filterset_class = selectors.AlertRuleFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "last_checked_at"]
    ordering = ["name"]
    action_permissions = {"check": "check", "firings": "view"}

    def select(self):
        """The organization's rules over sources the caller reads in full."""
        tenant = self.tenant
        return selectors.alert_rule_list(
            organization=tenant.organization, membership=tenant.membership
        )

    def present(self, queryset):
        """Their recipients' ids."""
        return selectors.alert_rule_display(queryset)

    def _fresh(self, rule: AlertRule) -> AlertRule:
        """The rule as the list shows it, after a write."""
        return self.get_queryset().get(pk=rule.pk)

    def perform_create(self, serializer):
        """Create through the service (the figure is validated by the metrics engine)."""
        rule = services.alert_rule_create(tenant=self.tenant, data=dict(serializer.validated_data))
        serializer.instance = self._fresh(rule)

    def perform_update(self, serializer):
        """Change through the service (a new definition closes an open firing)."""
        rule = services.alert_rule_update(
            tenant=self.tenant, rule=serializer.instance, data=dict(serializer.validated_data)
        )
        serializer.instance = self._fresh(rule)

    def perform_destroy(self, instance):
        """Delete the rule and its firings."""
        services.alert_rule_delete(rule=instance)

    @extend_schema(responses=AlertFiringSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def firings(self, request, pk=None):
        """The rule's firings, newest first (paginated; the list's filters do not apply)."""
        rule = self.get_object()
        page = self.paginate_queryset(selectors.firing_list(rule=rule))
        return self.get_paginated_response(AlertFiringSerializer(page, many=True).data)

    @extend_schema(request=None, responses=AlertCheckSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Compute the rule's figure now and move its state (fire or clear) as the checker does."""
        rule = self.get_object()
        rule.organization = self.tenant.organization  # its time zone, without a query
        result = services.check_rule(rule=rule)
        return Response(
            AlertCheckSerializer(
                {
                    "rule": rule.pk,
                    "value": result.value,
                    "comparison": rule.comparison,
                    "threshold": rule.threshold,
                    "crossing": result.crossing,
                    "state": rule.state,
                    "enabled": rule.enabled,
                    "fired": result.fired,
                    "cleared": result.cleared,
                    "checked_at": rule.last_checked_at,
                }
            ).data
        )
