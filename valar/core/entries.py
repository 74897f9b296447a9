"""Cache entries that a version validates, with a bounded copy in each process.

An entry is stored in the cache as ``(version, value)`` under a plain key, so the entry and the
version that validates it are read in the same round trip (:func:`fetch`): the entry is valid
while the version it carries is the current one. Each process also keeps the last
:data:`LOCAL_LIMIT` entries it read or wrote (pickled, so every request gets its own copy);
an entry found there is not fetched again, and a hit costs nothing beyond the version read.

The membership and account entries of the request path live here (see ``core.tenancy`` and
``accounts.middleware``); their versions are per user, bumped by every change of the user's
memberships, of one of their organizations, or of their account.
"""

import logging
import pickle
import threading
from collections import OrderedDict

from django.core.cache import cache

from valar.core import telemetry, versions

logger = logging.getLogger("valar.cache")

#: How many entries each process keeps (least recently used first out).
LOCAL_LIMIT = 4096
#: The value of an entry that is absent or out of date.
MISSING = object()

_local: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
_lock = threading.Lock()


def fetch(wanted: dict[str, tuple[object, str]]) -> dict[str, tuple[int, object]]:
    """Read entries and their versions in one round trip.

    ``wanted`` maps each entry key to the ``(scope, source)`` whose version validates it. The
    answer maps each key to ``(current version, value)``, the value :data:`MISSING` when the
    entry is absent or was stored under another version. Raises when the cache cannot be
    reached (the caller reads the database and stores nothing).
    """
    pairs = list(dict.fromkeys(wanted.values()))
    with _lock:
        local = {key: _local.get(key) for key in wanted}
    current, found = versions.read(pairs, [key for key, copy in local.items() if copy is None])
    by_pair = dict(zip(pairs, current, strict=True))
    answer: dict[str, tuple[int, object]] = {}
    process_hits = hits = 0
    for key, pair in wanted.items():
        version, copy, value = by_pair[pair], local[key], MISSING
        if copy is not None and copy[0] == version:
            value = pickle.loads(copy[1])  # noqa: S301  our own pickle, from this process
            process_hits += 1
            with _lock:
                if key in _local:
                    _local.move_to_end(key)
        elif isinstance(found.get(key), tuple) and found[key][0] == version:
            value = found[key][1]
            hits += 1
            _keep(key, version, value)
        answer[key] = (version, value)
    total = len(wanted)
    telemetry.count_entries(
        process_hits, total - process_hits, process_hits + hits, total - process_hits - hits
    )
    return answer


def store(key: str, version: int, value: object, timeout: int) -> None:
    """Keep ``value`` as the entry under ``key`` for ``version``, here and in the cache.

    A cache failure is logged and ignored: the next request reads the database again.
    """
    _keep(key, version, value)
    try:
        cache.set(key, (version, value), timeout)
    except Exception:  # noqa: BLE001  the cache is down
        logger.warning("Cache unavailable; entry %s not stored", key)


def _keep(key: str, version: int, value: object) -> None:
    """Keep a pickled copy of the entry in this process (evicting the least recently used)."""
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    with _lock:
        _local[key] = (version, data)
        _local.move_to_end(key)
        while len(_local) > LOCAL_LIMIT:
            _local.popitem(last=False)


def clear_local() -> None:
    """Forget this process's copies (tests that clear the cache)."""
    with _lock:
        _local.clear()
