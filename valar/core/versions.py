"""Per-organization source versions: the cache keys of every computed figure include them.

Each write to a source (``tasks``, ``income``, ...) bumps that organization's version of the
source, so a cached answer keyed on the versions it read is never stale and nothing has to be
deleted by pattern. Models name their sources in ``metric_sources``; the receivers below bump
them on every save and delete, after the transaction commits. Bulk updates call :func:`bump`.

A scope is usually an organization's id; per-user scopes (``user:<id>``) carry a user's
memberships and account. When the cache cannot be reached, reading a version raises (callers
then read the database and cache nothing: no result is ever stored under a made-up version),
and a bump is logged and skipped: the cache backend deletes the version once Redis answers
again (:mod:`valar.core.rediscache`), so every entry cached under it is invalid from then on.
"""

import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from valar.core import batch

logger = logging.getLogger("valar.cache")

#: Versions live for a month; a lost version restarts at a fresh value, never an old one.
VERSION_TTL = 30 * 86400


def version_key(organization_id, source: str) -> str:
    """The cache key of one scope's (usually an organization's) version of one source."""
    return f"version:{organization_id}:{source}"


def version(organization_id, source: str) -> int:
    """The current version of ``source`` for the organization (created on first read)."""
    key = version_key(organization_id, source)
    value = cache.get(key)
    if value is None:
        # Start from a time-based value so a version lost from the cache never repeats.
        value = time.time_ns()
        cache.add(key, value, VERSION_TTL)
        value = cache.get(key, value)
    return value


def versions(organization_id, sources: Iterable[str]) -> dict[str, int]:
    """The current versions of several sources, for building one cache key (one round trip)."""
    ordered = sorted(set(sources))
    current = versions_of_pairs([(organization_id, source) for source in ordered])
    return dict(zip(ordered, current, strict=True))


def versions_of_pairs(pairs: list[tuple[object, str]]) -> list[int]:
    """The versions of ``(scope, source)`` pairs in one round trip (creating missing ones)."""
    return read(pairs)[0]


def read(pairs: list[tuple[object, str]], extra: Iterable[str] = ()) -> tuple[list[int], dict]:
    """The versions of ``pairs`` and the cache entries ``extra``, in one round trip.

    Returns the versions in order and the entries found (``{key: value}``). A version that
    does not exist yet is created (a round trip more, once).
    """
    keys = [version_key(scope, source) for scope, source in pairs]
    extra = list(extra)
    found = cache.get_many(keys + extra)
    current = [
        found[key] if key in found else version(scope, source)
        for key, (scope, source) in zip(keys, pairs, strict=True)
    ]
    return current, {key: found[key] for key in extra if key in found}


def bump(organization_id, *sources: str) -> None:
    """Move the sources' versions on now, and again once the current transaction commits.

    The second bump closes the window in which another request could cache what it read
    before this transaction's writes became visible.
    """
    bump_scopes([(organization_id, source) for source in sources])


def bump_scopes(pairs: list[tuple[object, str]]) -> None:
    """Bump several ``(scope, source)`` versions (one round trip on Redis), now and on commit.

    Inside a write batch (``core.batch``) the bump waits for the batch to close, and the
    batch's bumps are made once, together.
    """
    if not pairs:
        return
    opened = batch.current()
    if opened is not None:
        opened.defer("versions", pairs, _bump_batched)
        return
    _bump_now(pairs)


def _bump_batched(groups: list[list[tuple[object, str]]]) -> None:
    """Bump every version a batch asked for, each once."""
    _bump_now(list(dict.fromkeys(pair for pairs in groups for pair in pairs)))


def _bump_now(pairs: list[tuple[object, str]]) -> None:
    """Bump ``pairs`` now and again on commit."""

    def do_bump() -> None:
        keys = [version_key(scope, source) for scope, source in pairs]
        try:
            _advance(keys)
        except Exception:  # noqa: BLE001  the cache is down: the backend undoes it later
            logger.warning("Cache unavailable; versions not bumped: %s", ", ".join(keys))

    do_bump()
    transaction.on_commit(do_bump)


def _advance(keys: list[str]) -> None:
    """Move each version in ``keys`` on by one (a missing one starts at a fresh value)."""
    advance = getattr(cache, "advance", None)
    if callable(advance):
        advance(keys, time.time_ns(), VERSION_TTL)
        return
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, time.time_ns(), VERSION_TTL)
            cache.incr(key)


@receiver(post_save)
@receiver(post_delete)
def bump_on_write(sender, instance, raw=False, **kwargs) -> None:
    """Bump the sources a saved or deleted row feeds."""
    sources = getattr(sender, "metric_sources", ())
    if sources and not raw:
        bump(instance.organization_id, *sources)
