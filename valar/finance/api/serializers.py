"""Serializers of the finance endpoints under ``/api/v1/finance/``.

Categories, subcategories, ledger entries, attachments and the summary; then quotes, invoices
and credit notes (three document types sharing one serializer shape) and payments.
"""

from decimal import Decimal

from rest_framework import serializers

from valar.core.metrics.documents import MoneyOutField, PercentOutField, SeriesSerializer
from valar.core.metrics.engine import INTERVALS
from valar.core.serializers import (
    PERCENT_PATTERN,
    QUANTITY_PATTERN,
    CurrencyField,
    MoneyField,
    PatternDecimalField,
    PeriodSerializer,
    RateField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    TenantRelatedField,
    TimeField,
)
from valar.crm.models import Customer, Vendor
from valar.finance import services
from valar.finance.metrics import DIMENSIONS
from valar.finance.models import (
    ApprovalStatus,
    Attachment,
    Category,
    Document,
    DocumentLine,
    LedgerEntry,
    Payment,
    RecurringEntry,
    RecurringInvoice,
    Subcategory,
)
from valar.organizations.models import Team

PERCENT = {"max_digits": 5, "decimal_places": 2, "pattern": PERCENT_PATTERN}
#: The most lines one document holds.
MAX_LINES = 200
#: The longest terms, notes or descriptions a document or a schedule holds (a PDF page or two).
TEXT_LIMIT = 5000


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


class LineItemSerializer(serializers.ModelSerializer):
    """A line: quantity (up to 3 decimals) x unit price, less a discount %, plus a tax rate %.

    ``amount``, ``discount``, ``tax`` and ``total`` are each rounded half-up to cents on the
    line (the rounding policy); ``expense`` bills an approved billable expense, once.
    """

    description = StrictCharField(max_length=500)
    quantity = PatternDecimalField(max_digits=12, decimal_places=3, pattern=QUANTITY_PATTERN)
    unit_price = MoneyField()
    discount_percent = PatternDecimalField(**PERCENT, default=Decimal(0))
    tax_rate = PatternDecimalField(**PERCENT, default=Decimal(0))
    expense = TenantRelatedField(
        queryset=LedgerEntry.objects.all(), module="finance", required=False, allow_null=True
    )
    amount = MoneyField(read_only=True)
    discount = MoneyField(read_only=True)
    tax = MoneyField(read_only=True)
    total = MoneyField(read_only=True)

    class Meta:
        model = DocumentLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "expense",
            "amount",
            "discount",
            "tax",
            "total",
        ]
        read_only_fields = ["position"]


class DocumentSerializer(serializers.ModelSerializer):
    """The shape every document shares; totals are sums of the lines' rounded figures."""

    customer = TenantRelatedField(queryset=Customer.objects.all())
    customer_name = StrictCharField(source="customer.name", read_only=True)
    status = serializers.ChoiceField(
        choices=Document.Status.choices,
        source="shown_status",
        read_only=True,
        help_text="The stored status; an unpaid invoice past its due date shows `overdue`.",
    )
    currency = CurrencyField(required=False)
    exchange_rate = RateField(
        help_text="Units of the base currency per unit of `currency`: null on a draft in the "
        "base currency, 1 once it is issued; required for another currency."
    )
    emailed_to = StrictCharField(
        read_only=True, help_text="Where the PDF was e-mailed; empty until it was."
    )
    terms = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    notes = StrictCharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    line_items = LineItemSerializer(many=True, source="lines", required=False, max_length=MAX_LINES)
    subtotal = MoneyField(read_only=True, min_value=None)
    discount_total = MoneyField(read_only=True, min_value=None)
    tax_total = MoneyField(read_only=True, min_value=None)
    total = MoneyField(read_only=True, min_value=None)
    base_total = MoneyField(
        read_only=True, min_value=None, help_text="The total in the base currency, at the rate."
    )

    common_fields = [
        "id",
        "number",
        "customer",
        "customer_name",
        "status",
        "issue_date",
        "currency",
        "exchange_rate",
        "terms",
        "notes",
        "line_items",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "base_total",
        "issued_at",
        "emailed_to",
        "emailed_at",
        "created_by",
        "created_at",
        "updated_at",
    ]

    class Meta:
        model = Document
        fields: list[str] = []
        read_only_fields = [
            "id",
            "number",
            "issued_at",
            "emailed_to",
            "emailed_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class QuoteSerializer(DocumentSerializer):
    """A quote: ``draft → sent → accepted | rejected | expired``."""

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.common_fields, "expiry_date"]


class InvoiceSerializer(DocumentSerializer):
    """An invoice: ``draft → sent → partial → paid``, ``overdue`` derived, ``cancelled``."""

    paid_amount = MoneyField(read_only=True)
    credited_amount = MoneyField(read_only=True)
    balance = MoneyField(
        read_only=True, min_value=None, help_text="total - paid_amount - credited_amount."
    )
    base_balance = MoneyField(
        read_only=True, min_value=None, help_text="The balance in the base currency, at the rate."
    )

    class Meta(DocumentSerializer.Meta):
        fields = [
            *DocumentSerializer.common_fields,
            "due_date",
            "paid_amount",
            "credited_amount",
            "balance",
            "base_balance",
            "source_quote",
            "recurrence",
            "period",
        ]
        read_only_fields = [
            *DocumentSerializer.Meta.read_only_fields,
            "source_quote",
            "recurrence",
            "period",
        ]


class CreditNoteSerializer(DocumentSerializer):
    """A credit note: negative totals that lower the balance of the invoice it ``credits``.

    It takes the invoice's customer, currency and rate; ``draft → issued``.
    """

    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    credits = TenantRelatedField(
        queryset=Document.objects.filter(type=Document.Type.INVOICE), module="finance"
    )

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.common_fields, "credits"]
        read_only_fields = [
            *DocumentSerializer.Meta.read_only_fields,
            "currency",
            "exchange_rate",
        ]


class DocumentSendSerializer(serializers.Serializer):
    """How a draft is issued: e-mailed as a PDF (to ``to``, else the customer) or not."""

    email = StrictBooleanField(
        default=True, help_text="E-mail the PDF (a job) when there is an address."
    )
    to = StrictEmailField(required=False, help_text="Default: the customer's e-mail.")


class DocumentExportSerializer(serializers.ModelSerializer):
    """A document as one row of an export (its totals; lines are in the API)."""

    status = StrictCharField(source="shown_status")
    customer_name = StrictCharField(source="customer.name")

    class Meta:
        model = Document
        fields = [
            "id",
            "type",
            "number",
            "customer",
            "customer_name",
            "status",
            "issue_date",
            "due_date",
            "expiry_date",
            "currency",
            "exchange_rate",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "base_total",
            "paid_amount",
            "credited_amount",
            "balance",
            "base_balance",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    """A payment of an invoice, in the invoice's currency; ``entry`` is its ledger income."""

    invoice = TenantRelatedField(
        queryset=Document.objects.filter(type=Document.Type.INVOICE), module="finance"
    )
    invoice_number = StrictCharField(source="invoice.number", read_only=True)
    amount = MoneyField(min_value=None, positive=True)
    category = TenantRelatedField(
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="The income category of its ledger entry (default: `Invoice payments`).",
    )
    reference = StrictCharField(max_length=100, required=False, allow_blank=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "amount",
            "date",
            "method",
            "reference",
            "category",
            "entry",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "entry", "created_by", "created_at"]


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
