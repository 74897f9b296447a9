"""The registry of metric sources; each app registers its own in ``<app>/metrics.py``."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Expression, F, Max, Min, Model, Q, Sum


@dataclass(frozen=True)
class Dimension:
    """A way to split a source: the column grouped on and the column naming each group."""

    key: str
    label: str | None = None
    #: ``uuid`` for foreign keys (filter values must be ids), ``text`` for choices.
    kind: str = "uuid"


@dataclass(frozen=True)
class Source:
    """Something to aggregate: a model, its business date, its value and its dimensions.

    ``value`` is the expression measures apply to (``F("base_amount")``, or a signed case for
    profit); ``filter`` narrows the model's rows; ``version`` names the cache version every
    write of the model bumps; ``money`` says values are amounts in the base currency;
    ``module`` is the policy module a caller needs to see it; ``date_fields`` are the other
    dates a query may bucket by (``date_field`` is the default).
    """

    name: str
    model: type[Model]
    date_field: str
    value: Expression | F
    measures: tuple[str, ...] = ("sum", "count", "avg", "min", "max")
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    filter: Q = field(default_factory=Q)
    version: str = ""
    money: bool = True
    module: str = ""
    date_fields: tuple[str, ...] = ()
    #: Measures beyond the standard five, as ``name -> aggregate expression``.
    extra_measures: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def allowed_date_fields(self) -> tuple[str, ...]:
        """Every date field a query may name, the default first."""
        return (self.date_field, *[f for f in self.date_fields if f != self.date_field])

    def aggregate(self, measure: str) -> Any:
        """The aggregate expression of ``measure`` over this source's value."""
        if measure in self.extra_measures:
            return self.extra_measures[measure]
        factories: dict[str, Callable[[], Any]] = {
            "sum": lambda: Sum(self.value),
            "count": lambda: Count("pk"),
            "avg": lambda: Avg(self.value),
            "min": lambda: Min(self.value),
            "max": lambda: Max(self.value),
        }
        return factories[measure]()


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a source to the registry (an app's ``metrics.py`` calls this at import)."""
    _SOURCES[source.name] = source
    return source


def get_source(name: str) -> Source | None:
    """The registered source called ``name``, if any."""
    return _SOURCES.get(name)


def sources() -> dict[str, Source]:
    """Every registered source, by name."""
    return dict(_SOURCES)
