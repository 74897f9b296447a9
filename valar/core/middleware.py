"""Request-wide middleware of the kernel: request ids, session lifetime, rate limits, problems."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone

from valar.core import logs, sysconfig, telemetry
from valar.core.errors import PROBLEM_CONTENT_TYPE, problem_response, throttled_response
from valar.core.throttling import AddressThrottle

#: The current request, readable by the audit trail without passing the request down. DRF
#: copies the authenticated user and token onto it (``request.user``, ``request.auth``).
current_request: ContextVar[object | None] = ContextVar("current_request", default=None)

#: Every answer under this path is JSON: problem details for every error.
API_PREFIX = "/api/"
#: Error bodies the API's own views answer (left as they are).
JSON_TYPES = {PROBLEM_CONTENT_TYPE, "application/json"}
#: Headers that describe a body, not the answer (dropped when the body is replaced).
_BODY_HEADERS = {"content-type", "content-length", "content-disposition", "content-encoding"}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
SESSION_STARTED = "valar_started"
SESSION_SEEN = "valar_seen"
#: Refresh the "last seen" mark at most this often, so a busy session is not a write per request.
SEEN_RESOLUTION_SECONDS = 60
access_logger = logging.getLogger("valar.access")


class RequestIdMiddleware:
    """Give every request an id (the caller's ``X-Request-ID`` if well-formed) and echo it."""

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Set ``request.id`` and the current-request context, then add ``X-Request-ID``."""
        given = request.headers.get("X-Request-ID", "")
        request.id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.id
        return response


class QueryCounter:
    """A database execute wrapper that counts the statements run through it."""

    __slots__ = ("count",)

    def __init__(self):
        """Start at zero."""
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        """Count the statement, then run it."""
        self.count += 1
        return execute(sql, params, many, context)


class RequestTelemetryMiddleware:
    """Count every request in the Prometheus metrics and write its access log line.

    Sits just inside :class:`RequestIdMiddleware`, so it sees every answer (a 429 of the rate
    limit, a problem made by the middleware below) and the request id. It measures the time
    to the response, counts the database statements run meanwhile (an execute wrapper: no
    query of its own), and then labels the request by its route template (``core.telemetry``)
    and logs one ``valar.access`` line (``core.logs``): status 500 and above at ``ERROR``,
    the others at ``INFO``. Nothing here reads the cache or the database.
    """

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Answer the request, then count it and log it."""
        started = time.perf_counter()
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = telemetry.route_of(request)
        status = response.status_code
        telemetry.observe_request(route, request.method, status, seconds, counter.count)
        level = logging.ERROR if status >= 500 else logging.INFO
        if access_logger.isEnabledFor(level):
            organization, user = logs.request_identity(request)
            access_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "request_id": getattr(request, "id", None),
                    "organization": organization,
                    "user": user,
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "db_queries": counter.count,
                },
            )
        return response


class SessionLifetimeMiddleware:
    """End signed-in sessions after inactivity and at an absolute lifetime.

    The idle timeout is the runtime setting ``session_idle_timeout`` (``core.sysconfig``; its
    default ``SESSION_IDLE_TIMEOUT``, 8 hours), read after the session's round trip carried
    the configuration's version; ``SESSION_ABSOLUTE_LIFETIME`` (default 14 days) is a setting.
    The start is stamped at sign-in, the last activity once a minute.
    """

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Flush an expired session before anything reads the user from it."""
        apply_session_lifetime(request.session)
        return self.get_response(request)


def apply_session_lifetime(session) -> None:
    """Flush a signed-in ``session`` past its idle or absolute lifetime, else mark it seen.

    The HTTP middleware and the socket handshake (``core.sockets``) both call it, so a
    session ends at the same moment for both.
    """
    if SESSION_KEY in session:
        now = timezone.now().timestamp()
        started = session.get(SESSION_STARTED, now)
        seen = session.get(SESSION_SEEN, now)
        idle = sysconfig.value("session_idle_timeout")
        absolute = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
        if now - seen > idle or now - started > absolute:
            session.flush()
        elif now - seen >= SEEN_RESOLUTION_SECONDS or SESSION_SEEN not in session:
            session[SESSION_SEEN] = now
            session.setdefault(SESSION_STARTED, now)


@receiver(user_logged_in)
def stamp_session_start(sender, request, user, **kwargs) -> None:
    """Mark when a session signed in, for the absolute lifetime."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


def is_api_path(request) -> bool:
    """Whether ``request`` is for the API (``/api/...``), whose every answer is JSON."""
    return request.path_info.startswith(API_PREFIX)


def replace_body(response, replacement):
    """``replacement``, carrying the headers and cookies of ``response`` but its own body."""
    for header, value in response.items():
        if header.lower() not in _BODY_HEADERS and not replacement.has_header(header):
            replacement[header] = value
    replacement.cookies = response.cookies
    return replacement


class RateLimitHeadersMiddleware:
    """Count every API request once and write ``X-RateLimit-*`` from the tightest throttle.

    DRF's throttles count the requests that reach them. An API request answered before them
    (no or a bad credential, a CSRF failure, an unknown URL, a malformed id) is counted here,
    after the fact, against its client address's anonymous limit: one throttle check, only
    for those requests; over the limit its answer becomes a 429.
    """

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Count the request if no throttle did, then copy the throttle state into headers."""
        response = self.get_response(request)
        if getattr(request, "valar_ratelimit", None) is None and is_api_path(request):
            throttle = AddressThrottle()
            if not throttle.allow_request(request, None):
                response = replace_body(response, throttled_response(throttle.wait()))
        state = getattr(request, "valar_ratelimit", None)
        if state is not None:
            response["X-RateLimit-Limit"] = str(state["limit"])
            response["X-RateLimit-Remaining"] = str(state["remaining"])
            response["X-RateLimit-Reset"] = str(state["reset"])
        return response


class ApiProblemMiddleware:
    """Make every error answer under ``/api/`` problem details, whatever ``DEBUG`` is.

    DRF's exception handler and the error handlers of ``valar.urls`` answer problem details
    already; this catches what reaches the client by other paths: Django's debug pages (the
    404 listing the URL patterns, the 500 with settings and locals, when ``DEBUG`` is on) and
    any other error that is not JSON (HTML, text, an empty body). The body becomes the plain
    problem for the status; headers such as ``Allow`` and ``WWW-Authenticate`` are kept. JSON
    errors are the API's own (problem details, and the health check's documented 503 report).
    """

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Replace the body of a non-problem API error with the problem for its status."""
        response = self.get_response(request)
        media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status_code < 400 or not is_api_path(request) or media_type in JSON_TYPES:
            return response
        return replace_body(response, problem_response(response.status_code))
