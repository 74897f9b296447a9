"""Recurring invoice and ledger entry schedules under ``/api/v1/finance/``."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.core.serializers import (
    PERCENT_PATTERN,
    QUANTITY_PATTERN,
    CurrencyField,
    MoneyField,
    PatternDecimalField,
    RateField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TenantRelatedField,
)
from valar.core.tenancy import local_today
from valar.core.viewsets import TenantViewSet
from valar.crm.models import Customer, Vendor
from valar.finance import recurring, selectors
from valar.finance.models import Category, RecurringEntry, RecurringInvoice, Subcategory
from valar.organizations.models import Team

PERCENT = {"max_digits": 5, "decimal_places": 2, "pattern": PERCENT_PATTERN}
#: The most lines one recurring invoice holds.
MAX_LINES = 200
#: The longest terms, notes or description a schedule copies into what it makes.
TEXT_LIMIT = 5000


class LineTermsSerializer(serializers.Serializer):
    """A recurring invoice's line as given: each made invoice prices it by the rounding policy."""

    description = StrictCharField(max_length=500)
    quantity = PatternDecimalField(max_digits=12, decimal_places=3, pattern=QUANTITY_PATTERN)
    unit_price = MoneyField()
    discount_percent = PatternDecimalField(**PERCENT, default=Decimal(0))
    tax_rate = PatternDecimalField(**PERCENT, default=Decimal(0))


class RecurrenceSerializer(serializers.ModelSerializer):
    """What every recurring schedule shows: its rhythm, the next period due and the last run.

    ``frequency`` and ``start_date`` change only before the first period is made (409
    ``started`` after); ``next_date``, ``runs``, ``last_run_at`` and ``last_error`` are the
    job's bookkeeping.
    """

    name = StrictCharField(max_length=200)
    currency = CurrencyField(required=False)
    exchange_rate = RateField(
        help_text="Units of the base currency per unit of `currency`, fixed for every period."
    )
    active = StrictBooleanField(required=False, help_text="false pauses the schedule.")
    last_error = StrictCharField(
        read_only=True, help_text="Why the last run stopped at `next_date`; empty when it did not."
    )

    common_fields = [
        "id",
        "name",
        "frequency",
        "start_date",
        "end_date",
        "next_date",
        "runs",
        "active",
        "last_run_at",
        "last_error",
        "currency",
        "exchange_rate",
    ]
    stamp_fields = ["created_by", "created_at", "updated_at"]

    class Meta:
        read_only_fields = [
            "id",
            "next_date",
            "runs",
            "last_run_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class RecurringInvoiceSerializer(RecurrenceSerializer):
    """An invoice made every period for a customer, dated on the period, due ``due_days`` later.

    With ``send`` each is issued (numbered) and e-mailed as it is made; otherwise it waits as
    a draft. ``invoices/?recurrence=<id>`` lists what it made.
    """

    customer = TenantRelatedField(queryset=Customer.objects.all())
    customer_name = StrictCharField(source="customer.name", read_only=True)
    due_days = StrictIntegerField(min_value=0, max_value=365, required=False)
    send = StrictBooleanField(
        required=False, help_text="Issue and e-mail each invoice as it is made (default: draft)."
    )
    terms = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    notes = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    line_items = LineTermsSerializer(many=True, max_length=MAX_LINES)

    class Meta(RecurrenceSerializer.Meta):
        model = RecurringInvoice
        fields = [
            *RecurrenceSerializer.common_fields,
            "customer",
            "customer_name",
            "due_days",
            "send",
            "terms",
            "notes",
            "line_items",
            *RecurrenceSerializer.stamp_fields,
        ]


class RecurringEntrySerializer(RecurrenceSerializer):
    """A ledger entry made every period (approved: only approvers set schedules up).

    ``transactions/?recurrence=<id>`` lists what it made.
    """

    amount = MoneyField(min_value=None, positive=True)
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    category = TenantRelatedField(queryset=Category.objects.all())
    category_name = StrictCharField(source="category.name", read_only=True)
    subcategory = TenantRelatedField(
        queryset=Subcategory.objects.all(), required=False, allow_null=True
    )
    team = TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    customer = TenantRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    vendor = TenantRelatedField(queryset=Vendor.objects.all(), required=False, allow_null=True)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True)

    class Meta(RecurrenceSerializer.Meta):
        model = RecurringEntry
        fields = [
            *RecurrenceSerializer.common_fields,
            "kind",
            "title",
            "description",
            "amount",
            "category",
            "category_name",
            "subcategory",
            "team",
            "customer",
            "vendor",
            "reference",
            *RecurrenceSerializer.stamp_fields,
        ]


class RecurrenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Recurring schedules of one kind (the subclass's ``model``); ``run/`` makes what is due.

    Setting a schedule up, changing, deleting or running it needs ``approve`` in finance
    (managers and admins): what it makes is approved and issued without anyone watching.
    Deleting one keeps what it made.
    """

    module = "finance"
    ordering_fields = ["next_date", "name", "created_at"]
    ordering = ["next_date", "name"]
    search_fields = ["name"]
    action_permissions = {
        "create": "approve",
        "update": "approve",
        "partial_update": "approve",
        "destroy": "approve",
        "run": "approve",
    }

    def present(self, queryset):
        """With the names they show."""
        return selectors.recurring_display(queryset)

    def _fresh(self, schedule):
        """The schedule as lists show it."""
        return self.present(self.model.objects.filter(pk=schedule.pk)).get()

    def perform_create(self, serializer):
        """A new schedule through the service; its first period is its start date."""
        schedule = recurring.schedule_save(
            tenant=self.tenant, model=self.model, schedule=None, data=serializer.validated_data
        )
        serializer.instance = self._fresh(schedule)

    def perform_update(self, serializer):
        """Change the schedule (its rhythm only before the first period: 409 ``started``)."""
        schedule = recurring.schedule_save(
            tenant=self.tenant,
            model=self.model,
            schedule=serializer.instance,
            data=serializer.validated_data,
        )
        serializer.instance = self._fresh(schedule)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Make the periods due by today now, as the hourly job would (each once; a period
        already made is not made again); answers the schedule with its ``runs`` and
        ``next_date`` moved on."""
        schedule = self.get_object()
        recurring.run_schedule(self.model, schedule.pk, local_today(self.tenant.organization))
        return Response(self.get_serializer(self._fresh(schedule)).data)


class RecurringInvoiceViewSet(RecurrenceViewSet):
    """Recurring invoices: a customer billed the same lines every month, quarter or year."""

    model = RecurringInvoice
    serializer_class = RecurringInvoiceSerializer
    filterset_class = selectors.RecurringInvoiceFilter

    def select(self):
        """The organization's recurring invoices."""
        return selectors.recurring_invoice_list(organization=self.tenant.organization)


class RecurringEntryViewSet(RecurrenceViewSet):
    """Recurring ledger entries: rent, subscriptions, retainers."""

    model = RecurringEntry
    serializer_class = RecurringEntrySerializer
    filterset_class = selectors.RecurringEntryFilter
    search_fields = ["name", "title"]

    def select(self):
        """The organization's recurring entries."""
        return selectors.recurring_entry_list(organization=self.tenant.organization)
