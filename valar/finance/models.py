"""The ledger: income and expense entries in one table, their categories and attachments."""

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

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "ledger entries"
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
