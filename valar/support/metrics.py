"""The support source of the metrics engine: chats, their first responses and their closes.

The engine's measures are additive (sums and counts per bucket, totals summed over buckets),
so durations are measured as sums of whole seconds next to the counts they divide by:
``response_seconds / answered`` is the mean first response time of the chats counted, and
``resolution_seconds / closed`` the mean resolution time. Bucketed by ``first_response_at``
(or ``closed_at``) every row counted has the duration, so ``count`` is the divisor. The engine
has no percentile aggregate (SQLite has none), so sources give sums and counts only.
"""

from django.db.models import (
    BigIntegerField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Sum,
)

from valar.core.metrics import Dimension, Source, register
from valar.support.models import Chat


class Seconds(Func):
    """Whole seconds from the datetime ``start`` to the datetime ``end`` (null if either is).

    The difference is Django's own (``connection.ops.subtract_temporals``): microseconds on
    SQLite, an interval on PostgreSQL; each is cut to whole seconds, towards zero.
    """

    output_field = BigIntegerField()

    def __init__(self, end: str, start: str):
        """The seconds from column ``start`` to column ``end``."""
        super().__init__(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))

    def as_sqlite(self, compiler, connection, **extra_context):
        """Integer microseconds divided by a million (SQLite divides integers exactly)."""
        return self.as_sql(compiler, connection, template="(%(expressions)s / 1000000)")

    def as_postgresql(self, compiler, connection, **extra_context):
        """The interval's seconds, truncated."""
        return self.as_sql(
            compiler, connection, template="TRUNC(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        )


#: The source's measures besides ``count`` (names of at most 20 characters: alert rules).
EXTRA_MEASURES = {
    # Chats first answered, and the seconds from their opening to that answer.
    "answered": Count("first_response_at"),
    "response_seconds": Sum(
        Seconds("first_response_at", "created_at"), output_field=BigIntegerField()
    ),
    # Chats closed, and the seconds from their opening to their closing.
    "closed": Count("closed_at"),
    "resolution_seconds": Sum(Seconds("closed_at", "created_at"), output_field=BigIntegerField()),
}

SOURCE = register(
    Source(
        name="support",
        model=Chat,
        date_field="created_at",
        date_fields=("closed_at", "first_response_at"),
        value=F("pk"),
        measures=("count", *EXTRA_MEASURES),
        extra_measures=EXTRA_MEASURES,
        dimensions={
            "assignee": Dimension("assignee_id", "assignee__email"),
            "status": Dimension("status", kind="text"),
            "priority": Dimension("priority", kind="text"),
        },
        version="support",
        money=False,
        module="support",
        description=(
            "Support chats, counted by when they were opened, first answered or closed; "
            "seconds to the first response and to the close, summed."
        ),
    )
)
