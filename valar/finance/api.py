"""Finance endpoints under ``/api/v1/finance/``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.core import bulk, files
from valar.core.bulk_api import BulkMixin
from valar.core.metrics.documents import MoneyOutField, PercentOutField, SeriesSerializer
from valar.core.metrics.engine import INTERVALS
from valar.core.serializers import (
    CurrencyField,
    MoneyField,
    PeriodSerializer,
    RateField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TenantRelatedField,
    TimeField,
)
from valar.core.viewsets import ExportMixin, RowListMixin, TenantViewSet
from valar.crm.models import Customer, Vendor
from valar.finance import selectors, services
from valar.finance.metrics import DIMENSIONS
from valar.finance.models import (
    ApprovalStatus,
    Attachment,
    Category,
    Kind,
    LedgerEntry,
    Subcategory,
)
from valar.organizations.models import Team


class CategorySerializer(serializers.ModelSerializer):
    """An income or expense category."""

    entry_count = StrictIntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "description", "type", "color", "entry_count", "created_at"]
        read_only_fields = ["id", "entry_count", "created_at"]
        validators: list = []


class SubcategorySerializer(serializers.ModelSerializer):
    """A subcategory of a category."""

    category = TenantRelatedField(queryset=Category.objects.all())

    class Meta:
        model = Subcategory
        fields = ["id", "category", "name", "description", "color", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []


class EntrySerializer(serializers.ModelSerializer):
    """A ledger entry; ``base_amount`` is its exact value in the organization's currency."""

    amount = MoneyField(min_value=None, positive=True)
    base_amount = MoneyField(read_only=True)
    currency = CurrencyField(required=False)
    exchange_rate = RateField()
    time = TimeField(required=False, allow_null=True)
    category = TenantRelatedField(queryset=Category.objects.all())
    subcategory = TenantRelatedField(
        queryset=Subcategory.objects.all(), required=False, allow_null=True
    )
    team = TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    customer = TenantRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    vendor = TenantRelatedField(queryset=Vendor.objects.all(), required=False, allow_null=True)
    category_name = StrictCharField(source="category.name", read_only=True)
    subcategory_name = StrictCharField(source="subcategory.name", read_only=True, allow_null=True)
    team_name = StrictCharField(source="team.name", read_only=True, allow_null=True)
    receipt_number = StrictCharField(max_length=100, required=False, allow_blank=True)
    tax_amount = MoneyField(
        required=False, help_text="The tax included in the amount (0 to the amount)."
    )
    is_billable = StrictBooleanField(
        required=False, help_text="An expense to bill to a customer (expenses only)."
    )
    approval_status = serializers.ChoiceField(
        choices=ApprovalStatus.choices,
        read_only=True,
        help_text="Income, and expenses of managers and admins, are approved on entry; other "
        "expenses are claims submitted for approval (approve/, reject/).",
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "title",
            "description",
            "amount",
            "currency",
            "exchange_rate",
            "base_amount",
            "date",
            "time",
            "category",
            "category_name",
            "subcategory",
            "subcategory_name",
            "team",
            "team_name",
            "customer",
            "vendor",
            "reference",
            "receipt_number",
            "tax_amount",
            "is_billable",
            *services.DECISION_FIELDS,
            "recurrence",
            "period",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "base_amount",
            *services.DECISION_FIELDS,
            "recurrence",
            "period",
            "created_by",
            "created_at",
            "updated_at",
        ]


class FixedKindEntrySerializer(EntrySerializer):
    """An entry whose kind comes from the URL (``incomes/``, ``expenses/``)."""

    class Meta(EntrySerializer.Meta):
        read_only_fields = [*EntrySerializer.Meta.read_only_fields, "kind"]


class RejectSerializer(serializers.Serializer):
    """Input of ``expenses/{id}/reject/``."""

    reason = StrictCharField(max_length=500, help_text="Why the claim is rejected.")


class AttachmentSerializer(serializers.ModelSerializer):
    """A stored attachment (download it at ``attachments/{id}/download/``)."""

    entry = TenantRelatedField(queryset=LedgerEntry.objects.all(), module="finance")
    file = serializers.FileField(write_only=True)

    class Meta:
        model = Attachment
        fields = [
            "id",
            "entry",
            "file",
            "original_name",
            "content_type",
            "size",
            "created_by",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "created_by",
            "created_at",
        ]


class SummaryQuerySerializer(PeriodSerializer):
    """Query parameters of ``finance/summary/``."""

    interval = serializers.ChoiceField(choices=list(INTERVALS), default="month")
    group_by = serializers.ChoiceField(choices=list(DIMENSIONS), required=False)
    include_unapproved = StrictBooleanField(
        default=False,
        help_text="true: count expense claims submitted or rejected too (approved only "
        "by default).",
    )


class TotalsSerializer(serializers.Serializer):
    """Income, expense and profit of a period, and the margin (profit / income, in %)."""

    income = MoneyOutField()
    expense = MoneyOutField()
    profit = MoneyOutField()
    margin = PercentOutField(allow_null=True, help_text="Null without income.")


class ChangeSerializer(serializers.Serializer):
    """Percent change of each total from the previous period (null without a base)."""

    income = PercentOutField(allow_null=True)
    expense = PercentOutField(allow_null=True)
    profit = PercentOutField(allow_null=True)
    margin = PercentOutField(allow_null=True)


class SummarySerializer(serializers.Serializer):
    """``finance/summary/``: totals, the previous period's, the change, and the series."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    interval = serializers.ChoiceField(choices=list(INTERVALS))
    include_unapproved = serializers.BooleanField(
        help_text="Whether expense claims not approved are counted."
    )
    currency = StrictCharField(help_text="The organization's base currency.")
    totals = TotalsSerializer()
    previous_totals = TotalsSerializer(help_text="The period of equal length just before this one.")
    change_percent = ChangeSerializer()
    labels = serializers.ListField(child=StrictCharField())
    series = SeriesSerializer(
        many=True,
        help_text="income, expense and profit; with group_by, one series per group and kind "
        "named `income: <group>` / `expense: <group>`.",
    )


class FinanceViewSet(RowListMixin, ExportMixin, TenantViewSet, ModelViewSet):
    """The finance resources: module ``finance``."""

    module = "finance"


class CategoryViewSet(FinanceViewSet):
    """Categories; one in use is deleted only with ``?reassign_to=<category id>``."""

    model = Category
    serializer_class = CategorySerializer
    filterset_class = selectors.CategoryFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "type", "created_at"]
    export_filename = "categories"

    def select(self):
        """The organization's categories."""
        return selectors.category_list(tenant=self.tenant)

    def present(self, queryset):
        """How many entries the caller may see use each."""
        return selectors.category_display(queryset, tenant=self.tenant)

    def perform_create(self, serializer):
        """Create through the service, then read it back with its entry count."""
        category = services.category_save(
            tenant=self.tenant, category=None, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=category.pk)

    def perform_update(self, serializer):
        """Change through the service (a category in use keeps its type)."""
        category = services.category_save(
            tenant=self.tenant, category=serializer.instance, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=category.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reassign_to",
                OpenApiTypes.UUID,
                description="Move the category's entries to this category first.",
            )
        ]
    )
    def destroy(self, request, *args, **kwargs):
        """Delete a category, moving its entries to ``reassign_to`` when it is in use."""
        category = self.get_object()
        target = None
        reference = request.query_params.get("reassign_to")
        if reference:
            field = TenantRelatedField(queryset=Category.objects.all())
            field.bind("reassign_to", serializers.Serializer(context=self.get_serializer_context()))
            try:
                target = field.to_internal_value(reference)
            except (serializers.ValidationError, DjangoValidationError, ValueError) as exc:
                raise serializers.ValidationError(
                    {"reassign_to": ["Give the id of a category of this organization."]}
                ) from exc
        services.category_delete(tenant=self.tenant, category=category, reassign_to=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubcategoryViewSet(FinanceViewSet):
    """Subcategories."""

    model = Subcategory
    serializer_class = SubcategorySerializer
    filterset_class = selectors.SubcategoryFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    export_filename = "subcategories"

    def select(self):
        """The organization's subcategories."""
        return selectors.subcategory_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Create through the service (unique name in the category)."""
        serializer.instance = services.subcategory_save(
            tenant=self.tenant, subcategory=None, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        """Change through the service (a subcategory in use stays in its category)."""
        serializer.instance = services.subcategory_save(
            tenant=self.tenant, subcategory=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        """A subcategory in use is a 409."""
        services.subcategory_delete(subcategory=instance)


def _entries(
    name: str, serializer_class, fixed_kind: str | None, policy_actions: dict | None = None
) -> bulk.BulkResource:
    """The bulk resource of the ledger entries of one URL (all, incomes or expenses)."""
    return bulk.register(
        bulk.BulkResource(
            name=name,
            module="finance",
            serializer_class=serializer_class,
            writer=services.EntryWriter(fixed_kind),
            preview_fields=("kind", "base_amount", "approval_status"),
            policy_actions=policy_actions or bulk.POLICY_ACTIONS,
        )
    )


TRANSACTIONS = _entries("finance.transactions", EntrySerializer, None)
INCOMES = _entries("finance.incomes", FixedKindEntrySerializer, Kind.INCOME)
#: Expense claims: every write needs ``finance: claim`` (basic members claim too).
CLAIM_ACTIONS = {"create": "claim", "update": "claim", "delete": "claim"}
EXPENSES = _entries("finance.expenses", FixedKindEntrySerializer, Kind.EXPENSE, CLAIM_ACTIONS)


class TransactionViewSet(BulkMixin, FinanceViewSet):
    """Every ledger entry, income and expense (``kind`` given in the body and filters)."""

    model = LedgerEntry
    bulk_resource = TRANSACTIONS
    serializer_class = EntrySerializer
    filterset_class = selectors.EntryFilter
    search_fields = ["title", "description", "reference"]
    ordering_fields = ["date", "amount", "created_at"]
    ordering = ["-date", "-created_at"]
    export_filename = "transactions"
    count_sources = ("finance",)
    count_cached_params = (
        "kind",
        "start_date",
        "end_date",
        "start_time",
        "end_time",
        "category",
        "subcategory",
        "min_amount",
        "max_amount",
        "approval_status",
        "is_billable",
        "recurrence",
        "search",
    )
    fixed_kind: str | None = None

    def select(self):
        """The organization's entries (of this URL's kind)."""
        return selectors.entry_list(organization=self.tenant.organization, kind=self.fixed_kind)

    def present(self, queryset):
        """Their category, subcategory and team."""
        return selectors.entry_display(queryset)

    def _fresh(self, entry: LedgerEntry) -> LedgerEntry:
        """The entry as lists show it."""
        return self.get_queryset().get(pk=entry.pk)

    def perform_create(self, serializer):
        """Record through the service (rules, base amount)."""
        data = dict(serializer.validated_data)
        kind = services.entry_kind(fixed_kind=self.fixed_kind, data=data)
        entry = services.entry_create(tenant=self.tenant, kind=kind, data=data)
        serializer.instance = self._fresh(entry)

    def perform_update(self, serializer):
        """Change through the service; the kind of an entry never changes."""
        data = dict(serializer.validated_data)
        services.entry_kind(fixed_kind=self.fixed_kind, data=data, entry=serializer.instance)
        entry = services.entry_update(tenant=self.tenant, entry=serializer.instance, data=data)
        serializer.instance = self._fresh(entry)

    def perform_destroy(self, instance):
        """Delete the entry and its attachments."""
        services.entry_delete(entry=instance)


class IncomeViewSet(TransactionViewSet):
    """Income entries only."""

    serializer_class = FixedKindEntrySerializer
    fixed_kind = Kind.INCOME
    bulk_resource = INCOMES
    export_filename = "incomes"


class ExpenseViewSet(TransactionViewSet):
    """Expense entries only: claims, written with ``finance: claim`` (``own``: one's own),
    approved or rejected by managers and admins (``finance: approve``)."""

    serializer_class = FixedKindEntrySerializer
    fixed_kind = Kind.EXPENSE
    bulk_resource = EXPENSES
    export_filename = "expenses"
    action_permissions = {
        **dict.fromkeys(
            ("create", "update", "partial_update", "destroy", "bulk", "import_file"), "claim"
        ),
        "approve": "approve",
        "reject": "approve",
    }

    @extend_schema(request=None, responses=FixedKindEntrySerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted claim (403 for its submitter, 409 unless it is submitted)."""
        entry = services.expense_approve(tenant=self.tenant, entry=self.get_object())
        return Response(self.get_serializer(self._fresh(entry)).data)

    @extend_schema(request=RejectSerializer, responses=FixedKindEntrySerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a submitted claim with a reason (403 for its submitter, 409 unless it is
        submitted)."""
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.expense_reject(
            tenant=self.tenant, entry=self.get_object(), **serializer.validated_data
        )
        return Response(self.get_serializer(self._fresh(entry)).data)


class AttachmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Receipts and invoices of entries: PDF, PNG, JPEG or WebP, at most 10 MB."""

    module = "finance"
    model = Attachment
    serializer_class = AttachmentSerializer
    filterset_class = selectors.AttachmentFilter
    ordering_fields = ["created_at"]
    parser_classes = [MultiPartParser]
    #: Whoever records expense claims attaches their receipts (to the entries they can see).
    action_permissions = {"create": "claim", "download": "view"}

    def select(self):
        """The organization's attachments."""
        return selectors.attachment_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Check the bytes and store the file."""
        serializer.instance = services.attachment_create(
            tenant=self.tenant,
            entry=serializer.validated_data["entry"],
            upload=serializer.validated_data["file"],
        )

    @extend_schema(responses=files.download_responses())
    @action(detail=True, methods=["get"], content_negotiation_class=files.FileNegotiation)
    def download(self, request, pk=None):
        """The file itself, for members who may see the entry."""
        attachment = self.get_object()
        return files.download(attachment.file, attachment.original_name, attachment.content_type)


class ReportSchema(AutoSchema):
    """The schema of a report served as a viewset's ``list``: one object, not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        """A report is never a list."""
        return False


class SummaryViewSet(TenantViewSet):
    """``finance/summary/``: totals, series and the previous period, over the engine."""

    schema = ReportSchema()
    module = "finance"
    model = LedgerEntry
    filter_backends: list = []
    pagination_class = None

    def select(self):
        """Not used: the summary reads through the metrics engine."""
        return LedgerEntry.objects.none()

    @extend_schema(parameters=[SummaryQuerySerializer], responses={200: SummarySerializer})
    def list(self, request, *args, **kwargs):
        """Income, expenses, profit and margin, their series, and the change."""
        query = SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.finance_summary(tenant=self.tenant, **query.validated_data))
