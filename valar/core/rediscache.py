"""The Redis cache backend: one client per process, short timeouts, a breaker, lost writes undone.

Django's ``RedisCache`` builds a new redis client object for every call, and each thread's
backend instance its own connection pool. This backend keeps one client and one pool per
process (shared by every thread), so a request pays only its round trips.

Redis is a cache here, never a dependency:

- every call is short: the settings give the connection and socket timeouts (a fraction of
  a second), and after a failure the breaker skips Redis for ``breaker_seconds`` (every call
  fails at once with :class:`CacheUnavailable`) instead of waiting on a dead server each time;
- a write that could not reach Redis (a ``set``, a version bump, a ``delete``) is remembered
  and its keys are deleted as soon as Redis answers again, so an entry that the write should
  have replaced or invalidated is never served after Redis comes back;
- callers treat every error as a miss (the database answers) and never cache what they read
  while a version could not be read.

It also counts rate limits in one round trip (:meth:`ValarRedisCache.hit_window`) and moves
several version counters on in one (:meth:`ValarRedisCache.advance`).
"""

import logging
import threading
import time
from collections.abc import Iterable

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

logger = logging.getLogger("valar.cache")

#: Errors that mean Redis could not be reached (a refused or lost connection, a timeout).
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: At most this many lost writes are remembered per process (then the oldest are dropped).
LOST_WRITES_LIMIT = 10_000


class CacheUnavailable(redis.exceptions.ConnectionError):
    """Redis failed a moment ago: the call was skipped without trying."""


class SharedClient(RedisCacheClient):
    """Django's Redis client with one redis client object per server and a breaker.

    One instance serves the whole process (see :func:`shared_client`); redis-py's client
    and its connection pool are thread-safe.
    """

    def __init__(self, servers, breaker_seconds: float = 1.0, **options):
        """Keep Django's options; add the breaker and the lost writes."""
        super().__init__(servers, **options)
        self._clients: dict[int, redis.Redis] = {}
        self._lock = threading.Lock()
        self.breaker_seconds = breaker_seconds
        self.open_until = 0.0
        self.lost: dict[str, None] = {}

    def get_client(self, key=None, *, write=False):
        """The process's client for the server that serves ``key`` (built once)."""
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._lock:
                if index not in self._pools:
                    self._pools[index] = self._pool_class.from_url(
                        self._servers[index], **self._pool_options
                    )
                client = self._clients.setdefault(
                    index, self._client(connection_pool=self._pools[index])
                )
        return client

    def check(self) -> None:
        """Raise :class:`CacheUnavailable` while the breaker is open after a failure."""
        if self.open_until and time.monotonic() < self.open_until:
            raise CacheUnavailable("Redis failed less than a moment ago; skipped")

    def failed(self, error: Exception, keys: Iterable[str] = ()) -> None:
        """Open the breaker (log it once) and remember the keys a lost write touched.

        A call the open breaker skipped (:class:`CacheUnavailable`) does not extend it.
        """
        if not isinstance(error, CacheUnavailable):
            if not self.open_until:
                logger.warning("Cache unreachable (%s); using the database", error)
            self.open_until = time.monotonic() + self.breaker_seconds
        with self._lock:
            for key in keys:
                self.lost[key] = None
            while len(self.lost) > LOST_WRITES_LIMIT:
                self.lost.pop(next(iter(self.lost)))

    def answered(self) -> None:
        """Close the breaker after a call that Redis answered."""
        if self.open_until:
            logger.warning("Cache reachable again")
            self.open_until = 0.0

    def undo_lost_writes(self) -> None:
        """Delete what the writes lost while Redis was unreachable would have changed."""
        with self._lock:
            keys = list(self.lost)
        self.get_client(write=True).delete(*keys)
        with self._lock:
            for key in keys:
                self.lost.pop(key, None)


_CLIENTS: dict[tuple, SharedClient] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(servers: list[str], options: dict) -> SharedClient:
    """The one :class:`SharedClient` of this process for these servers and options."""
    key = (tuple(servers), repr(sorted(options.items())))
    client = _CLIENTS.get(key)
    if client is None:
        with _CLIENTS_LOCK:
            client = _CLIENTS.setdefault(key, SharedClient(servers, **options))
    return client


def reset_clients() -> None:
    """Forget every shared client (tests that point the cache at another server)."""
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            for pool in client._pools.values():
                pool.disconnect()
        _CLIENTS.clear()


def _guarded(name: str, writes: bool):
    """Wrap ``RedisCache.<name>`` with the breaker; a failed write's keys are remembered."""
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        client = self._cache
        try:
            client.check()
            if client.lost:
                client.undo_lost_writes()
            result = method(self, *args, **kwargs)
        except UNREACHABLE as error:
            client.failed(error, _written_keys(self, name, args, kwargs) if writes else ())
            raise
        client.answered()
        return result

    call.__name__ = name
    undone = ", a lost write undone" if writes else ""
    call.__doc__ = f"Django's ``{name}`` behind the breaker{undone}."
    return call


def _written_keys(cache: "ValarRedisCache", name: str, args, kwargs) -> list[str]:
    """The full keys a write call touched (to delete once Redis answers again)."""
    version = kwargs.get("version")
    if name == "set_many":
        raw = list(args[0])
    elif name == "delete_many":
        raw = list(args[0])
    elif name == "clear":
        return []
    else:
        raw = [args[0] if args else kwargs["key"]]
    return [cache.make_and_validate_key(key, version=version) for key in raw]


class ValarRedisCache(RedisCache):
    """Django's Redis cache with a shared client, a breaker and one-round-trip counters.

    ``OPTIONS`` are Django's (passed on to redis-py's connection pool, e.g.
    ``socket_connect_timeout``), plus ``breaker_seconds``.
    """

    @cached_property
    def _cache(self) -> SharedClient:
        """The process's shared client (not one per thread's backend instance)."""
        return shared_client(self._servers, self._options)

    add = _guarded("add", writes=True)
    get = _guarded("get", writes=False)
    set = _guarded("set", writes=True)
    touch = _guarded("touch", writes=True)
    delete = _guarded("delete", writes=True)
    get_many = _guarded("get_many", writes=False)
    has_key = _guarded("has_key", writes=False)
    incr = _guarded("incr", writes=True)
    set_many = _guarded("set_many", writes=True)
    delete_many = _guarded("delete_many", writes=True)
    clear = _guarded("clear", writes=False)

    def _pipeline(self, keys: list[str], build):
        """Run ``build(pipeline)``'s commands in one round trip, behind the breaker."""
        client = self._cache
        try:
            client.check()
            if client.lost:
                client.undo_lost_writes()
            pipeline = client.get_client(write=True).pipeline(transaction=True)
            build(pipeline)
            result = pipeline.execute()
        except UNREACHABLE as error:
            client.failed(error, keys)
            raise
        client.answered()
        return result

    def hit_window(self, key: str, duration: int) -> tuple[int, float]:
        """Count one hit in ``key``'s window of ``duration`` seconds: ``(count, seconds left)``.

        One atomic round trip: create the counter with its expiry if absent, increment it,
        read its remaining lifetime.
        """
        full = self.make_and_validate_key(key)

        def build(pipeline) -> None:
            """Queue the counter's creation, increment and remaining lifetime."""
            pipeline.set(full, 0, ex=duration, nx=True)
            pipeline.incr(full)
            pipeline.pttl(full)

        _, count, left_ms = self._pipeline([full], build)
        return int(count), max(left_ms, 0) / 1000

    def advance(self, keys: list[str], fresh: int, timeout: int) -> None:
        """Move each counter in ``keys`` on by one in one round trip.

        A counter that does not exist starts at ``fresh`` (then moves on), with ``timeout``.
        """
        full = [self.make_and_validate_key(key) for key in keys]

        def build(pipeline) -> None:
            """Queue each counter's creation (if absent) and increment."""
            for key in full:
                pipeline.set(key, fresh, ex=timeout, nx=True)
                pipeline.incr(key)

        self._pipeline(full, build)
