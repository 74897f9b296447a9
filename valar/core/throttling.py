"""Rate limits backed by the cache, and the ``X-RateLimit-*`` numbers they report.

Each throttle records its limit, what is left and when the window resets on the request;
:class:`valar.core.middleware.RateLimitHeadersMiddleware` writes the tightest one into the
response headers (and counts, with :class:`AddressThrottle`, the API requests answered before
DRF's throttles ran). DRF adds ``Retry-After`` to a 429 itself.
"""

import logging
import math
import time

from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("valar.throttling")


class ReportingThrottle(SimpleRateThrottle):
    """A cache-backed sliding-window throttle that reports its state for the headers."""

    def allow_request(self, request, view) -> bool:
        """Decide as DRF does, then record limit, remaining and reset on the request.

        When the cache cannot be reached the request is let through (and logged): an outage
        of the rate limiter must not take the whole API down.
        """
        try:
            allowed = super().allow_request(request, view)
        except Exception:  # noqa: BLE001  any cache failure
            logger.warning("Rate limiter unavailable; request allowed", exc_info=True)
            return True
        if self.key is not None and self.rate is not None:
            remaining = max(self.num_requests - len(self.history), 0)
            oldest = self.history[-1] if self.history else self.now
            reset = math.ceil(max(oldest + self.duration - self.now, 0))
            state = {"limit": self.num_requests, "remaining": remaining, "reset": reset}
            http_request = getattr(request, "_request", request)
            current = getattr(http_request, "valar_ratelimit", None)
            if current is None or remaining < current["remaining"]:
                http_request.valar_ratelimit = state
        return allowed

    def timer(self) -> float:
        """Return the current time (kept overridable for tests)."""
        return time.time()


class AnonThrottle(ReportingThrottle):
    """The stricter limit for callers who are not signed in, keyed by client IP."""

    scope = "anon"

    def get_cache_key(self, request, view):
        """Key anonymous callers by IP; leave signed-in callers to :class:`UserThrottle`."""
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(ReportingThrottle):
    """The limit for signed-in callers, keyed by user."""

    scope = "user"

    def get_cache_key(self, request, view):
        """Key signed-in callers by user id; anonymous callers are not counted here."""
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class LoginThrottle(ReportingThrottle):
    """The strictest limit, for sign-in and registration attempts, keyed by client IP."""

    scope = "login"

    def get_cache_key(self, request, view):
        """Key every attempt by IP, signed in or not."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AddressThrottle(ReportingThrottle):
    """The anonymous limit, keyed by client IP whoever the caller is.

    For API requests answered before any DRF throttle ran (no or a bad credential, a CSRF
    failure, an unknown URL): the caller is not known then, so the address is counted.
    """

    scope = "anon"

    def get_cache_key(self, request, view):
        """Key by client IP (``PROXY_COUNT`` decides whether ``X-Forwarded-For`` is read)."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
