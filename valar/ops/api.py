"""Operations endpoints: the API root (``/api/v1/``), health and readiness, the log download
for platform operators, and ``/metrics`` for Prometheus (outside the API)."""

import hmac
import ipaddress
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.core import logs, telemetry
from valar.core.serializers import InstantField, QuerySerializer, StrictCharField
from valar.core.viewsets import PlatformView
from valar.ops import selectors

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
