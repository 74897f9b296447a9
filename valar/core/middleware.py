"""Request-wide middleware of the kernel: request ids, session lifetime, rate-limit headers."""

import re
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

#: The current request, readable by the audit trail without passing the request down. DRF
#: copies the authenticated user and token onto it (``request.user``, ``request.auth``).
current_request: ContextVar[object | None] = ContextVar("current_request", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
SESSION_STARTED = "valar_started"
SESSION_SEEN = "valar_seen"
#: Refresh the "last seen" mark at most this often, so a busy session is not a write per request.
SEEN_RESOLUTION_SECONDS = 60


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


class SessionLifetimeMiddleware:
    """End signed-in sessions after inactivity and at an absolute lifetime.

    ``SESSION_IDLE_TIMEOUT`` (default 8 hours) and ``SESSION_ABSOLUTE_LIFETIME`` (default 14
    days) are settings; the start is stamped at sign-in, the last activity once a minute.
    """

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Flush an expired session before anything reads the user from it."""
        session = request.session
        if SESSION_KEY in session:
            now = timezone.now().timestamp()
            started = session.get(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
            if now - seen > idle or now - started > absolute:
                session.flush()
            elif now - seen >= SEEN_RESOLUTION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
                session.setdefault(SESSION_STARTED, now)
        return self.get_response(request)


@receiver(user_logged_in)
def stamp_session_start(sender, request, user, **kwargs) -> None:
    """Mark when a session signed in, for the absolute lifetime."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


class RateLimitHeadersMiddleware:
    """Write ``X-RateLimit-Limit/Remaining/Reset`` from the tightest throttle that ran."""

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Copy the throttle state recorded on the request into the response headers."""
        response = self.get_response(request)
        state = getattr(request, "valar_ratelimit", None)
        if state is not None:
            response["X-RateLimit-Limit"] = str(state["limit"])
            response["X-RateLimit-Remaining"] = str(state["remaining"])
            response["X-RateLimit-Reset"] = str(state["reset"])
        return response
