"""The Redis cache backend: one client per process, short timeouts, a breaker, lost writes undone.

Django's ``RedisCache`` builds a new redis client object for every call, and each thread's
backend instance its own connection pool. This backend keeps one client and one pool per
process (shared by every thread), so a request pays only its round trips.

Redis is a cache here, never a dependency:

- every call is short: the settings give the connection and socket timeouts (a fraction of
  a second), and after a failure the breaker skips Redis for ``breaker_seconds`` (every call
  fails at once with :class:`CacheUnavailable`) instead of waiting on a dead server each time;
- a write that could not reach Redis (a ``set``, a version bump, a ``delete``) is remembered,
  in the process and in the database (:class:`valar.core.models.LostCacheWrite`), and its keys
  are deleted as soon as Redis answers again: by the process that lost it (on its next call,
  or by a retry timer when it serves nothing), and by every process whose breaker closes or
  that starts (these also read the database's record; a process that started during the
  outage retries on a timer too). So an entry that the write should have
  replaced or invalidated is not served by any process after Redis comes back, even when the
  process that lost the write ended during the outage;
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
from django.db import connections
from django.utils.functional import cached_property

from valar.core import telemetry

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
        #: Whether the database's record of lost writes is to be read before the next call
        #: (when the process starts, and after every outage it saw).
        self.pending_check = True
        self._retry_timer: threading.Timer | None = None

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
        keys = list(keys)
        if keys:
            with self._lock:
                for key in keys:
                    self.lost[key] = None
                while len(self.lost) > LOST_WRITES_LIMIT:
                    self.lost.pop(next(iter(self.lost)))
            record_lost_writes(keys)
        if keys or self.pending_check:
            # Also when this process lost nothing itself but has not read the database's
            # record yet (it started during the outage): the retry applies the record as soon
            # as Redis answers, whether or not a request comes.
            self.schedule_retry()

    def answered(self) -> None:
        """Close the breaker after a call that Redis answered (then read the record again)."""
        if self.open_until:
            logger.warning("Cache reachable again")
            self.open_until = 0.0
            self.pending_check = True

    def needs_undo(self) -> bool:
        """Whether lost writes may wait to be undone before the next call."""
        return bool(self.lost) or self.pending_check

    def undo_lost_writes(self) -> None:
        """Delete what the writes lost while Redis was unreachable would have changed.

        These are this process's lost writes and, when :attr:`pending_check` is set, every
        process's as the database records them. Raises when Redis cannot be reached.
        """
        with self._lock:
            keys = list(self.lost)
            check = self.pending_check
        recorded = read_lost_writes() if check else {}
        every = set(keys) | set((recorded or {}).values())
        if every:
            self.get_client(write=True).delete(*every)
        with self._lock:
            for key in keys:
                self.lost.pop(key, None)
            if recorded is not None:
                self.pending_check = False
        if recorded:
            forget_lost_writes(list(recorded))

    def schedule_retry(self) -> None:
        """Retry this process's lost writes soon, even if the process serves nothing."""
        with self._lock:
            if self._retry_timer is not None:
                return
            timer = threading.Timer(max(self.breaker_seconds, 0.2), self._retry)
            timer.daemon = True
            self._retry_timer = timer
        timer.start()

    def _retry(self) -> None:
        """Undo the lost writes (this process's and the database's record) once Redis answers.

        Runs on a timer thread, so it retries while Redis is down even if no request comes;
        the thread's database connection is closed afterwards.
        """
        with self._lock:
            self._retry_timer = None
        if not self.needs_undo():
            return
        try:
            self.undo_lost_writes()
        except UNREACHABLE:
            self.schedule_retry()
        except Exception:  # noqa: BLE001  never let the timer thread die noisily
            logger.warning("Undoing lost cache writes failed", exc_info=True)
        finally:
            connections.close_all()

    def cancel_retry(self) -> None:
        """Stop a scheduled retry (the client is being discarded)."""
        with self._lock:
            timer, self._retry_timer = self._retry_timer, None
        if timer is not None:
            timer.cancel()


def record_lost_writes(keys: list[str]) -> None:
    """Record keys whose write was lost in the database, for every process to undo."""
    from valar.core.models import LostCacheWrite

    try:
        LostCacheWrite.objects.bulk_create(
            [LostCacheWrite(key=key[:250]) for key in keys], ignore_conflicts=True
        )
    except Exception:  # noqa: BLE001  no database here (or it is down too): memory only
        logger.warning("Lost cache writes not recorded in the database", exc_info=True)


def read_lost_writes() -> dict[int, str] | None:
    """The database's record of lost writes (``None`` when it cannot be read)."""
    from valar.core.models import LostCacheWrite

    try:
        return dict(LostCacheWrite.objects.values_list("id", "key"))
    except Exception:  # noqa: BLE001  no database access here: read it on a later call
        return None


def forget_lost_writes(ids: list[int]) -> None:
    """Delete undone lost writes from the database's record."""
    from valar.core.models import LostCacheWrite

    try:
        LostCacheWrite.objects.filter(id__in=ids).delete()
    except Exception:  # noqa: BLE001  kept: deleting the keys again later is harmless
        logger.warning("Undone cache writes not cleared from the database", exc_info=True)


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
            client.cancel_retry()
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
            if client.needs_undo():
                client.undo_lost_writes()
            result = method(self, *args, **kwargs)
        except UNREACHABLE as error:
            client.failed(error, _written_keys(self, name, args, kwargs) if writes else ())
            raise
        client.answered()
        return result

    if name in _COUNTED_READS:
        call = _counted(call, name)
    call.__name__ = name
    undone = ", a lost write undone" if writes else ""
    call.__doc__ = f"Django's ``{name}`` behind the breaker{undone}."
    return call


#: Reads whose keys are counted as hits and misses (``core.telemetry``).
_COUNTED_READS = {"get", "get_many"}
#: What ``get`` answers for a key it does not hold.
_ABSENT = object()


def _counted(call, name: str):
    """``call`` (a guarded read) counting its keys as hits, misses or errors, in process."""
    if name == "get":

        def get(self, key, default=None, version=None):
            try:
                value = call(self, key, _ABSENT, version)
            except UNREACHABLE:
                telemetry.REDIS_ERROR.inc()
                raise
            if value is _ABSENT:
                telemetry.REDIS_MISS.inc()
                return default
            telemetry.REDIS_HIT.inc()
            return value

        return get

    def get_many(self, keys, version=None):
        keys = list(keys)
        try:
            found = call(self, keys, version)
        except UNREACHABLE:
            telemetry.REDIS_ERROR.inc(len(keys))
            raise
        if found:
            telemetry.REDIS_HIT.inc(len(found))
        if len(keys) > len(found):
            telemetry.REDIS_MISS.inc(len(keys) - len(found))
        return found

    return get_many


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
            if client.needs_undo():
                client.undo_lost_writes()
            pipeline = client.get_client(write=True).pipeline(transaction=True)
            build(pipeline)
            result = pipeline.execute()
        except UNREACHABLE as error:
            client.failed(error, keys)
            raise
        client.answered()
        return result

    def hit_window(self, key: str, duration: int, read: Iterable[str] = ()) -> tuple:
        """Count one hit in ``key``'s window of ``duration`` seconds: ``(count, seconds left)``.

        One atomic round trip: create the counter with its expiry if absent, increment it,
        read its remaining lifetime. The values of the keys in ``read`` (``None`` when absent)
        come back in the same round trip, as a third item, when any are asked for.
        """
        full = self.make_and_validate_key(key)
        extra = [self.make_and_validate_key(name) for name in read]

        def build(pipeline) -> None:
            """Queue the counter's creation, increment and remaining lifetime, and the reads."""
            pipeline.set(full, 0, ex=duration, nx=True)
            pipeline.incr(full)
            pipeline.pttl(full)
            for name in extra:
                pipeline.get(name)

        _, count, left_ms, *values = self._pipeline([full], build)
        answer = (int(count), max(left_ms, 0) / 1000)
        if not extra:
            return answer
        loads = self._cache._serializer.loads
        return (*answer, [None if value is None else loads(value) for value in values])

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
