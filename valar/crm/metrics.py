"""The CRM sources of the metrics engine: leads, customers and deals."""

from decimal import Decimal

from django.db.models import DecimalField, F, Sum, Value

from valar.core.metrics import Dimension, Source, register
from valar.crm.models import Customer, Deal, Lead

register(
    Source(
        name="leads",
        model=Lead,
        date_field="created_at",
        date_fields=("converted_at",),
        value=F("estimated_value"),
        measures=("count", "sum"),
        dimensions={
            "source": Dimension("source", kind="text"),
            "status": Dimension("status", kind="text"),
            "assigned_to": Dimension("assigned_to_id", "assigned_to__email"),
            "team": Dimension("team_id", "team__name"),
        },
        version="crm",
        module="crm",
        description="Leads (count, or sum of estimated value).",
    )
)
register(
    Source(
        name="customers",
        model=Customer,
        date_field="created_at",
        value=F("pk"),
        measures=("count",),
        dimensions={
            "status": Dimension("status", kind="text"),
            "assigned_to": Dimension("assigned_to_id", "assigned_to__email"),
        },
        version="crm",
        money=False,
        module="crm",
        description="Customers, counted by when they were created (customer growth).",
    )
)
register(
    Source(
        name="deals",
        model=Deal,
        date_field="created_at",
        date_fields=("closed_at", "expected_close_date"),
        value=F("base_value"),
        measures=("count", "sum", "weighted"),
        extra_measures={
            # value x probability %, summed; multiplying by 0.01 (not dividing by 100) keeps the
            # cents on SQLite, where whole amounts are stored as integers.
            "weighted": Sum(
                F("base_value") * F("probability") * Value(Decimal("0.01")),
                output_field=DecimalField(max_digits=20, decimal_places=4),
            ),
        },
        dimensions={
            "stage": Dimension("stage_id", "stage__name"),
            "status": Dimension("status", kind="text"),
            "assigned_to": Dimension("assigned_to_id", "assigned_to__email"),
            "team": Dimension("team_id", "team__name"),
        },
        version="crm",
        module="crm",
        description="Deals (count, sum of base value, base value weighted by probability).",
    )
)
