"""The finance sources of the metrics engine: income, expense and profit."""

from django.db.models import Case, DecimalField, F, Q, When

from valar.core.metrics import Dimension, Source, register
from valar.finance.models import Kind, LedgerEntry

DIMENSIONS = {
    "category": Dimension("category_id", "category__name"),
    "subcategory": Dimension("subcategory_id", "subcategory__name"),
    "team": Dimension("team_id", "team__name"),
    "created_by": Dimension("created_by_id", "created_by__email"),
    "customer": Dimension("customer_id", "customer__name"),
    "vendor": Dimension("vendor_id", "vendor__name"),
}

register(
    Source(
        name="income",
        model=LedgerEntry,
        date_field="date",
        value=F("base_amount"),
        filter=Q(kind=Kind.INCOME),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Income in the base currency.",
    )
)
register(
    Source(
        name="expense",
        model=LedgerEntry,
        date_field="date",
        value=F("base_amount"),
        filter=Q(kind=Kind.EXPENSE),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Expenses in the base currency.",
    )
)
register(
    Source(
        name="profit",
        model=LedgerEntry,
        date_field="date",
        value=Case(
            When(kind=Kind.INCOME, then=F("base_amount")),
            default=-F("base_amount"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        measures=("sum",),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Income minus expenses in the base currency.",
    )
)
