"""The shapes of the engine's documents and of the reports built on them, for the schema.

These serializers only describe responses (views return the selectors' dicts as they are);
the schema tests and the fuzz's response check keep the two in step.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from valar.core.metrics.engine import INTERVALS
from valar.core.metrics.registry import sources
from valar.core.serializers import StrictCharField, StrictUUIDField

#: Money as the API answers it: an exact decimal string with two decimals (may be negative).
MONEY_OUT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
MONEY_OUT = {"type": "string", "format": "decimal", "pattern": MONEY_OUT_PATTERN}
#: A percentage or ratio shown as a decimal string (``12.50``).
PERCENT_OUT = {**MONEY_OUT, "nullable": True}
#: One cell of a document: money as a decimal string, a count as an integer, or null
#: (``min``/``max``/``avg`` of an empty bucket).
VALUE_SCHEMA = {
    "oneOf": [MONEY_OUT, {"type": "integer"}],
    "nullable": True,
    "description": "Money as a decimal string, a count as an integer, null when undefined.",
}


@extend_schema_field(MONEY_OUT)
class MoneyOutField(serializers.CharField):
    """A money figure of a report (a decimal string with two decimals)."""


@extend_schema_field(PERCENT_OUT)
class PercentOutField(serializers.CharField):
    """A percentage of a report as a decimal string, or null when it has no base."""


@extend_schema_field(VALUE_SCHEMA)
class MetricValueField(serializers.Field):
    """A value of a metrics document (see :data:`VALUE_SCHEMA`)."""


def source_names() -> list[str]:
    """Every registered source (the apps register theirs when Django starts)."""
    return sorted(sources())


def dimension_names() -> list[str]:
    """Every dimension any source may be grouped or filtered by."""
    return sorted({name for source in sources().values() for name in source.dimensions})


def measure_names() -> list[str]:
    """Every measure any source offers."""
    names = {"sum", "count", "avg", "min", "max"}
    for source in sources().values():
        names |= set(source.measures)
    return sorted(names)


def date_field_names() -> list[str]:
    """Every date field any source may be bucketed by."""
    return sorted({name for source in sources().values() for name in source.allowed_date_fields()})


#: ``filters`` of a query: dimension -> an id (or choice value) or a non-empty list of them.
FILTERS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "integer"},
            {
                "type": "array",
                "minItems": 1,
                "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            },
        ]
    },
    "description": "Dimension -> an id (a UUID for related rows, a value for choices) or a "
    "list of them; the dimension must be one the source offers.",
}


@extend_schema_field(FILTERS_SCHEMA)
class FiltersField(serializers.DictField):
    """The ``filters`` of a metrics query."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
)
class NormalisedFiltersField(serializers.DictField):
    """``filters`` as a document echoes them: each dimension with its sorted list of ids."""


class MetricQueryEchoSerializer(serializers.Serializer):
    """The normalised query a document was computed from."""

    def get_fields(self):
        """The fields, with the sources' enums read from the registry."""
        return {
            "source": StrictCharField(help_text="The source queried."),
            "measure": serializers.ChoiceField(choices=measure_names()),
            "start_date": serializers.DateField(),
            "end_date": serializers.DateField(),
            "interval": serializers.ChoiceField(choices=list(INTERVALS), allow_null=True),
            "group_by": serializers.ChoiceField(choices=dimension_names(), allow_null=True),
            "filters": NormalisedFiltersField(),
            "date_field": serializers.ChoiceField(choices=date_field_names()),
            "owner": StrictUUIDField(
                required=False,
                help_text="Present when the figures count only this member's own rows.",
            ),
        }


class SeriesSerializer(serializers.Serializer):
    """One series of a document: its name, the key of its group, one value per label."""

    name = StrictCharField()
    key = StrictCharField(
        allow_null=True, help_text="The group's id or value; null when not grouped."
    )
    data = serializers.ListField(child=MetricValueField())


class NamedSeriesSerializer(serializers.Serializer):
    """A series of a report: its name and one value per label."""

    name = StrictCharField()
    data = serializers.ListField(child=MetricValueField())


class MetricsDocumentSerializer(serializers.Serializer):
    """The engine's document: labels, series, totals per series, and how it was computed."""

    labels = serializers.ListField(child=StrictCharField())
    series = SeriesSerializer(many=True)
    totals = serializers.DictField(
        child=MetricValueField(), help_text="Each series' total, by series name."
    )
    currency = StrictCharField(
        allow_null=True, help_text="The base currency of money values; null for counts."
    )
    query = MetricQueryEchoSerializer()
    generated_at = serializers.DateTimeField()
