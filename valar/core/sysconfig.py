"""Platform settings an operator may change at run time, without a deploy (``ops/config/``).

Each key in :data:`SETTINGS` has a schema (type, bounds, format) and a default read from the
settings (which read the environment), so a key nobody overrode behaves exactly as before. An
override is a :class:`valar.core.models.SystemSetting` row; every process keeps the overrides
in memory, valid while the cache version ``version:platform:config`` is the one they were
read under. The ``ops`` services bump that version on every change (now and on commit).

The request path reads the version only inside round trips it makes anyway, never in one of
its own (issue 13 pins them):

- a request with a session cookie reads it in the session's ``MGET`` (:mod:`valar.core.sessions`),
  before the session's idle timeout is checked;
- every rate-limit pipeline reads it beside its counter (:mod:`valar.core.throttling`), so an
  API request sees it before any throttle decides, and certainly before the page size or the
  e-mail sender are read.

A process reloads its overrides from the database (one query) only when the version it saw
differs from the one its copy was read under. A value asked for in a request that has seen
no version yet (no session, no throttle ran) reads the version itself; outside a request (a
command, a job) every read checks the version. While the cache cannot be reached, each
request reads the overrides from the database once; when the database cannot be read
either, the last copy (or the defaults) stands. Nothing here raises on the request path.

Without ``REDIS_URL`` the cache, and so the version, is each process's own memory: the one
process of ``make run`` sees a change on its next request, but several processes sharing a
database without Redis would each keep their copy until restarted (the same holds for the
cached users and memberships); run several processes only with ``REDIS_URL``.
"""

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache

from valar.core import versions

logger = logging.getLogger("valar.cache")

#: The version that validates every process's copy of the overrides.
VERSION_SCOPE, VERSION_SOURCE = "platform", "config"

#: A rate as DRF reads it: requests per second, minute, hour or day.
RATE_PATTERN = r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$"
#: A score from 0 to 1 with at most four decimals.
SCORE_PATTERN = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$"
#: A mailbox: ``address`` or ``Display Name <address>`` (plain ASCII, nothing a header parser
#: would read as a comment, a group or a second address).
_LOCAL = r"[A-Za-z0-9_%+-]{1,64}(\.[A-Za-z0-9_%+-]{1,64}){0,8}"
_DOMAIN = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z0-9-]{1,62}[A-Za-z0-9]"
_ADDRESS = f"{_LOCAL}@{_DOMAIN}"
_NAME = r"[A-Za-z0-9._'&-]([A-Za-z0-9 ._'&-]{0,78}[A-Za-z0-9._'&-])?"
MAILBOX_PATTERN = f"^({_ADDRESS}|{_NAME} <{_ADDRESS}>)$"


@dataclass(frozen=True)
class Setting:
    """One key: its group, what it does, its kind and bounds, and where its default comes from.

    ``kind`` is ``rate`` (``"120/min"``), ``integer`` (with ``minimum``/``maximum``),
    ``score`` (a decimal string from 0 to 1) or ``mailbox`` (an e-mail sender).
    """

    key: str
    group: str
    kind: str
    description: str
    default: Callable[[], Any]
    minimum: int | None = None
    maximum: int | None = None
    #: The throttle scope a ``rate`` key sets.
    scope: str = field(default="")

    def clean(self, raw: Any) -> Any:
        """The stored form of an already type-checked value (a score as a decimal string)."""
        if self.kind == "score":
            return str(Decimal(raw))
        return raw

    def valid(self, stored: Any) -> bool:
        """Whether a stored value still fits the schema (an old row may not, after an upgrade)."""
        if self.kind == "integer":
            return (
                isinstance(stored, int)
                and not isinstance(stored, bool)
                and self.minimum <= stored <= self.maximum
            )
        pattern = {"rate": RATE_PATTERN, "score": SCORE_PATTERN, "mailbox": MAILBOX_PATTERN}
        return isinstance(stored, str) and re.fullmatch(pattern[self.kind], stored) is not None


def _throttle_default(scope: str) -> Callable[[], Any]:
    """The rate DRF's settings give ``scope`` (``THROTTLE_<SCOPE>`` in the environment)."""

    def default() -> Any:
        """Read it now, so tests that patch the rates see their own."""
        from rest_framework.throttling import SimpleRateThrottle

        return SimpleRateThrottle.THROTTLE_RATES.get(scope)

    return default


def _rate(scope: str, what: str) -> Setting:
    """The key of one throttle scope."""
    return Setting(
        key=f"throttle_{scope}",
        group="throttling",
        kind="rate",
        description=f"{what} (`THROTTLE_{scope.upper()}`), e.g. `120/min`: requests per "
        "second, minute, hour or day.",
        default=_throttle_default(scope),
        scope=scope,
    )


#: Every key an operator may change, in the order the API lists them.
SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        _rate("anon", "Requests per client address for callers who are not signed in"),
        _rate("user", "Requests per signed-in user"),
        _rate("login", "Sign-in and registration attempts per client address"),
        _rate("account_email", "Account e-mails (verification resend) a user may ask for"),
        _rate("account_admin", "Account writes (create, re-email) per organization admin"),
        _rate("chat_message", "Support chat messages per user, over REST and sockets alike"),
        _rate("chat_open", "Support chats a member who is not an agent opens or reopens"),
        Setting(
            key="page_size",
            group="pagination",
            kind="integer",
            description="Rows per page of every list when the caller gives no `page_size` "
            "(`PAGE_SIZE`); callers may still ask for 1 to 100.",
            default=lambda: settings.REST_FRAMEWORK["PAGE_SIZE"],
            minimum=1,
            maximum=100,
        ),
        Setting(
            key="session_idle_timeout",
            group="sessions",
            kind="integer",
            description="Seconds without activity after which a session ends "
            "(`SESSION_IDLE_TIMEOUT`); from 5 minutes to 30 days. The absolute lifetime "
            "(`SESSION_ABSOLUTE_LIFETIME`) still applies.",
            default=lambda: int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
            minimum=300,
            maximum=30 * 86400,
        ),
        Setting(
            key="screening_match_threshold",
            group="screening",
            kind="score",
            description="Screening: the score from which a candidate counts as a match, "
            "unless the organization sets its own (screening/settings/) "
            "(`SCREENING_MATCH_THRESHOLD`), 0 to 1.",
            default=lambda: settings.SCREENING_MATCH_THRESHOLD,
        ),
        Setting(
            key="screening_cutoff",
            group="screening",
            kind="score",
            description="Screening: the score below which a candidate is not kept at all, "
            "unless the organization sets its own (`SCREENING_CUTOFF`), "
            "0 to 1, at most the match threshold.",
            default=lambda: settings.SCREENING_CUTOFF,
        ),
        Setting(
            key="default_from_email",
            group="mail",
            kind="mailbox",
            description="The sender of every e-mail the API sends (`DEFAULT_FROM_EMAIL`): "
            "`address` or `Name <address>`.",
            default=lambda: settings.DEFAULT_FROM_EMAIL,
        ),
    )
}


#: The keys and the groups, as the OpenAPI document names their enums.
KEYS = list(SETTINGS)
GROUPS = sorted({setting.group for setting in SETTINGS.values()})


@dataclass(frozen=True)
class _Copy:
    """This process's overrides and the version they were read under (``None``: unverified)."""

    version: int | None
    overrides: dict[str, Any]


_copy: _Copy | None = None
_lock = threading.Lock()
#: Marks the request whose version was seen (``True``) or could not be read (``False``).
_SEEN = "valar_config_seen"


def version_key() -> str:
    """The cache key of the version (as passed to the cache, before its prefix)."""
    return versions.version_key(VERSION_SCOPE, VERSION_SOURCE)


def bump() -> None:
    """Invalidate every process's copy (now and once the transaction commits)."""
    versions.bump(VERSION_SCOPE, VERSION_SOURCE)


def observe(found: Any) -> bool:
    """Take the version a round trip read anyway (``None``: not in the cache); ``True`` if seen.

    Reloads this process's overrides when the version differs from its copy's; a version
    missing from the cache is created first (a round trip more, once per cache lifetime).
    """
    try:
        version = found if found is not None else versions.version(VERSION_SCOPE, VERSION_SOURCE)
    except Exception:  # noqa: BLE001  the cache is down: the request reads the database
        unverified()
        return False
    current = _copy
    if current is None or current.version != version:
        _load(version)
    _mark(True)
    return True


def unverified() -> None:
    """The round trip that would have carried the version failed: read the database instead."""
    _mark(False)


def _request():
    """The current request (``None`` outside one: a command, a job, a test's direct call)."""
    from valar.core.middleware import current_request

    return current_request.get()


def _mark(seen: bool) -> None:
    """Remember on the current request whether its version was seen."""
    request = _request()
    if request is not None:
        setattr(request, _SEEN, seen)


def _load(version: int | None) -> None:
    """Read the overrides from the database as the copy of ``version`` (kept on failure)."""
    global _copy
    from valar.core.models import SystemSetting

    try:
        rows = list(SystemSetting.objects.exclude(value=None).values_list("key", "value"))
    except Exception:  # noqa: BLE001  no database either: keep what this process had
        logger.warning("System configuration not readable; keeping the last copy", exc_info=True)
        if _copy is None:
            _copy = _Copy(None, {})
        return
    overrides = {}
    for key, value in rows:
        setting = SETTINGS.get(key)
        if setting is not None and setting.valid(value):
            overrides[key] = value
        elif setting is not None:
            logger.warning("Stored value of %s does not fit its schema; default used", key)
    with _lock:
        _copy = _Copy(version, overrides)


def _current() -> _Copy:
    """This process's copy, checked against the version once per request."""
    request = _request()
    seen = getattr(request, _SEEN, None) if request is not None else None
    if seen is None:
        # No round trip of this request carried the version (or there is no request): read
        # it now. On the request path this does not happen (see the module's docstring).
        try:
            found = cache.get(version_key())
        except Exception:  # noqa: BLE001  the cache is down
            seen = False
        else:
            seen = observe(found)
    if seen is False:
        _load(None)
        _mark(True)
    return _copy if _copy is not None else _Copy(None, {})


def overrides() -> dict[str, Any]:
    """The keys overridden in this process's current copy and their values."""
    return dict(_current().overrides)


def value(key: str, *, checked: bool = True) -> Any:
    """The effective value of ``key``: its override, else its default.

    ``checked=False`` takes this process's copy as it is, without reading the version: for a
    first guess that a round trip about to be made will confirm (a throttle's rate).
    """
    setting = SETTINGS[key]
    copy = _current() if checked else (_copy or _Copy(None, {}))
    found = copy.overrides.get(key)
    return setting.default() if found is None else found


def throttle_rate(scope: str, *, checked: bool = True) -> str | None:
    """The effective rate of a throttle scope (the settings' rate for a scope with no key)."""
    key = f"throttle_{scope}"
    if key in SETTINGS:
        return value(key, checked=checked)
    return _throttle_default(scope)()


def clear_local() -> None:
    """Forget this process's copy (tests whose database rolled back under it)."""
    global _copy
    with _lock:
        _copy = None
