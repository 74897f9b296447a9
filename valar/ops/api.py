"""Operations endpoints: the API root, ``health/`` and the runtime configuration ``ops/config/``."""

import re

from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.core import sysconfig
from valar.core.permissions import IsPlatformOperator
from valar.core.serializers import StrictCharField, StrictIntegerField, StrictRegexField
from valar.core.throttling import OperatorThrottle
from valar.core.viewsets import refuse_undeclared_method
from valar.ops import selectors, services

HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "error"]),
        "database": serializers.ChoiceField(choices=["ok", "error"]),
        "cache": serializers.ChoiceField(choices=["ok", "error"]),
    },
)

API_PREFIX = "api/v1/"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _routes(patterns, prefix: str = "") -> list[str]:
    """Every route under ``patterns``, as URL templates."""
    routes: list[str] = []
    for pattern in patterns:
        text = prefix + _GROUP.sub(r"{\1}", str(pattern.pattern).lstrip("^").rstrip("$"))
        text = text.replace("\\Z", "")
        if isinstance(pattern, URLResolver):
            routes.extend(_routes(pattern.url_patterns, text))
        elif isinstance(pattern, URLPattern):
            routes.append(text)
    return routes


def api_map() -> dict[str, list[str]]:
    """The API's endpoints grouped by app (the first path segment after ``/api/v1/``)."""
    grouped: dict[str, list[str]] = {}
    for route in _routes(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX) or route == API_PREFIX:
            continue
        app = route[len(API_PREFIX) :].split("/", 1)[0]
        grouped.setdefault(app, []).append("/" + route)
    return {app: sorted(set(paths)) for app, paths in sorted(grouped.items())}


class ApiRootView(APIView):
    """``GET /api/v1/``: the apps of the API and their endpoints."""

    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        responses=inline_serializer(
            "ApiRoot",
            {"apps": serializers.DictField(child=serializers.ListField(child=StrictCharField()))},
        ),
    )
    def get(self, request):
        """List every app and its endpoint templates."""
        return Response({"apps": api_map()})


class HealthView(APIView):
    """Whether the database and the cache answer.

    200 ``ok`` when both do, 200 ``degraded`` when only the cache does not (the API still
    answers, from the database), 503 ``error`` when the database does not.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(auth=[], responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        """Check each component now."""
        report = selectors.health()
        return Response(report, status=503 if report["status"] == "error" else 200)


@extend_schema_field({"type": ["string", "integer", "null"]})
class SettingValueField(serializers.Field):
    """A setting's value as stored: a string (rate, score, mailbox) or an integer."""

    def to_representation(self, value):
        """The value as it is."""
        return value


class SettingSerializer(serializers.Serializer):
    """One runtime setting: its effective value, its default, and who changed it last when."""

    key = serializers.ChoiceField(choices=sysconfig.KEYS, read_only=True)
    group = serializers.ChoiceField(choices=sysconfig.GROUPS, read_only=True)
    type = serializers.ChoiceField(
        choices=["rate", "integer", "score", "mailbox"],
        read_only=True,
        help_text="`rate` (`120/min`), `integer`, `score` (a decimal string, 0 to 1) or "
        "`mailbox` (`address` or `Name <address>`).",
    )
    description = StrictCharField(read_only=True)
    value = SettingValueField(read_only=True, help_text="What the service uses now.")
    default_value = SettingValueField(
        read_only=True, help_text="The value from the settings (environment) used when reset."
    )
    overridden = serializers.BooleanField(read_only=True)
    updated_by = serializers.UUIDField(read_only=True, allow_null=True)
    updated_by_email = serializers.EmailField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


#: The pattern, the longest value and the error message of each kind of string setting.
FORMATS = {
    "rate": (
        sysconfig.RATE_PATTERN,
        20,
        "Give a rate such as 120/min: 1 to 999999999 requests per second (s, sec), minute "
        "(m, min), hour (h) or day (d).",
    ),
    "score": (
        sysconfig.SCORE_PATTERN,
        6,
        'Give a decimal from 0 to 1 with at most 4 decimals, as a string ("0.85").',
    ),
    "mailbox": (
        sysconfig.MAILBOX_PATTERN,
        254,
        "Give an address (ops@example.com) or a name and an address "
        "(Valar Ops <ops@example.com>); the name in letters, digits, spaces and . _ ' & -.",
    ),
}


def setting_field(setting: sysconfig.Setting) -> serializers.Field:
    """The input field of one key, with its type, bounds and format."""
    common = {"required": False, "help_text": setting.description}
    if setting.kind == "integer":
        return StrictIntegerField(min_value=setting.minimum, max_value=setting.maximum, **common)
    pattern, length, message = FORMATS[setting.kind]
    return StrictRegexField(
        pattern,
        max_length=length,
        trim_whitespace=False,
        error_messages={"invalid": message},
        **common,
    )


class ConfigUpdateSerializer(serializers.Serializer):
    """``PATCH ops/config/``: new values for one or more keys; unknown keys are refused."""

    def get_fields(self):
        """One optional field per key of ``core.sysconfig.SETTINGS``."""
        return {key: setting_field(setting) for key, setting in sysconfig.SETTINGS.items()}

    def to_internal_value(self, data):
        """Check each known key's value; unknown keys and an empty body are refused too.

        Every error is reported at once, under its key.
        """
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        if not data:
            raise serializers.ValidationError({"non_field_errors": ["Give at least one setting."]})
        errors = {key: ["Unknown setting."] for key in data if key not in sysconfig.SETTINGS}
        known = {key: value for key, value in data.items() if key not in errors}
        validated = {}
        try:
            validated = super().to_internal_value(known)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
        if errors:
            raise serializers.ValidationError(errors)
        return validated


class ConfigUpdateSchema(OpenApiSerializerExtension):
    """The body of ``PATCH ops/config/``: closed to other keys, at least one key."""

    target_class = ConfigUpdateSerializer

    def map_serializer(self, auto_schema, direction):
        """The serializer's schema, closed, with no key required but at least one given."""
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema.pop("required", None)
        schema["additionalProperties"] = False
        schema["minProperties"] = 1
        return schema


KEY_PARAMETER = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    enum=sysconfig.KEYS,
    description="The setting's key.",
)


class OperatorView(APIView):
    """A view for platform operators (superusers) only; organization admins are refused.

    Its own rate limit (:class:`OperatorThrottle`), not the configurable ones, so that a rate
    set too low can always be undone.
    """

    permission_classes = [IsPlatformOperator]
    throttle_classes = [OperatorThrottle]

    def initial(self, request, *args, **kwargs):
        """Answer 405 for a method the route lacks before refusing a non-operator (403)."""
        refuse_undeclared_method(self, request)
        super().initial(request, *args, **kwargs)


class ConfigView(OperatorView):
    """``ops/config/``: every runtime setting (GET) and changes to some of them (PATCH)."""

    #: A PATCH without a body is a 400 (no key given), so the schema says the body is required.
    body_required_methods = ("PATCH",)

    @extend_schema(responses=SettingSerializer(many=True))
    def get(self, request):
        """Every key: effective value, default, overridden or not, who changed it and when."""
        return Response(SettingSerializer(selectors.config_list(), many=True).data)

    @extend_schema(request=ConfigUpdateSerializer, responses=SettingSerializer(many=True))
    def patch(self, request):
        """Set the given keys (all or nothing); each process uses them from its next request."""
        serializer = ConfigUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.config_update(actor=request.user, changes=serializer.validated_data)
        return Response(SettingSerializer(selectors.config_list(), many=True).data)


class ConfigKeyView(OperatorView):
    """``ops/config/{key}/``: one runtime setting."""

    @extend_schema(parameters=[KEY_PARAMETER], responses=SettingSerializer)
    def get(self, request, key: str):
        """The key's effective value, default, and last change; an unknown key is a 404."""
        item = selectors.config_get(key)
        if item is None:
            raise Http404
        return Response(SettingSerializer(item).data)


class ConfigResetView(OperatorView):
    """``ops/config/{key}/reset/``: back to the default from the settings."""

    @extend_schema(parameters=[KEY_PARAMETER], request=None, responses=SettingSerializer)
    def post(self, request, key: str):
        """Drop the key's override (audited); an unknown key is a 404."""
        if key not in sysconfig.SETTINGS:
            raise Http404
        services.config_reset(actor=request.user, key=key)
        return Response(SettingSerializer(selectors.config_get(key)).data)
