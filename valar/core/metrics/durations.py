"""Durations in SQL: whole seconds between two datetime columns, on SQLite and PostgreSQL.

The metrics engine's measures are additive, so durations are summed as whole seconds next to
the counts they divide by (``support``), or ranked in one query for a median (``screening``).
"""

from django.db.models import BigIntegerField, DurationField, ExpressionWrapper, F, Func


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
