"""Per-organization source versions: the cache keys of every computed figure include them.

Each write to a source (``tasks``, ``income``, ...) bumps that organization's version of the
source, so a cached answer keyed on the versions it read is never stale and nothing has to be
deleted by pattern. Models name their sources in ``metric_sources``; the receivers below bump
them on every save and delete, after the transaction commits. Bulk updates call :func:`bump`.
"""

import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

#: Versions live for a month; a lost version restarts at a fresh value, never an old one.
VERSION_TTL = 30 * 86400


def _key(organization_id, source: str) -> str:
    """The cache key of one scope's (usually an organization's) version of one source."""
    return f"version:{organization_id}:{source}"


def version(organization_id, source: str) -> int:
    """The current version of ``source`` for the organization (created on first read)."""
    key = _key(organization_id, source)
    value = cache.get(key)
    if value is None:
        # Start from a time-based value so a version lost from the cache never repeats.
        value = time.time_ns()
        cache.add(key, value, VERSION_TTL)
        value = cache.get(key, value)
    return value


def versions(organization_id, sources: Iterable[str]) -> dict[str, int]:
    """The current versions of several sources, for building one cache key."""
    return {source: version(organization_id, source) for source in sorted(set(sources))}


def versions_of(scopes: dict[str, str]) -> list[int]:
    """The versions of several ``{scope: source}`` pairs in one cache round trip."""
    keys = [_key(scope, source) for scope, source in scopes.items()]
    found = cache.get_many(keys)
    return [
        found[key] if key in found else version(scope, source)
        for key, (scope, source) in zip(keys, scopes.items(), strict=True)
    ]


def bump(organization_id, *sources: str) -> None:
    """Move the sources' versions on now, and again once the current transaction commits.

    The second bump closes the window in which another request could cache what it read
    before this transaction's writes became visible.
    """

    def do_bump() -> None:
        for source in sources:
            key = _key(organization_id, source)
            try:
                cache.incr(key)
            except ValueError:
                version(organization_id, source)
                cache.incr(key)

    do_bump()
    transaction.on_commit(do_bump)


@receiver(post_save)
@receiver(post_delete)
def bump_on_write(sender, instance, raw=False, **kwargs) -> None:
    """Bump the sources a saved or deleted row feeds."""
    sources = getattr(sender, "metric_sources", ())
    if sources and not raw:
        bump(instance.organization_id, *sources)
