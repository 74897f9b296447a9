"""Tests of the Redis cache backend against a port nothing listens on (no server needed)."""

import threading

import redis
from django.test import SimpleTestCase

from valar.core.rediscache import CacheUnavailable, ValarRedisCache, reset_clients
from valar.core.testing.redis import free_port


class DeadRedisTests(SimpleTestCase):
    """A dead Redis fails fast after the first failure, and lost writes are remembered."""

    def setUp(self) -> None:
        """A cache pointing at a closed port, with a long breaker."""
        super().setUp()
        self.addCleanup(reset_clients)
        self.location = f"redis://127.0.0.1:{free_port()}/0"
        self.cache = self.make_cache()

    def make_cache(self) -> ValarRedisCache:
        """A backend instance for the dead server (as each thread's handler builds one)."""
        return ValarRedisCache(
            self.location,
            {"KEY_PREFIX": "t", "OPTIONS": {"breaker_seconds": 60, "socket_timeout": 0.25}},
        )

    def test_a_failure_opens_the_breaker_and_later_calls_are_skipped(self):
        with self.assertRaises(redis.exceptions.ConnectionError) as first:
            self.cache.get("a")
        self.assertNotIsInstance(first.exception, CacheUnavailable)
        with self.assertRaises(CacheUnavailable):
            self.cache.get("a")
        with self.assertRaises(CacheUnavailable):
            self.cache.hit_window("window", 60)

    def test_writes_that_did_not_reach_redis_are_remembered_for_deletion(self):
        for write in (
            lambda: self.cache.set("first", 1),  # refused
            lambda: self.cache.delete("second"),  # skipped by the breaker
            lambda: self.cache.advance(["third"], 1, 60),
        ):
            with self.assertRaises(redis.exceptions.ConnectionError):
                write()
        self.assertEqual(
            list(self.cache._cache.lost),
            [self.cache.make_and_validate_key(key) for key in ("first", "second", "third")],
        )
        with self.assertRaises(CacheUnavailable):
            self.cache.get("first")  # a read is not remembered
        self.assertEqual(len(self.cache._cache.lost), 3)

    def test_every_thread_shares_one_client_object(self):
        clients = [self.cache._cache.get_client(write=True)]

        def build() -> None:
            """Take the client as another thread's backend instance does."""
            clients.append(self.make_cache()._cache.get_client())

        thread = threading.Thread(target=build)
        thread.start()
        thread.join()
        self.assertIs(clients[0], clients[1])
        self.assertIs(self.cache._cache.get_client(), clients[0])
