"""Lead scoring: one table of weights, applied to one lead in Python or to many in SQL.

:func:`score` is the rule; :func:`score_expression` is the same rule as a database expression
for re-scoring every open lead of an organization in one ``UPDATE``. Tests check both agree.
"""

from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Least

DEFAULT_WEIGHTS: dict[str, int] = {
    "email": 10,
    "phone": 10,
    "company": 15,
    "job_title": 10,
    "source_referral": 25,
    "source_partner": 20,
    "source_website": 15,
    "source_event": 10,
    "value_over_100k": 20,
    "value_over_50k": 15,
    "value_over_10k": 10,
}
MAX_SCORE = 100
VALUE_BANDS = (
    ("value_over_100k", Decimal("100000")),
    ("value_over_50k", Decimal("50000")),
    ("value_over_10k", Decimal("10000")),
)
PRESENCE_FIELDS = ("email", "phone", "company", "job_title")


def weights_of(settings: dict[str, Any] | None) -> dict[str, int]:
    """The organization's weights over the defaults (unknown keys are ignored)."""
    configured = (settings or {}).get("lead_scoring_weights") or {}
    return {key: int(configured.get(key, default)) for key, default in DEFAULT_WEIGHTS.items()}


def score(lead: Any, weights: dict[str, int]) -> int:
    """The score of one lead (0-100): known facts, the source, and the estimated value."""
    total = sum(weights[field] for field in PRESENCE_FIELDS if getattr(lead, field, ""))
    total += weights.get(f"source_{lead.source}", 0)
    value = lead.estimated_value
    if value is not None:
        for key, threshold in VALUE_BANDS:
            if value > threshold:
                total += weights[key]
                break
    return min(total, MAX_SCORE)


def score_expression(weights: dict[str, int]):
    """The same rule as a SQL expression over the lead's columns."""
    parts = [
        Case(When(~Q(**{field: ""}), then=Value(weights[field])), default=Value(0))
        for field in PRESENCE_FIELDS
    ]
    sources = [
        When(source=key.removeprefix("source_"), then=Value(weight))
        for key, weight in weights.items()
        if key.startswith("source_")
    ]
    parts.append(Case(*sources, default=Value(0)))
    parts.append(
        Case(
            *[
                When(estimated_value__gt=threshold, then=Value(weights[key]))
                for key, threshold in VALUE_BANDS
            ],
            default=Value(0),
        )
    )
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return Least(total, Value(MAX_SCORE), output_field=IntegerField())
