"""The ledger: income and expense entries in one table, their categories and attachments."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from valar.core import files
from valar.core.models import TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}
color_validator = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a #RRGGBB color.")


class Kind(models.TextChoices):
    """Money in or money out."""

    INCOME = "income"
    EXPENSE = "expense"


class ApprovalStatus(models.TextChoices):
    """Where an expense claim stands: ``submitted`` waits for a manager or admin.

    ``submitted -> approved | rejected``; income, and expenses recorded by a manager or an
    admin, are ``approved`` on entry. Only approved entries count in finance figures.
    """

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class FinanceModel(TenantModel):
    """A finance row: its writes feed the ``finance`` source of the metrics cache."""

    metric_sources = ("finance",)

    class Meta:
        abstract = True


class Category(FinanceModel):
    """A category of income or of expense (shared: every finance member sees them all)."""

    shared_reference = True

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    type = models.CharField(max_length=7, choices=Kind.choices)
    color = models.CharField(max_length=7, default="#607D8B", validators=[color_validator])

    class Meta:
        ordering = ["type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "type", "name"], name="category_unique_per_type"
            )
        ]

    def __str__(self) -> str:
        """Show the category's name."""
        return self.name


class Subcategory(FinanceModel):
    """A finer category inside a category (shared, like categories)."""

    shared_reference = True

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="subcategories")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    color = models.CharField(max_length=7, default="#90A4AE", validators=[color_validator])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="subcategory_unique")
        ]

    def __str__(self) -> str:
        """Show the subcategory's name."""
        return self.name


class LedgerEntry(FinanceModel):
    """One income or expense; ``base_amount`` is its exact value in the base currency."""

    kind = models.CharField(max_length=7, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1)
    base_amount = models.DecimalField(**MONEY, editable=False)
    date = models.DateField()
    time = models.TimeField(null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="entries")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    team = models.ForeignKey(
        "organizations.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    vendor = models.ForeignKey(
        "crm.Vendor", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(max_length=100, blank=True)
    receipt_number = models.CharField(max_length=100, blank=True)
    tax_amount = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    is_billable = models.BooleanField(default=False)
    #: Set by ``finance.services`` on every write; the default ``approved`` is what rows
    #: written outside the services (data migrations, fixtures) and the ledger before
    #: approvals existed are.
    approval_status = models.CharField(
        max_length=9, choices=ApprovalStatus.choices, default=ApprovalStatus.APPROVED
    )
    rejection_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    #: The recurring schedule that made the entry, and the period (its date) it is for.
    recurrence = models.ForeignKey(
        "finance.RecurringEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entries",
        editable=False,
    )
    period = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["recurrence", "period"], name="ledger_entry_one_per_period"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=Kind.INCOME) | models.Q(approval_status="approved"),
                name="ledger_income_is_approved",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_amount__gte=0)
                & models.Q(tax_amount__lte=models.F("amount")),
                name="ledger_tax_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "kind", "date"]),
            models.Index(fields=["organization", "category", "date"]),
            models.Index(fields=["organization", "team", "date"]),
            models.Index(fields=["organization", "-date", "-created_at"]),
        ]

    def __str__(self) -> str:
        """Show the entry's title and amount."""
        return f"{self.title} ({self.amount} {self.currency})"


def attachment_path(instance: "Attachment", filename: str) -> str:
    """An unguessable storage name, never the uploaded name."""
    return files.storage_name("attachments", instance.organization_id)


class Attachment(FinanceModel):
    """A receipt or invoice file of a ledger entry (PDF, PNG, JPEG or WebP)."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()

    metric_sources = ()
    #: An attachment follows its entry: whoever owns the entry owns its files.
    owner_fields = tuple(f"entry__{field}" for field in LedgerEntry.owner_fields)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        """Show the file's original name."""
        return self.original_name


class Document(FinanceModel):
    """A quote, an invoice or a credit note: one shape, its totals kept exact.

    Totals follow the one rounding policy of :mod:`valar.finance.pricing` (each line rounded
    half-up to cents, then summed) and are stored, so every list, export and figure shows the
    same numbers. A credit note's totals are negative: it corrects the invoice it ``credits``.
    ``number`` stays empty while the document is a draft and is given, gap-free, when it is
    issued. ``status`` is the stored state; an unpaid invoice past its due date reads as
    ``overdue`` (derived when read, never stored).
    """

    class Type(models.TextChoices):
        """What the document is."""

        QUOTE = "quote"
        INVOICE = "invoice"
        CREDIT_NOTE = "credit_note"

    class Status(models.TextChoices):
        """Every state a document can be in (each type uses some of them)."""

        DRAFT = "draft"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        EXPIRED = "expired"
        PARTIAL = "partial"
        PAID = "paid"
        OVERDUE = "overdue"
        CANCELLED = "cancelled"
        ISSUED = "issued"

    type = models.CharField(max_length=11, choices=Type.choices, editable=False)
    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=40, blank=True, editable=False)
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    subtotal = models.DecimalField(**MONEY, default=0, editable=False)
    discount_total = models.DecimalField(**MONEY, default=0, editable=False)
    tax_total = models.DecimalField(**MONEY, default=0, editable=False)
    total = models.DecimalField(**MONEY, default=0, editable=False)
    base_total = models.DecimalField(**MONEY, default=0, editable=False)
    paid_amount = models.DecimalField(**MONEY, default=0, editable=False)
    credited_amount = models.DecimalField(**MONEY, default=0, editable=False)
    balance = models.DecimalField(**MONEY, default=0, editable=False)
    base_balance = models.DecimalField(**MONEY, default=0, editable=False)
    source_quote = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_invoice",
        editable=False,
    )
    credits = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_to = models.EmailField(blank=True, editable=False)
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The recurring schedule that made the invoice, and the period (its date) it is for.
    recurrence = models.ForeignKey(
        "finance.RecurringInvoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        editable=False,
    )
    period = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "type", "-created_at"]),
            models.Index(fields=["organization", "type", "status", "due_date"]),
            models.Index(fields=["organization", "customer"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recurrence", "period"], name="document_one_per_period"
            ),
            models.UniqueConstraint(
                fields=["organization", "number"],
                condition=~models.Q(number=""),
                name="document_number_unique",
            ),
        ]

    def __str__(self) -> str:
        """Show the document's type and number (or that it is a draft)."""
        return f"{self.get_type_display()} {self.number or '(draft)'}"


class DocumentLine(FinanceModel):
    """A line of a document, with its amounts rounded by the pricing policy.

    ``expense`` links a billable approved expense billed on this line (once: unique).
    """

    metric_sources = ()
    owner_fields = tuple(f"document__{field}" for field in Document.owner_fields)

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(**MONEY)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    amount = models.DecimalField(**MONEY, editable=False)
    discount = models.DecimalField(**MONEY, editable=False)
    tax = models.DecimalField(**MONEY, editable=False)
    total = models.DecimalField(**MONEY, editable=False)
    expense = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="billed_line"
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="line_position_unique")
        ]

    def __str__(self) -> str:
        """Show the line's description."""
        return self.description


class Payment(FinanceModel):
    """A payment of an invoice; its income ledger ``entry`` is created and deleted with it."""

    class Method(models.TextChoices):
        """How the money came."""

        BANK_TRANSFER = "bank_transfer"
        CASH = "cash"
        CARD = "card"
        CHEQUE = "cheque"
        OTHER = "other"

    invoice = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**MONEY)
    date = models.DateField()
    method = models.CharField(max_length=13, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(max_length=100, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="payment", editable=False
    )

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["organization", "-date", "-created_at"])]

    def __str__(self) -> str:
        """Show the amount and the invoice."""
        return f"{self.amount} for {self.invoice}"


class Frequency(models.TextChoices):
    """How often a recurring schedule makes its invoice or entry."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Recurrence(FinanceModel):
    """What every recurring schedule shares: its rhythm, the next date due, an optional end.

    The ``runs``-th period falls on ``start_date`` plus ``runs`` times the frequency (a day
    past the month's end is its last day), so dates never drift; ``next_date`` is that date
    for the next period to make. The job ``finance.run_schedules`` makes each due period
    once: the made row carries the schedule and the period under a unique key, so running it
    twice for the same day makes nothing twice. Schedules themselves count in no figure.
    """

    metric_sources = ()

    name = models.CharField(max_length=200)
    frequency = models.CharField(max_length=9, choices=Frequency.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    next_date = models.DateField(editable=False)
    runs = models.PositiveIntegerField(default=0, editable=False)
    active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["next_date", "name"]

    def __str__(self) -> str:
        """Show the schedule's name and frequency."""
        return f"{self.name} ({self.frequency})"


class RecurringInvoice(Recurrence):
    """An invoice made every period for a customer: its lines, terms and days to pay.

    Each made invoice is dated on its period and due ``due_days`` later; with ``send`` it is
    issued (numbered) and e-mailed as it is made, otherwise it waits as a draft.
    """

    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    due_days = models.PositiveSmallIntegerField(default=30)
    send = models.BooleanField(default=False)
    #: The lines as given (description, quantity, unit_price, discount_percent, tax_rate),
    #: decimals kept as strings; each made invoice prices them by the rounding policy.
    line_items = models.JSONField(default=list)

    class Meta(Recurrence.Meta):
        indexes = [models.Index(fields=["organization", "active", "next_date"])]


class RecurringEntry(Recurrence):
    """A ledger entry (rent, a subscription, a retainer) made every period, approved."""

    kind = models.CharField(max_length=7, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "organizations.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    vendor = models.ForeignKey(
        "crm.Vendor", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(max_length=100, blank=True)

    class Meta(Recurrence.Meta):
        verbose_name_plural = "recurring entries"
        indexes = [models.Index(fields=["organization", "active", "next_date"])]
