"""RFC 9457 problem details for every error the API returns.

One exception handler (on top of DRF's) turns DRF exceptions, Django's ``ValidationError``,
``Http404`` and ``PermissionDenied``, Valar's own :class:`DomainError` and anything unexpected
into ``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, ``code`` and,
for validation errors, ``errors`` (field -> messages).
"""

import logging
import math
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("valar.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://valar.dev/problems/"


class DomainError(Exception):
    """A business rule refused the operation; services raise it, the API maps it to HTTP.

    ``status`` is the HTTP status (400 by default), ``code`` a stable machine-readable word,
    ``errors`` optional field -> messages for rules tied to input fields.
    """

    status = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        """Keep the message, and optionally a code, field errors and a status override."""
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status = status_code
        self.errors = errors


class Conflict(DomainError):
    """The request conflicts with the current state of the resource (409)."""

    status = status.HTTP_409_CONFLICT
    code = "conflict"


class TooManyRequests(DomainError):
    """A rate limit counted by a service refused the operation (429 with ``Retry-After``)."""

    status = status.HTTP_429_TOO_MANY_REQUESTS
    code = "throttled"

    def __init__(self, message: str, *, retry_after: float) -> None:
        """Keep the message and the seconds until the limit allows again (at least 1)."""
        super().__init__(message)
        self.retry_after = max(math.ceil(retry_after), 1)


def problem(
    status_code: int,
    *,
    detail: str,
    code: str,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Build a problem-details body for ``status_code``."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code}",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def flatten_errors(data: Any) -> dict[str, list[str]]:
    """Turn DRF's nested validation error data into ``{field: [messages]}``."""
    if isinstance(data, list):
        data = {"non_field_errors": data}
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix, []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            flat.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", data)
    return flat


def _as_drf_exception(exc: Exception) -> Exception:
    """Map Django and domain exceptions onto DRF's so one code path renders them all."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, ProtectedError | RestrictedError):
        # A row others depend on (a customer with issued invoices, an entry a payment made);
        # checked before IntegrityError, which these subclass.
        error = exceptions.APIException(
            "Other records depend on this one; it cannot be deleted.", code="in_use"
        )
        error.status_code = status.HTTP_409_CONFLICT
        return error
    if isinstance(exc, IntegrityError):
        # A uniqueness race lost against another request: the row exists now.
        error = exceptions.APIException(
            "This conflicts with data that exists already.", code="conflict"
        )
        error.status_code = status.HTTP_409_CONFLICT
        return error
    if isinstance(exc, RequestDataTooBig):
        error = exceptions.APIException("The request body is too large.", code="too_large")
        error.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        return error
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler that renders every error as RFC 9457 problem details."""
    if isinstance(exc, DomainError):
        body = problem(exc.status, detail=exc.message, code=exc.code, errors=exc.errors)
        response = Response(body, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
        if isinstance(exc, TooManyRequests):
            response["Retry-After"] = str(exc.retry_after)
        return response

    exc = _as_drf_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error", exc_info=exc)
        body = problem(500, detail="An unexpected error occurred.", code="server_error")
        return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            response.status_code,
            detail="The request is invalid; see errors.",
            code="invalid",
            errors=flatten_errors(response.data),
        )
    else:
        data = response.data if isinstance(response.data, dict) else {}
        detail = str(data.get("detail", HTTPStatus(response.status_code).phrase))
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(
            exc, "default_code", "error"
        )
        body = problem(response.status_code, detail=detail, code=str(code))
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


#: The problem an error answer gets when nothing more specific was said: status -> code, detail.
STATUS_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("forbidden", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request body is too large."),
    429: ("throttled", "Request was throttled."),
    500: ("server_error", "An unexpected error occurred."),
}


def problem_response(status_code: int, detail: str | None = None) -> JsonResponse:
    """The plain problem-details answer for ``status_code`` (no internals, ever)."""
    if status_code in STATUS_PROBLEMS:
        code, default = STATUS_PROBLEMS[status_code]
    elif status_code >= 500:
        code, default = STATUS_PROBLEMS[500]
    else:
        code, default = "error", HTTPStatus(status_code).phrase
    return JsonResponse(
        problem(status_code, detail=detail or default, code=code),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def throttled_response(wait: float | None) -> JsonResponse:
    """A 429 problem with ``Retry-After``, as DRF answers a throttled request."""
    if wait is None:
        return problem_response(429)
    seconds = max(math.ceil(wait), 1)
    response = problem_response(
        429, detail=f"Request was throttled. Expected available in {seconds} seconds."
    )
    response["Retry-After"] = str(seconds)
    return response


def problem_view(status_code: int):
    """Build a plain Django view answering problem details, for ``handler404`` and friends."""

    def view(request, exception=None):
        """Answer with the fixed problem-details body."""
        return problem_response(status_code)

    return view


handler400 = problem_view(400)
handler403 = problem_view(403)
handler404 = problem_view(404)


def handler500(request):
    """Answer an unhandled error outside DRF with problem details and no internals."""
    return problem_response(500)


def csrf_failure(request, reason: str = ""):
    """Answer a CSRF failure caught by Django's middleware with problem details."""
    return JsonResponse(
        problem(403, detail=f"CSRF Failed: {reason}", code="csrf_failed"),
        status=403,
        content_type=PROBLEM_CONTENT_TYPE,
    )
