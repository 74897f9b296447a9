"""Serializer fields shared by every app."""

import datetime
import re
import zoneinfo
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_time
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from valar.core.limits import MAX_DATE, MIN_DATE, date_range_message
from valar.core.money import CURRENCIES
from valar.core.policy import visible_rows

#: The schema of every date the API accepts: ISO 8601, and its year within the accepted range.
DATE_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
}

#: A wall-clock time (``HH:MM``, ``HH:MM:SS`` or with microseconds). Answers carry no offset;
#: an offset on input (``Z``, ``+01:00``, as RFC 3339 clients add) is accepted and ignored.
TIME_PATTERN = (
    r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
TIME_SCHEMA = {
    "type": "string",
    "pattern": TIME_PATTERN,
    "example": "09:30:00",
    "description": "A wall-clock time, HH:MM[:SS[.ffffff]], in the organization's time zone. "
    "Answers carry no offset; an offset on input (Z, +01:00) is accepted and ignored.",
}


def parse_wall_time(value) -> datetime.time | None:
    """A time matching :data:`TIME_PATTERN`, its offset dropped; ``None`` otherwise."""
    if not isinstance(value, str) or not re.fullmatch(TIME_PATTERN, value):
        return None
    return parse_time(value)


def reads_text(field: serializers.Field) -> bool:
    """Whether ``field`` reads a query string or a form, where every value is text by nature.

    Query parameters and the fields of a multipart upload arrive as strings, so ``"5"`` is how
    an integer is spelled there; in a JSON body the JSON type is part of the contract.
    """
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class StrictTypeMixin:
    """A JSON body value must have the JSON type the schema declares; no coercion.

    DRF turns ``5`` into ``"5"`` for a string field, ``"5"`` into ``5`` for an integer and
    ``1``/``"true"`` into ``True`` for a boolean. The schema promises one type per field, so
    in a JSON body anything else is a 400 on the field (query strings and forms are text and
    keep DRF's parsing, see :func:`reads_text`).
    """

    #: The Python types the JSON parser yields for the declared JSON type.
    json_types: tuple[type, ...] = ()
    #: The JSON type's name, for the error message.
    json_type_name = ""

    def to_internal_value(self, data):
        """Refuse a value of another JSON type, then parse as DRF does."""
        wrong_type = not isinstance(data, self.json_types) or (
            isinstance(data, bool) and bool not in self.json_types
        )
        if wrong_type and not reads_text(self):
            raise serializers.ValidationError(
                f"Must be {self.json_type_name}, not {json_type_of(data)}.", code="invalid_type"
            )
        return super().to_internal_value(data)


def json_type_of(value) -> str:
    """The JSON name of a parsed value's type (for error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class StrictStringMixin(StrictTypeMixin):
    """:class:`StrictTypeMixin` for the string fields: JSON strings only."""

    json_types = (str,)
    json_type_name = "a string"


class StrictCharField(StrictStringMixin, serializers.CharField):
    """A string field that takes JSON strings only."""


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    """An e-mail field that takes JSON strings only."""


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    """A pattern-checked string field that takes JSON strings only."""


class CurrencyField(StrictStringMixin, serializers.ChoiceField):
    """An ISO 4217 currency code (``EUR``); the schema lists them (``CurrencyEnum``)."""

    def __init__(self, **kwargs):
        """The choices are :data:`valar.core.money.CURRENCIES`."""
        kwargs.setdefault("help_text", "ISO 4217 code.")
        super().__init__(choices=CURRENCIES, **kwargs)


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    """A slug field that takes JSON strings only."""


class StrictURLField(StrictStringMixin, serializers.URLField):
    """A URL field that takes JSON strings only."""


class StrictUUIDField(StrictStringMixin, serializers.UUIDField):
    """A UUID field that takes JSON strings only (DRF would read an integer as a UUID)."""


class StrictIntegerField(StrictTypeMixin, serializers.IntegerField):
    """An integer field that takes JSON numbers only (not ``"5"`` or ``true``).

    ``5.0`` is the integer 5 in JSON Schema and is accepted; ``5.5`` is refused by DRF.
    """

    json_types = (int, float, Decimal)
    json_type_name = "an integer"


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query parameter: ASCII digits only (``1.0``, ``+1``, ``1e3`` or a
    digit of another script are a 400 ``invalid``, as the schema's integer says)."""

    def to_internal_value(self, data):
        """Refuse anything but ASCII digits, then read the number."""
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(StrictTypeMixin, serializers.FloatField):
    """A number field that takes JSON numbers only (not strings or booleans)."""

    json_types = (int, float, Decimal)
    json_type_name = "a number"


class StrictBooleanField(StrictTypeMixin, serializers.BooleanField):
    """A boolean field that takes JSON ``true``/``false`` only (not ``1`` or ``"true"``)."""

    json_types = (bool,)
    json_type_name = "a boolean"


#: The strict field for each model field class, for every ModelSerializer (``valar.core.apps``).
STRICT_MODEL_FIELDS = {
    "CharField": StrictCharField,
    "TextField": StrictCharField,
    "EmailField": StrictEmailField,
    "SlugField": StrictSlugField,
    "URLField": StrictURLField,
    "UUIDField": StrictUUIDField,
    "IntegerField": StrictIntegerField,
    "SmallIntegerField": StrictIntegerField,
    "BigIntegerField": StrictIntegerField,
    "PositiveIntegerField": StrictIntegerField,
    "PositiveSmallIntegerField": StrictIntegerField,
    "PositiveBigIntegerField": StrictIntegerField,
    "FloatField": StrictFloatField,
    "BooleanField": StrictBooleanField,
}


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in a request body that must belong to the request's organization.

    A row of another organization is reported exactly like a missing one: a 400 on the field,
    never a hint that it exists. ``tenant_lookup`` is the path from the related model to its
    organization (``organization`` for tenant models, ``memberships__organization`` for users).
    ``module`` names the policy module of the related rows: the caller may then refer only to
    rows they may read there (``view: own`` hides others' rows here too, as a missing id).
    """

    def __init__(self, *, tenant_lookup: str = "organization", module: str | None = None, **kwargs):
        """Keep the lookup path to the organization and the related rows' module."""
        self.tenant_lookup = tenant_lookup
        self.module = module
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        """Refuse ``""`` in a JSON body (DRF reads it as null); it is not an id."""
        if data == "" and not reads_text(self):
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)

    def to_internal_value(self, data):
        """The row ``data`` names; from the rows the bulk service preloaded, when it did.

        ``context["preloaded"][field_name]`` maps primary keys to the rows of
        :meth:`get_queryset` that a bulk request names (one query for all its items,
        :func:`preload_related`); an id missing there is reported as a missing row is.
        """
        preloaded = self.context.get("preloaded", {}).get(self.field_name)
        if preloaded is None or isinstance(data, bool):
            return super().to_internal_value(data)
        key = pk_of(self.get_queryset().model, data)
        if key is None:
            return super().to_internal_value(data)  # refused as malformed, with no query
        if key not in preloaded:
            self.fail("does_not_exist", pk_value=data)
        return preloaded[key]

    def get_queryset(self):
        """The declared queryset narrowed to the request's organization (none without one)."""
        queryset = super().get_queryset()
        tenant = self.context.get("tenant")
        if tenant is None:
            return queryset.none()
        queryset = queryset.filter(**{self.tenant_lookup: tenant.organization}).distinct()
        if self.module is not None:
            queryset = visible_rows(queryset, membership=tenant.membership, module=self.module)
        return queryset


def pk_of(model, value):
    """``value`` as ``model``'s primary key, or ``None`` when it cannot be one."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        return model._meta.pk.to_python(value)
    except (DjangoValidationError, TypeError, ValueError):
        return None


def preload_related(serializer: serializers.Serializer, items) -> dict[str, dict]:
    """The rows each :class:`TenantRelatedField` of ``serializer`` will be given in ``items``.

    One query per such field (whatever the number of items), through the field's own scoped
    queryset, so a row of another organization (or one the caller may not read) is missing
    exactly as it would be for a single item. Put the result in the serializer context as
    ``preloaded``.
    """
    preloaded: dict[str, dict] = {}
    for name, field in serializer.fields.items():
        if field.read_only or not isinstance(field, TenantRelatedField):
            continue
        model = field.get_queryset().model
        keys = {
            key
            for item in items
            if hasattr(item, "get")
            and (key := pk_of(model, None if isinstance(item.get(name), bool) else item.get(name)))
            is not None
        }
        rows = field.get_queryset().filter(pk__in=keys) if keys else []
        preloaded[name] = {row.pk: row for row in rows}
    return preloaded


#: The text a money amount is read from (the digit and decimal limits are checked after).
MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class MoneyField(serializers.DecimalField):
    """A money amount: exact, at most 12 digits before the point and 2 after, never a float.

    Accepts a decimal string or a JSON number (parsed exactly by :class:`DecimalJSONParser`);
    more than two decimals, NaN, infinities and values below ``min_value`` (0 by default) are
    400s. Always answers a string with two decimals.
    """

    def __init__(self, *, positive: bool = False, **kwargs):
        """Fix the precision; default to non-negative amounts.

        ``positive`` declares in the schema that zero is refused too (by the service).
        """
        self.positive = positive
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        """Refuse a blank string in a JSON body (DRF reads it as null); it is not an amount."""
        if isinstance(data, str) and not data.strip() and not reads_text(self):
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        """Refuse floats that slipped past the exact parser (form data is text already), and
        any text but ASCII digits with an optional ``-`` and point: Python's ``Decimal()``
        would read ``"5_0"``, ``"1E1"``, ``" 5 "`` or Arabic-Indic digits as amounts."""
        if isinstance(data, float):
            raise serializers.ValidationError("Send money as a decimal string or exact number.")
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        text = data if isinstance(data, str) else str(data)
        if MONEY_TEXT.fullmatch(text) is None:
            self.fail("invalid")
        unsigned = self.positive or (self.min_value is not None and self.min_value >= 0)
        if unsigned and text.startswith("-"):  # "-0" too: the schema allows no sign here
            if self.positive:
                raise serializers.ValidationError("The amount must be greater than zero.")
            self.fail("min_value", min_value=self.min_value)
        value = super().to_internal_value(text)
        return abs(value) if value == 0 else value  # never answer "-0.00"


@lru_cache(maxsize=1)
def time_zone_names() -> list[str]:
    """The IANA time-zone names this machine knows, sorted."""
    return sorted(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def time_zone_set() -> frozenset[str]:
    """The same names, for membership tests."""
    return frozenset(time_zone_names())


class TimeZoneField(StrictCharField):
    """An IANA time-zone name (``Europe/Paris``); the schema lists them as an enum."""

    default_error_messages = {"unknown": "Unknown time zone."}

    def __init__(self, **kwargs):
        """At most 64 characters, like the columns that keep them; declared as an enum."""
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        extend_schema_field({"type": "string", "enum": time_zone_names()})(self)

    def to_internal_value(self, data):
        """Accept known names only."""
        value = super().to_internal_value(data)
        if value not in time_zone_set():
            self.fail("unknown")
        return value


#: A character Python's ``str.strip()`` keeps (DRF trims with it): what a text that may not be
#: blank must contain. Spelled out because ``\S`` means different sets in JSON Schema's
#: (ECMA-262) and Python's regular expressions: Python also strips U+001C..U+001F and U+0085,
#: which ECMA's ``\s`` does not name, and keeps U+FEFF, which ECMA's does.
NOT_BLANK_PATTERN = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """A required text's schema says it needs a non-space character (DRF trims whitespace).

    ``"   "`` trims to ``""``, which a field that may not be blank refuses; ``minLength: 1``
    alone would call it valid, so the request schema adds the pattern ``\\S`` (unless a
    regex validator gives the field its own pattern).
    """

    target_class = "valar.core.serializers.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        """The usual schema, with the pattern on input when blanks are refused."""
        field = self.target
        schema = {"type": "string"}  # drf-spectacular adds the meta and the length bounds
        if (
            direction == "request"
            and field.trim_whitespace
            and not field.allow_blank
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A plain decimal's schema (an exchange rate): a number as DRF reads it, at least a digit.

    drf-spectacular's pattern admits ``""``, ``"-"`` and ``"."``, which DRF refuses; this one
    states what DRF parses: an optional sign, the whole digits, the decimals.
    """

    target_class = "rest_framework.fields.DecimalField"

    def map_serializer_field(self, auto_schema, direction):
        """A decimal string of the field's digits."""
        field = self.target
        whole = field.max_whole_digits
        places = field.decimal_places
        number = (
            rf"([0-9]{{1,{whole}}}(\.[0-9]{{0,{places}}})?|\.[0-9]{{1,{places}}})"
            if whole
            else rf"(0?\.[0-9]{{1,{places}}}|0)"
        )
        return {"type": "string", "format": "decimal", "pattern": rf"^[-+]?{number}$"}


#: A quantity: greater than zero, at most 9 whole digits and 3 decimals.
QUANTITY_PATTERN = (
    r"^(0*[1-9][0-9]{0,8}(\.[0-9]{1,3})?|0*\.(00[1-9]|0[1-9][0-9]?|[1-9][0-9]{0,2}))$"
)
#: A percentage from 0 to 100 with at most 2 decimals.
PERCENT_PATTERN = r"^(0*100(\.0{1,2})?|0*[0-9]{1,2}(\.[0-9]{1,2})?|0*\.[0-9]{1,2})$"


class PatternDecimalField(serializers.DecimalField):
    """A decimal whose text must match ``pattern``: the schema states it, the field enforces it.

    Accepts a decimal string or an exact JSON number (as :class:`MoneyField` does); a float,
    a boolean or text outside the pattern is a 400.
    """

    def __init__(self, *, pattern: str, **kwargs):
        """Keep the pattern the value's text must match."""
        self.pattern = pattern
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        """Check the text against the pattern, then parse as DRF does."""
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        text = data if isinstance(data, str) else str(data)
        if re.fullmatch(self.pattern, text) is None:
            self.fail("invalid")
        return super().to_internal_value(text)


#: An exchange rate: up to 10 digits and 8 decimals, plain ASCII digits.
RATE_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,8})?$"


def RateField(**kwargs) -> PatternDecimalField:  # noqa: N802 (a field, named like one)
    """An optional exchange rate to the base currency, as every row stores it (8 decimals)."""
    kwargs.setdefault(
        "help_text", "Units of the base currency per unit of `currency` (1 in the base currency)."
    )
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    return PatternDecimalField(max_digits=18, decimal_places=8, pattern=RATE_PATTERN, **kwargs)


class PatternDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A pattern decimal's schema: a decimal string of exactly the field's pattern."""

    target_class = "valar.core.serializers.PatternDecimalField"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        """The field's pattern, for requests and responses alike."""
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """A money field's schema: an exact decimal string of what is accepted and answered.

    Input: 1 to 12 digits, optionally a point and 1 or 2 decimals; a leading ``-`` only when
    negative amounts are allowed; ``minimum`` (or ``exclusiveMinimum``) states the bound.
    Output: always two decimals.
    """

    target_class = "valar.core.serializers.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        """The schema for requests or responses."""
        field = self.target
        minimum = field.min_value
        signed = "" if field.positive or (minimum is not None and minimum >= 0) else "-?"
        if direction == "response":
            pattern = rf"^{signed}[0-9]{{1,12}}\.[0-9]{{2}}$"
        elif field.positive:
            pattern = r"^(0*[1-9][0-9]{0,11}(\.[0-9]{1,2})?|0{1,12}\.(0[1-9]|[1-9][0-9]?))$"
        else:
            pattern = rf"^{signed}[0-9]{{1,12}}(\.[0-9]{{1,2}})?$"
        schema = {"type": "string", "format": "decimal", "pattern": pattern}
        if direction == "request":
            if field.positive:
                schema["exclusiveMinimum"] = 0
                schema["description"] = "Greater than zero."
            elif minimum is not None:
                schema["minimum"] = float(minimum) if minimum % 1 else int(minimum)
                schema["description"] = f"At least {minimum}."
        return schema


@extend_schema_field(TIME_SCHEMA)
class TimeField(serializers.TimeField):
    """A wall-clock time (see :data:`TIME_SCHEMA`): exactly the declared pattern is accepted."""

    def to_internal_value(self, value):
        """Parse a time of the declared pattern, dropping any offset."""
        if isinstance(value, datetime.time):
            return value
        parsed = parse_wall_time(value)
        if parsed is None:
            self.fail("invalid", format="HH:MM[:SS[.ffffff]]")
        return parsed


@extend_schema_field(DATE_SCHEMA)
class DateField(serializers.DateField):
    """A ``YYYY-MM-DD`` date from ``MIN_DATE`` to ``MAX_DATE`` (1900-01-01..2200-12-31).

    Every date the API accepts is one of these (``valar.core.apps`` maps model date fields to
    it), so date arithmetic on input can never leave the calendar.
    """

    def __init__(self, **kwargs):
        """Add the range validators."""
        super().__init__(**kwargs)
        message = date_range_message()
        self.validators.append(MinValueValidator(MIN_DATE, message=message))
        self.validators.append(MaxValueValidator(MAX_DATE, message=message))


class InstantField(serializers.DateTimeField):
    """An ISO 8601 instant of exactly the schema's ``date-time`` pattern (``core.schema``).

    ``2026-01-31T09:15:00Z``, a space for the ``T``, optional seconds and fraction, an offset
    or none (then UTC). What the pattern refuses is refused here too (Python would also read
    ``20260131`` or a bare date); the answer is always in UTC.
    """

    def to_internal_value(self, value):
        """Check the pattern, then parse; a naive instant is taken as UTC."""
        from valar.core.schema import FORMAT_PATTERNS

        if isinstance(value, datetime.datetime):
            return super().to_internal_value(value)
        if not isinstance(value, str) or not re.fullmatch(FORMAT_PATTERNS["date-time"], value):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][Z|+hh:mm]")
        parsed = super().to_internal_value(value)
        try:
            return parsed.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][Z|+hh:mm]")


class QuerySerializer(serializers.Serializer):
    """Query parameters read with a serializer: a parameter given empty is a 400.

    DRF reads ``?start_date=`` as if the parameter were absent; the schema declares a date (or
    an enum, a number), which an empty value is not.
    """

    def to_internal_value(self, data):
        """Refuse declared parameters given with an empty value, then validate."""
        if isinstance(data, QueryDict):
            empty = sorted(
                name
                for name, field in self.fields.items()
                if not field.read_only
                and "" in data.getlist(name)
                and not getattr(field, "allow_blank", False)
            )
            if empty:
                raise serializers.ValidationError({name: ["Must not be empty."] for name in empty})
        return super().to_internal_value(data)


class PeriodSerializer(QuerySerializer):
    """``start_date``/``end_date`` query parameters: this month by default, at most 5 years."""

    start_date = DateField(
        required=False, help_text="First day (inclusive); the first of this month by default."
    )
    end_date = DateField(
        required=False,
        help_text="Last day (inclusive), not before start_date and at most 5 years after it; "
        "today by default.",
    )

    def validate(self, attrs):
        """Fill in this month; refuse an end before the start or a range over 5 years."""
        today = timezone.localdate()
        attrs.setdefault("start_date", today.replace(day=1))
        attrs.setdefault("end_date", today)
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["Must not be before start_date."]})
        if attrs["end_date"] - attrs["start_date"] > datetime.timedelta(days=5 * 366):
            raise serializers.ValidationError({"end_date": ["A period covers at most 5 years."]})
        return attrs
