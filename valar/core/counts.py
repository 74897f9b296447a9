"""The optional count cache of lists: a list's ``count`` kept under its sources' versions.

A list that names ``count_sources`` (the version sources its rows feed, ``("tasks",)``) and
``count_cached_params`` (the query parameters whose rows change only by writes to those
sources) may answer its count from the cache when ``LIST_COUNT_CACHE`` is on. The key holds
the resource, the organization, the current versions of the sources (every save and delete
bumps them, now and on commit, see ``core.versions``), how far the caller reads (everyone's
rows, or only their own) and the count's parameters; so a write makes the next count miss,
and no other organization, caller scope or filter ever shares an entry. A request with any
other parameter (one whose rows change without a write to the sources: a date relative to
today, a user or team whose deletion clears the column without signals) counts in SQL.
"""

import hashlib
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from valar.core import versions
from valar.core.policy import Access

logger = logging.getLogger("valar.cache")

#: Parameters that choose the page or its order, never which rows are counted.
PAGE_PARAMS = frozenset({"page", "page_size", "ordering"})
#: How long a count is kept (a write changes the key well before; this bounds the memory).
COUNT_TTL = 3600


def cache_key(view) -> str | None:
    """The cache key of this list request's count, or ``None`` when it may not be cached."""
    sources = getattr(view, "count_sources", ())
    if not (settings.LIST_COUNT_CACHE and sources):
        return None
    query = view.request.query_params
    params = {name: sorted(query.getlist(name)) for name in query if name not in PAGE_PARAMS}
    if not set(params) <= set(getattr(view, "count_cached_params", ())):
        return None
    tenant = view.tenant
    access = getattr(view, "access", None)
    mine = any("me" in values for values in params.values())
    reach = "all" if access == Access.ALL and not mine else f"user:{view.request.user.pk}"
    part = json.dumps(
        [
            f"{type(view).__module__}.{type(view).__qualname__}",
            str(tenant.organization.pk),
            versions.versions(tenant.organization.pk, sources),
            reach,
            params,
        ],
        sort_keys=True,
    )
    return "list-count:" + hashlib.sha256(part.encode()).hexdigest()


def count(queryset: QuerySet | None, view, counter: Callable[[], int] | None = None) -> int:
    """The number of rows of ``queryset`` (the filtered list), from the cache when allowed.

    ``counter`` counts in SQL instead of ``queryset.count()`` (a kept statement,
    ``core.statements``). When the cache cannot be reached the database counts and nothing is
    stored: a count kept under a version read during an outage could outlive the write that
    changes it.
    """
    counter = counter or queryset.count
    try:
        key = cache_key(view)
        found = None if key is None else cache.get(key)
    except Exception:  # noqa: BLE001  the cache is down: the database still answers
        logger.warning("Cache unavailable; list counted in SQL")
        return counter()
    if found is None:
        found = counter()
        if key is not None:
            try:
                cache.set(key, found, COUNT_TTL)
            except Exception:  # noqa: BLE001  the cache went down meanwhile
                logger.warning("Cache unavailable; list count not stored")
    return found
