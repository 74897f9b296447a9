"""Operations endpoints: the API root (``/api/v1/``), health and readiness; for platform
operators the runtime configuration (``ops/config/``), the log download (``ops/logs/``) and
the job workers' state (``ops/celery/``); and ``/metrics`` for Prometheus (outside the API)."""

import hmac
import ipaddress
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.core import logs, sysconfig, telemetry
from valar.core.permissions import IsPlatformOperator
from valar.core.serializers import (
    InstantField,
    QuerySerializer,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
)
from valar.core.throttling import OperatorThrottle
from valar.core.viewsets import PlatformView, refuse_undeclared_method
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


ReadyCheckSerializer = inline_serializer(
    "ReadyCheck",
    {
        "status": serializers.ChoiceField(choices=["ok", "error"]),
        "ms": serializers.FloatField(help_text="How long the check took, in milliseconds."),
        "error": StrictCharField(
            required=False, help_text="Why the check failed (absent when it passed)."
        ),
    },
)
ReadySerializer = inline_serializer(
    "Ready",
    {
        "status": serializers.ChoiceField(choices=["ok", "error"]),
        "failing": serializers.ListField(
            child=StrictCharField(), help_text="The names of the checks that failed."
        ),
        "checks": serializers.DictField(
            child=ReadyCheckSerializer,
            help_text="Each check by name: database, cache, migrations; broker when a Celery "
            "broker is configured; channel_layer when a channel layer is configured.",
        ),
    },
)


class ReadyView(APIView):
    """Whether this process can serve: database, cache, broker, channel layer, migrations.

    200 ``ok`` when every check passes, 503 ``error`` naming the failing checks otherwise.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(auth=[], responses={200: ReadySerializer, 503: ReadySerializer})
    def get(self, request):
        """Run every check now."""
        report = selectors.readiness()
        return Response(report, status=503 if report["status"] == "error" else 200)


class LogQuerySerializer(QuerySerializer):
    """The slice of the logs to download."""

    start = InstantField(
        required=False,
        help_text="First instant (inclusive, ISO 8601; without an offset, UTC); an hour "
        "before end by default.",
    )
    end = InstantField(
        required=False,
        help_text="Last instant (inclusive), not before start; now by default.",
    )
    level = serializers.ChoiceField(
        choices=list(logs.LEVELS),
        required=False,
        default="DEBUG",
        help_text="The lowest level included (DEBUG: every line).",
    )

    def validate(self, attrs):
        """Fill in the last hour; refuse an end before the start."""
        attrs.setdefault("end", timezone.now())
        if "start" not in attrs:
            try:
                attrs["start"] = attrs["end"] - timedelta(hours=1)
            except OverflowError:  # an end in the first hour of year 1
                attrs["start"] = datetime.min.replace(tzinfo=UTC)
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["end must not be before start."]})
        return attrs


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks`` read in a worker thread, one chunk at a time (ASGI servers)."""
    sentinel = object()
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await read(chunks, sentinel)) is not sentinel:
            yield chunk
    finally:
        chunks.close()


class LogsView(PlatformView):
    """``GET /api/v1/ops/logs/``: the log lines of a time range, for platform operators."""

    @extend_schema(
        parameters=[LogQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="JSON lines, oldest first: every field of each line as logged "
                "(time, level, logger, message, request_id, ...).",
            )
        },
    )
    def get(self, request):
        """Stream the lines from ``start`` to ``end`` at ``level`` or above, oldest first."""
        query = LogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        chunks = selectors.log_slice(start=start, end=end, level=query.validated_data["level"])
        if isinstance(request._request, ASGIRequest):
            # An ASGI response reads a synchronous iterator whole before sending; this one
            # is read chunk by chunk in a thread instead.
            chunks = _async_chunks(chunks)
        response = StreamingHttpResponse(chunks, content_type="application/x-ndjson")
        name = f"valar-logs-{logs.format_instant(start)}-{logs.format_instant(end)}.jsonl"
        response["Content-Disposition"] = f'attachment; filename="{name.replace(":", "")}"'
        response["Cache-Control"] = "no-store"
        return response


def _loopback(address: str) -> bool:
    """Whether ``address`` (the socket's peer, never a forwarded header) is this machine."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


#: Headers a proxy adds: a request carrying one came through a proxy, whatever its address.
_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


@csrf_exempt
def metrics_view(request):
    """``GET /metrics``: the Prometheus exposition text.

    With ``METRICS_TOKEN`` set, the caller sends ``Authorization: Bearer <token>`` (401
    otherwise). Unset, only this machine may ask: the socket's peer address must be loopback
    and the request must carry no forwarding header (a proxy on this machine would otherwise
    make every caller look local); others get 403. No cookie is read: CSRF does not apply.
    """
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405, content_type="text/plain")
        response["Allow"] = "GET, HEAD"
        return response
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            response = HttpResponse(
                "A bearer token is required.\n", status=401, content_type="text/plain"
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _loopback(request.META.get("REMOTE_ADDR", "")) or any(
        name in request.META for name in _FORWARDED
    ):
        return HttpResponse(
            "Set METRICS_TOKEN to scrape from another machine.\n",
            status=403,
            content_type="text/plain",
        )
    response = HttpResponse(telemetry.render(), content_type=telemetry.CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


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


class CeleryTaskSerializer(serializers.Serializer):
    """A task a worker runs or holds (never its parameters)."""

    id = StrictCharField()
    name = StrictCharField()
    job_id = StrictCharField(allow_null=True, help_text="The job's id, for Valar's jobs.")


class CeleryWorkerSerializer(serializers.Serializer):
    """A worker that answered, with what it runs and what it has taken but not started."""

    name = StrictCharField()
    active = CeleryTaskSerializer(many=True)
    reserved = CeleryTaskSerializer(many=True)


class CeleryQueueSerializer(serializers.Serializer):
    """A queue and the messages waiting in it."""

    name = StrictCharField()
    depth = serializers.IntegerField(allow_null=True, help_text="null: not a Redis broker.")


class CeleryStatusSerializer(serializers.Serializer):
    """What the job workers are doing."""

    eager = serializers.BooleanField(
        help_text="Jobs run in the process that starts them (no broker): no workers, no queues."
    )
    broker = StrictCharField(help_text="The broker's kind (`redis`, `memory`), never its URL.")
    reachable = serializers.BooleanField(help_text="Whether the broker answered.")
    workers = CeleryWorkerSerializer(many=True)
    queues = CeleryQueueSerializer(many=True)


class CeleryStatusView(PlatformView):
    """``GET /api/v1/ops/celery/``: workers, their tasks and queue depths (platform operators).

    Read-only. Waits up to a second for the workers' answers to a broadcast ping.
    """

    @extend_schema(responses=CeleryStatusSerializer)
    def get(self, request):
        """Ask the workers and the broker now."""
        return Response(selectors.celery_status())
