"""Filter pieces shared by every resource's FilterSet."""

import copy
import datetime
import functools
import re
import uuid

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from valar.core.limits import MAX_DATE, MIN_DATE, date_range_message
from valar.core.serializers import DATE_SCHEMA, TIME_SCHEMA, parse_wall_time

#: The one date format the API accepts (`YYYY-MM-DD`), whatever the locale.
ISO_DATE = ["%Y-%m-%d"]


class StrictBooleanField(forms.TypedChoiceField):
    """``true`` or ``false`` (any case); anything else is a validation error, not ignored."""

    def __init__(self, *args, **kwargs):
        """Offer exactly the two values."""
        kwargs.pop("empty_value", None)
        super().__init__(
            *args,
            choices=[("true", "true"), ("false", "false")],
            coerce=lambda value: value == "true",
            empty_value=None,
            **kwargs,
        )

    def to_python(self, value):
        """Compare case-insensitively."""
        value = super().to_python(value)
        return value.lower() if isinstance(value, str) else value

    def valid_value(self, value):
        """Accept the two values in any case."""
        return str(value).lower() in ("true", "false")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean query parameter that refuses values other than ``true``/``false``."""

    field_class = StrictBooleanField


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number query parameter (``?min_score=0.5`` is a 400, as the schema says)."""

    field_class = forms.IntegerField


#: An amount in a query: what a money field takes (1-12 digits, up to 2 decimals), signed.
MONEY_FILTER_SCHEMA = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$",
}


class MoneyFormField(forms.DecimalField):
    """An amount query parameter of exactly :data:`MONEY_FILTER_SCHEMA`'s pattern."""

    def to_python(self, value):
        """Refuse exponents, more decimals or digits than money has, then parse exactly."""
        if value not in self.empty_values and not re.fullmatch(
            MONEY_FILTER_SCHEMA["pattern"], str(value)
        ):
            raise forms.ValidationError(
                "Give an amount: up to 12 digits and 2 decimals.", code="invalid"
            )
        return super().to_python(value)


class MoneyFilter(django_filters.NumberFilter):
    """An amount bound (``?min_value=100.50``): the money pattern, never a float or 1e50."""

    field_class = MoneyFormField

    def __init__(self, *args, **kwargs):
        """Declare the parameter with the money pattern."""
        super().__init__(*args, **kwargs)
        extend_schema_field(MONEY_FILTER_SCHEMA)(self)


class BoundedDateField(forms.DateField):
    """A ``YYYY-MM-DD`` query parameter from ``MIN_DATE`` to ``MAX_DATE``."""

    def __init__(self, *args, **kwargs):
        """Accept only ISO dates, within the range."""
        kwargs["input_formats"] = ISO_DATE
        super().__init__(*args, **kwargs)
        message = date_range_message()
        self.validators.append(MinValueValidator(MIN_DATE, message=message))
        self.validators.append(MaxValueValidator(MAX_DATE, message=message))


class DateFilter(django_filters.DateFilter):
    """A date query parameter (``YYYY-MM-DD``, 1900-01-01..2200-12-31); others are 400s."""

    field_class = BoundedDateField

    def __init__(self, *args, **kwargs):
        """Describe the parameter in the schema with its range (and its help text)."""
        super().__init__(*args, **kwargs)
        help_text = self.extra.get("help_text")
        extend_schema_field({**DATE_SCHEMA, **({"description": help_text} if help_text else {})})(
            self
        )


class WallTimeField(forms.TimeField):
    """A time query parameter of :data:`TIME_SCHEMA`'s pattern (an offset is ignored)."""

    def to_python(self, value):
        """Parse exactly the declared pattern."""
        if value in self.empty_values:
            return None
        parsed = parse_wall_time(value)
        if parsed is None:
            raise forms.ValidationError("Give a time as HH:MM[:SS[.ffffff]].", code="invalid")
        return parsed


@extend_schema_field(TIME_SCHEMA)
class TimeFilter(django_filters.TimeFilter):
    """A wall-clock time query parameter (``09:30``, ``09:30:00Z``; the offset is ignored)."""

    field_class = WallTimeField


class DateRangeForm(forms.Form):
    """Refuses a range whose ``start_date`` comes after its ``end_date``."""

    def clean(self):
        """Check the order of the two dates when both are given."""
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and start > end:
            raise forms.ValidationError({"end_date": "end_date must not be before start_date."})
        return data


class DateRangeFilterSet(django_filters.FilterSet):
    """``start_date`` / ``end_date`` (inclusive) on the resource's business date.

    Subclasses set ``date_field``; on a datetime field the dates are whole days in the
    server's time zone and the bounds are index-friendly ranges, not ``__date`` casts.
    """

    date_field = "created_at"

    start_date = DateFilter(
        method="filter_start_date", help_text="On or after this date (YYYY-MM-DD)."
    )
    end_date = DateFilter(
        method="filter_end_date", help_text="On or before this date (YYYY-MM-DD)."
    )

    def get_form_class(self):
        """Return the filter form, with the check of the range's order mixed in."""
        form_class = super().get_form_class()
        return type(form_class.__name__, (DateRangeForm, form_class), {})

    def _is_datetime(self) -> bool:
        """Whether ``date_field`` is a datetime (not a date) column."""
        field = self.queryset.model._meta.get_field(self.date_field)
        return isinstance(field, models.DateTimeField)

    @staticmethod
    def _day_start(day: datetime.date) -> datetime.datetime:
        """Return the first instant of ``day`` in the current time zone."""
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    def filter_start_date(self, queryset, name, value):
        """Keep rows on or after ``value``."""
        bound = self._day_start(value) if self._is_datetime() else value
        return queryset.filter(**{f"{self.date_field}__gte": bound})

    def filter_end_date(self, queryset, name, value):
        """Keep rows on or before ``value``."""
        if self._is_datetime():
            next_day = value + datetime.timedelta(days=1)
            return queryset.filter(**{f"{self.date_field}__lt": self._day_start(next_day)})
        return queryset.filter(**{f"{self.date_field}__lte": value})


class AliasOrderingFilter(OrderingFilter):
    """DRF's ``ordering=`` with public names mapped to columns (``ordering_aliases``).

    ``ordering=priority`` can sort by a ``priority_rank`` column, so a resource orders by
    meaning rather than by the alphabet of its labels. Without ``ordering_fields`` a view
    allows no ordering at all (DRF's default would allow every serializer field).
    """

    def get_valid_fields(self, queryset, view, context=None):
        """The public names the view allows (its ``ordering_fields``)."""
        fields = getattr(view, "ordering_fields", None) or []
        return [(name, name) for name in fields]

    def get_ordering(self, request, queryset, view):
        """Translate public names to columns, keeping the ``-`` prefix."""
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        aliases = getattr(view, "ordering_aliases", {})
        translated = []
        for term in ordering:
            descending = term.startswith("-")
            column = aliases.get(term.lstrip("-"), term.lstrip("-"))
            translated.append(f"-{column}" if descending else column)
        return translated


#: A user given by id or as ``me`` (the caller).
USER_REF_SCHEMA = {
    "oneOf": [
        {"type": "string", "format": "uuid"},
        {"type": "string", "enum": ["me"]},
    ],
    "description": "A user id, or `me` for the caller.",
}


class UserRefFilter(django_filters.CharFilter):
    """A user foreign key given as a user id, or ``me`` for the caller; bad ids are 400s."""

    def __init__(self, *args, **kwargs):
        """Describe the parameter: a UUID or the word ``me``."""
        kwargs.setdefault("help_text", "A user id, or `me` for the caller.")
        super().__init__(*args, **kwargs)
        extend_schema_field(USER_REF_SCHEMA)(self)

    def filter(self, qs, value):
        """Keep rows whose user is the one named."""
        if value in (None, ""):
            return qs
        if value == "me":
            user_id = self.parent.request.user.pk
        else:
            try:
                user_id = uuid.UUID(value)
            except ValueError as exc:
                raise ValidationError({self.field_name: ["Give a user id or `me`."]}) from exc
        return qs.filter(**{f"{self.field_name}_id": user_id})


def _depends_on_request(filterset_class) -> bool:
    """Whether a filter of the class builds its form field from the request (callable queryset)."""
    return any(
        isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset)
        for filter_ in filterset_class.base_filters.values()
    )


class FilterTemplates(dict):
    """A FilterSet's filters with their per-class state resolved once (model, label, form field).

    django-filter deep-copies every filter for every FilterSet instance, so for every request;
    a copy of one of these is shallow: it shares the resolved label and form field (neither is
    changed by filtering) and gets its own ``method`` binding, ``model`` and ``parent``.
    """

    def __init__(self, filters: dict, model):
        """Copy ``filters`` once and resolve what each builds lazily for ``model``."""
        super().__init__(copy.deepcopy(filters))
        for filter_ in self.values():
            filter_.model = model
            filter_.label  # noqa: B018 (resolves and keeps the label)
            filter_.field  # noqa: B018 (builds and keeps the form field)

    def __deepcopy__(self, memo):
        """The per-instance copies: shallow, each bound to itself (``method``)."""
        copies = {}
        for name, template in self.items():
            filter_ = copy.copy(template)
            if template.method is not None:
                filter_.method = template.method  # a FilterMethod of the copy, not the template
            copies[name] = filter_
        return copies


class SharedFields(dict):
    """A filter form's fields, shared by its instances: copying them is a shallow copy.

    A form deep-copies its fields per instance so that one instance may change its own; a
    filter form never does, and cleaning a value leaves a field as it was.
    """

    def __deepcopy__(self, memo):
        """A new mapping of the same fields."""
        return dict(self)


@functools.cache
def form_once(filterset_class: type[django_filters.FilterSet]) -> type[django_filters.FilterSet]:
    """``filterset_class`` building its form class and its filters' state once per process.

    django-filter builds a new form class (fields, metaclass) and deep-copies every filter
    for every FilterSet instance, so for every request; the fields depend on the class only,
    unless a filter's queryset is a function of the request, in which case the class is
    returned unchanged. Each instance still has its own filters and form (:class:`FilterTemplates`,
    :class:`SharedFields`), so no request sees another's values.
    """
    if _depends_on_request(filterset_class):
        return filterset_class

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_built_form_class")
        if form_class is None:
            form_class = super(once, self).get_form_class()
            form_class.base_fields = SharedFields(form_class.base_fields)
            cls._built_form_class = form_class
        return form_class

    once = type(
        filterset_class.__name__,
        (filterset_class,),
        {
            "__module__": filterset_class.__module__,
            "__qualname__": filterset_class.__qualname__,
            "__doc__": filterset_class.__doc__,
            "get_form_class": get_form_class,
        },
    )
    model = filterset_class._meta.model
    if model is not None:
        once.base_filters = FilterTemplates(once.base_filters, model)
    return once


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend with each FilterSet (and its form class) built once per process.

    An empty filter value is a 400, not ignored: ``?team=`` or ``?successful=`` is not a UUID
    or a boolean, as the schema declares them, and django-filter would drop the filter and
    answer every row. Only a plain text filter (``CharFilter`` itself, a free string in the
    schema) may be given empty, and is then unused.

    Views name ``filterset_class`` or ``filterset_fields`` as with django-filter; the class made
    from ``filterset_fields`` is kept per view class instead of being declared per request.
    """

    _auto: dict[tuple[type, type], type] = {}

    def get_filterset_class(self, view, queryset=None):
        """The view's FilterSet class, built once, whose form class is built once."""
        if getattr(view, "filterset_class", None) is None and queryset is not None:
            key = (type(view), queryset.model)
            filterset_class = self._auto.get(key)
            if filterset_class is None:
                filterset_class = super().get_filterset_class(view, queryset)
                self._auto[key] = filterset_class
        else:
            filterset_class = super().get_filterset_class(view, queryset)
        return None if filterset_class is None else form_once(filterset_class)

    def get_filterset(self, request, queryset, view):
        """Refuse empty values of typed filters before filtering."""
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        empty = sorted(
            name
            for name, filter_ in filterset.filters.items()
            if type(filter_) is not django_filters.CharFilter
            and name in request.query_params
            and any(value == "" for value in request.query_params.getlist(name))
        )
        if empty:
            raise ValidationError({name: ["Must not be empty."] for name in empty})
        return filterset
