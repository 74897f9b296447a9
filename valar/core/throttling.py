"""Rate limits backed by the cache, and the ``X-RateLimit-*`` numbers they report.

Each throttle records its limit, what is left and when the window resets on the request;
:class:`valar.core.middleware.RateLimitHeadersMiddleware` writes the tightest one into the
response headers (and counts, with :class:`AddressThrottle`, the API requests answered before
DRF's throttles ran). DRF adds ``Retry-After`` to a 429 itself.
"""

import ipaddress
import logging
import math
import time

from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from valar.core import sysconfig
from valar.core.rediscache import UNREACHABLE

logger = logging.getLogger("valar.throttling")


class ReportingThrottle(SimpleRateThrottle):
    """A cache-backed fixed-window throttle that reports its state for the headers.

    A caller's window opens with its first request and lasts the rate's duration; each request
    adds one to the window's counter in one atomic cache operation (one Redis round trip: see
    :func:`window_hit`), so concurrent requests each get a distinct count and exactly the limit
    passes. Requests numbered above the limit are refused until the window ends.
    """

    def get_rate(self) -> str | None:
        """The scope's rate: the runtime setting ``throttle_<scope>`` (``core.sysconfig``).

        Built before the request's version was read, the throttle takes this process's copy
        as it is; :meth:`hit` reads the rate again once its round trip brought the version.
        """
        return sysconfig.throttle_rate(self.scope, checked=False)

    def allow_request(self, request, view) -> bool:
        """Count the request in its window; let it through (logged) when the cache is down."""
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            count, left = self.hit()
        except Exception as error:  # noqa: BLE001  any cache failure
            sysconfig.unverified()
            logger.warning(
                "Rate limiter unavailable (%s); request allowed",
                error,
                exc_info=not isinstance(error, UNREACHABLE),
            )
            return True
        if self.rate is None:  # no limit any more
            return True
        self.seconds_left = left
        self.report(request, max(self.num_requests - count, 0), left)
        return count <= self.num_requests

    def hit(self) -> tuple[int, float]:
        """Count this request in its window, reading the configuration's version alongside.

        The rate this throttle was built with may be out of date: when the version read in
        the same round trip says so, the rate is read again; a new limit applies to this
        request's count, and a new duration (a window of another length, so another counter)
        costs one more round trip, once per process and change.
        """
        duration = self.duration
        count, left, (found,) = window_hit(
            self.cache, self.window_key(), duration, self.timer(), (sysconfig.version_key(),)
        )
        sysconfig.observe(found)
        self.rate = sysconfig.throttle_rate(self.scope)
        if self.rate is None:
            return count, left
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.duration != duration:
            count, left = window_hit(self.cache, self.window_key(), self.duration, self.timer())
        return count, left

    def window_key(self) -> str:
        """The counter of this caller's current window (its length is part of the key)."""
        return f"{self.key}:window:{self.duration}"

    def wait(self) -> float:
        """Seconds until the current window ends (the ``Retry-After`` of a 429)."""
        return max(math.ceil(self.seconds_left), 1)

    def report(self, request, remaining: int, reset: float) -> None:
        """Keep this limit's numbers on the request when it is the tightest so far."""
        state = {
            "limit": self.num_requests,
            "remaining": remaining,
            "reset": max(math.ceil(reset), 1),
        }
        http_request = getattr(request, "_request", request)
        current = getattr(http_request, "valar_ratelimit", None)
        if current is None or remaining < current["remaining"]:
            http_request.valar_ratelimit = state

    def timer(self) -> float:
        """Return the current time (kept overridable for tests)."""
        return time.time()


def window_hit(cache, key: str, duration: int, now: float, read: tuple[str, ...] = ()) -> tuple:
    """Count one request in ``key``'s window: ``(count so far, seconds until it ends)``.

    On Redis (:class:`valar.core.rediscache.ValarRedisCache`) this is one pipelined round
    trip. Other caches get the same answer from an atomic ``add`` (which only the window's
    first request wins) and ``incr``, with the window's start kept beside the count. The
    values of the keys in ``read`` come back as a third item when any are asked for (on
    Redis in the same round trip).
    """
    hit = getattr(cache, "hit_window", None)
    if callable(hit):
        return hit(key, duration, read) if read else hit(key, duration)
    answer = _counted(cache, key, duration, now)
    if not read:
        return answer
    found = cache.get_many(list(read))
    return (*answer, [found.get(name) for name in read])


def _counted(cache, key: str, duration: int, now: float) -> tuple[int, float]:
    """:func:`window_hit` on a cache without one-round-trip counters."""
    count_key, start_key = f"{key}:n", f"{key}:start"
    if cache.add(count_key, 1, timeout=duration):
        cache.set(start_key, now, timeout=duration)
        return 1, duration
    try:
        count = cache.incr(count_key)
    except ValueError:  # the window ended between add and incr
        cache.set(count_key, 1, timeout=duration)
        cache.set(start_key, now, timeout=duration)
        return 1, duration
    start = cache.get(start_key) or now
    return count, start + duration - now


def spend(scope: str, ident, *, what: str) -> None:
    """Count one operation of ``ident`` against the rate of ``scope``; refuse one over it.

    For limits a service counts whatever door the operation came through (a support message
    over REST or over a socket: one counter). The rate is the runtime setting
    ``throttle_<scope>`` (``core.sysconfig``), the window fixed as DRF's throttles' are; a
    cache that cannot be reached lets the operation through (logged), as the throttles do.
    Raises :class:`valar.core.errors.TooManyRequests` (429, ``Retry-After``) naming ``what``.
    """
    from django.core.cache import cache

    from valar.core.errors import TooManyRequests

    rate = sysconfig.throttle_rate(scope)
    if rate is None:
        return
    allowed, duration = SimpleRateThrottle.parse_rate(None, rate)
    key = f"throttle_{scope}_{ident}:window:{duration}"
    try:
        count, left = window_hit(cache, key, duration, time.time())
    except Exception as error:  # noqa: BLE001  any cache failure
        logger.warning("Rate limiter unavailable (%s); %s allowed", error, what)
        return
    if count > allowed:
        raise TooManyRequests(
            f"Too many {what}: at most {rate}. Try again in {max(math.ceil(left), 1)} seconds.",
            retry_after=left,
        )


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


class AccountAdminThrottle(ReportingThrottle):
    """The limit on an admin's account writes (create, re-email), keyed by user.

    Creating an account or changing its email must refuse an address that has an account,
    so each such write tells whether one exists: this limit keeps that to a trickle.
    """

    scope = "account_admin"

    def get_cache_key(self, request, view):
        """Key by the signed-in user."""
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class OperatorThrottle(UserThrottle):
    """The limit on platform operators' own endpoints (``ops/``), keyed by user.

    Its rate (``THROTTLE_OPERATOR``) is deliberately not a runtime setting, and the user
    limit does not apply there: an operator who set ``throttle_user`` to ``1/day`` by
    mistake can still put it back.
    """

    scope = "operator"


class LoginThrottle(ReportingThrottle):
    """The strictest limit, for sign-in and registration attempts, keyed by client IP."""

    scope = "login"

    def get_cache_key(self, request, view):
        """Key every attempt by IP, signed in or not."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_ip(request) -> str | None:
    """The caller's IP address as the rate limits see it, or ``None`` when it is not one.

    ``X-Forwarded-For`` is read only behind ``PROXY_COUNT`` proxies (DRF's ``NUM_PROXIES``).
    """
    http_request = getattr(request, "_request", request)
    for candidate in (BaseThrottle().get_ident(http_request), http_request.META.get("REMOTE_ADDR")):
        try:
            return str(ipaddress.ip_address((candidate or "").strip()))
        except ValueError:
            continue
    return None


class AddressThrottle(ReportingThrottle):
    """The anonymous limit, keyed by client IP whoever the caller is.

    For API requests answered before any DRF throttle ran (no or a bad credential, a CSRF
    failure, an unknown URL): the caller is not known then, so the address is counted.
    """

    scope = "anon"

    def get_cache_key(self, request, view):
        """Key by client IP (``PROXY_COUNT`` decides whether ``X-Forwarded-For`` is read)."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
