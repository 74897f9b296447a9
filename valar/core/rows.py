"""List pages rendered straight from database rows, with the serializer's own output.

For a list whose serializer reads only plain columns, foreign-key ids and columns of related
rows (``team.name``), building model instances and walking DRF's field machinery for every
row is most of a request's time. :func:`row_plan` derives, once per serializer class, the
``.values()`` paths and each field's own ``to_representation``; a page is then one query of
plain rows, converted by the same functions DRF would call. Any field the plan cannot express
(nested serializers, method fields, properties) makes the plan ``None`` and the list falls
back to the serializer. A generic test checks that list rows equal detail bodies.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey, QuerySet
from rest_framework import serializers
from rest_framework.relations import PrimaryKeyRelatedField, RelatedField


@dataclass(frozen=True)
class RowPlan:
    """The ``.values()`` paths of a list and how each becomes an output field."""

    paths: tuple[str, ...]
    fields: tuple[tuple[str, str, Callable[[Any], Any] | None], ...]

    def render(self, row: dict[str, Any]) -> dict[str, Any]:
        """One output row, exactly as the serializer would give it."""
        return _render(row, self.fields)

    def render_page(self, rows) -> list[dict[str, Any]]:
        """The page's output rows, each exactly as the serializer would give it.

        DRF's ``DateTimeField`` looks the current time zone up for every value it writes
        (a context-local read); for a page it is looked up once and the field's own
        ``to_representation`` runs with that zone, the value DRF would have looked up.
        """
        fields = self.fields
        if any(_zoned(convert) for _, _, convert in fields):
            fields = tuple(
                (name, path, _pin_zone(convert) if _zoned(convert) else convert)
                for name, path, convert in fields
            )
        return [_render(row, fields) for row in rows]


def _render(row: dict[str, Any], fields) -> dict[str, Any]:
    """One output row from ``row`` with the converters of ``fields``."""
    out = {}
    for name, path, convert in fields:
        value = row[path]
        out[name] = value if value is None or convert is None else convert(value)
    return out


def _zoned(convert) -> bool:
    """Whether ``convert`` is a ``DateTimeField``'s that reads the current time zone."""
    field = getattr(convert, "__self__", None)
    return (
        isinstance(field, serializers.DateTimeField)
        and getattr(convert, "__func__", None) is serializers.DateTimeField.to_representation
        and not hasattr(field, "timezone")
    )


def _pin_zone(convert) -> Callable[[Any], Any]:
    """``convert`` on a copy of its field holding the zone DRF would look up now."""
    field = copy.copy(convert.__self__)
    field.timezone = field.default_timezone()
    return field.to_representation


_PLANS: dict[type, RowPlan | None] = {}


def _column_path(model, source: str, annotations) -> str | None:
    """The ``.values()`` path of a dotted ``source``, or ``None`` when it is not a column."""
    parts = source.split(".")
    current = model
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return source if index == 0 and len(parts) == 1 and source in annotations else None
        if field.is_relation and index < len(parts) - 1:
            current = field.related_model
        elif field.is_relation or index < len(parts) - 1:
            return None
    return "__".join(parts)


def row_plan(serializer_class: type[serializers.Serializer], queryset: QuerySet) -> RowPlan | None:
    """The plan that renders ``serializer_class`` from rows of ``queryset``, if one exists."""
    annotations = set(queryset.query.annotations)
    key = (serializer_class, frozenset(annotations))
    if key in _PLANS:
        return _PLANS[key]
    model = queryset.model
    fields: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    plan: RowPlan | None = None
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        if isinstance(field, PrimaryKeyRelatedField) and "." not in field.source:
            try:
                model_field = model._meta.get_field(field.source)
            except FieldDoesNotExist:
                break
            if not isinstance(model_field, ForeignKey):
                break
            fields.append((name, model_field.attname, None))
            continue
        if isinstance(field, RelatedField | serializers.BaseSerializer) or field.source == "*":
            break
        if isinstance(field, serializers.SerializerMethodField | serializers.ManyRelatedField):
            break
        path = _column_path(model, field.source, annotations)
        if path is None:
            break
        fields.append((name, path, field.to_representation))
    else:
        plan = RowPlan(
            paths=tuple(dict.fromkeys(path for _, path, _ in fields)), fields=tuple(fields)
        )
    _PLANS[key] = plan
    return plan
