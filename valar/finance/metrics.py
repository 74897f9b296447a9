"""The finance sources of the metrics engine: income, expense and profit; invoices and payments.

Only approved entries count (income always is; an expense claim once a manager or admin
approved it). ``expense_all`` and ``profit_all`` count every expense, claims submitted or
rejected included (``finance/summary/?include_unapproved=true``).
"""

from django.db.models import Case, DecimalField, F, Q, Sum, When

from valar.core.metrics import Dimension, Source, register
from valar.finance.models import ApprovalStatus, Document, Kind, LedgerEntry, Payment

DIMENSIONS = {
    "category": Dimension("category_id", "category__name"),
    "subcategory": Dimension("subcategory_id", "subcategory__name"),
    "team": Dimension("team_id", "team__name"),
    "created_by": Dimension("created_by_id", "created_by__email"),
    "customer": Dimension("customer_id", "customer__name"),
    "vendor": Dimension("vendor_id", "vendor__name"),
}
#: The entries finance figures count by default.
APPROVED = Q(approval_status=ApprovalStatus.APPROVED)
#: Income minus expenses, per entry.
SIGNED = Case(
    When(kind=Kind.INCOME, then=F("base_amount")),
    default=-F("base_amount"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)
#: The source names of the summary's figures: approved entries only, or every entry.
SUMMARY_SOURCES = {
    False: {"income": "income", "expense": "expense", "profit": "profit"},
    True: {"income": "income", "expense": "expense_all", "profit": "profit_all"},
}

register(
    Source(
        name="income",
        model=LedgerEntry,
        date_field="date",
        value=F("base_amount"),
        filter=Q(kind=Kind.INCOME) & APPROVED,
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
        filter=Q(kind=Kind.EXPENSE) & APPROVED,
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Approved expenses in the base currency.",
    )
)
register(
    Source(
        name="expense_all",
        model=LedgerEntry,
        date_field="date",
        value=F("base_amount"),
        filter=Q(kind=Kind.EXPENSE),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Every expense in the base currency, claims submitted or rejected included.",
    )
)
register(
    Source(
        name="profit",
        model=LedgerEntry,
        date_field="date",
        value=SIGNED,
        filter=APPROVED,
        measures=("sum",),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Income minus approved expenses in the base currency.",
    )
)
register(
    Source(
        name="profit_all",
        model=LedgerEntry,
        date_field="date",
        value=SIGNED,
        measures=("sum",),
        dimensions=DIMENSIONS,
        version="finance",
        module="finance",
        description="Income minus every expense (claims submitted or rejected included) in "
        "the base currency.",
    )
)

#: Invoices that were issued and stand (not drafts, not cancelled).
ISSUED_INVOICES = Q(type=Document.Type.INVOICE) & ~Q(
    status__in=(Document.Status.DRAFT, Document.Status.CANCELLED)
)
register(
    Source(
        name="invoices",
        model=Document,
        date_field="issue_date",
        date_fields=("due_date",),
        value=F("base_total"),
        filter=ISSUED_INVOICES,
        measures=("sum", "count", "avg", "outstanding"),
        extra_measures={"outstanding": Sum("base_balance")},
        dimensions={
            "customer": Dimension("customer_id", "customer__name"),
            "status": Dimension("status", kind="text"),
            "currency": Dimension("currency", kind="text"),
            "created_by": Dimension("created_by_id", "created_by__email"),
        },
        version="finance",
        module="finance",
        description="Issued invoices in the base currency (sum of totals, count, average, "
        "outstanding balance).",
    )
)
register(
    Source(
        name="payments",
        model=Payment,
        date_field="date",
        value=F("entry__base_amount"),
        measures=("sum", "count", "avg"),
        dimensions={
            "method": Dimension("method", kind="text"),
            "customer": Dimension("invoice__customer_id", "invoice__customer__name"),
            "created_by": Dimension("created_by_id", "created_by__email"),
        },
        version="finance",
        module="finance",
        description="Invoice payments in the base currency (their ledger entries' amounts).",
    )
)
