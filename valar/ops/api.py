"""Operations endpoints: the API root, ``health/`` and, for platform operators, ``ops/celery/``."""

import re

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.core.permissions import IsPlatformOperator
from valar.core.serializers import StrictCharField
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


class CeleryStatusView(APIView):
    """``GET /api/v1/ops/celery/``: workers, their tasks and queue depths (platform operators).

    Read-only. Waits up to a second for the workers' answers to a broadcast ping.
    """

    permission_classes = [IsAuthenticated, IsPlatformOperator]

    @extend_schema(responses=CeleryStatusSerializer)
    def get(self, request):
        """Ask the workers and the broker now."""
        return Response(selectors.celery_status())
