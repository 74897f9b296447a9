"""Writes lost while Redis was unreachable are undone for every process, not only the writer.

Each backend below has its own shared client, as separate server processes do; all talk to one
``redis-server`` of the test's own. A writer's ``delete`` is made to fail as a paused or
unreachable Redis fails it, while the entry stays in Redis (as it does when Redis only paused).
"""

import time
import unittest
from unittest import mock

import redis
from django.test import TestCase, TransactionTestCase

from valar.core.models import LostCacheWrite
from valar.core.rediscache import ValarRedisCache, reset_clients
from valar.core.testing.redis import RedisServer


def process_cache(location: str, breaker_seconds: float) -> ValarRedisCache:
    """A backend whose shared client is its own (the breaker makes the options differ)."""
    return ValarRedisCache(
        location,
        {"KEY_PREFIX": "lost", "OPTIONS": {"breaker_seconds": breaker_seconds}},
    )


class LostWriteSetup:
    """A Redis of the test's own, a reader process with an entry cached, and a lost write."""

    def setUp(self) -> None:
        """Start a Redis of the test's own; a reader process caches an entry in it."""
        super().setUp()
        self.server = RedisServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        self.addCleanup(reset_clients)
        self.reader = process_cache(self.server.url, 0.31)
        self.reader.set("entry", "old")
        self.assertEqual(self.reader.get("entry"), "old")

    def lose_delete(self, writer: ValarRedisCache) -> None:
        """Make the writer's ``delete("entry")`` fail as an unreachable Redis does."""
        broken = mock.Mock()
        broken.delete.side_effect = redis.exceptions.TimeoutError("paused")
        with (
            mock.patch.object(writer._cache, "get_client", return_value=broken),
            self.assertRaises(redis.exceptions.TimeoutError),
        ):
            writer.delete("entry")

    def wait_until_gone(self) -> None:
        """Poll the reader until the entry is gone (at most five seconds)."""
        deadline = time.monotonic() + 5
        while self.reader.get("entry") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIsNone(self.reader.get("entry"))


@unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
class LostWriteTests(LostWriteSetup, TestCase):
    """A lost invalidation is applied by a starting process, or by the writer's own retry."""

    def test_a_process_that_starts_undoes_the_writes_an_ended_process_lost(self):
        writer = process_cache(self.server.url, 30)
        self.lose_delete(writer)
        self.assertEqual(LostCacheWrite.objects.count(), 1)
        writer._cache.cancel_retry()  # the writer ends before Redis answers it again
        writer._cache.lost.clear()
        self.assertEqual(self.reader.get("entry"), "old")  # the reader saw no outage
        process_cache(self.server.url, 0.32).get("anything")  # a new process's first call
        self.assertIsNone(self.reader.get("entry"))
        self.assertEqual(LostCacheWrite.objects.count(), 0)

    def test_an_idle_writer_undoes_its_lost_write_by_itself(self):
        writer = process_cache(self.server.url, 0.2)
        self.lose_delete(writer)
        self.wait_until_gone()
        self.assertEqual(writer._cache.lost, {})

    def test_the_record_is_cleared_by_the_next_call_that_reaches_redis(self):
        writer = process_cache(self.server.url, 0.2)
        self.lose_delete(writer)
        writer._cache.cancel_retry()
        writer._cache.open_until = 0.0  # the breaker's moment has passed
        writer._cache.pending_check = True
        self.assertIsNone(writer.get("entry"))
        self.assertEqual(LostCacheWrite.objects.count(), 0)


@unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
class RestartedProcessTests(LostWriteSetup, TransactionTestCase):
    """A process started during the outage applies the record once Redis answers, unasked.

    A transaction test: the retry runs on a timer thread, whose database connection sees only
    committed rows.
    """

    def test_a_process_started_during_the_outage_applies_the_record_without_a_request(self):
        writer = process_cache(self.server.url, 30)
        self.lose_delete(writer)
        writer._cache.cancel_retry()  # the writer ends during the outage
        writer._cache.lost.clear()
        newcomer = process_cache(self.server.url, 0.2)
        broken = mock.Mock()
        broken.delete.side_effect = redis.exceptions.TimeoutError("paused")
        broken.get.side_effect = redis.exceptions.TimeoutError("paused")
        with (
            mock.patch.object(newcomer._cache, "get_client", return_value=broken),
            self.assertRaises(redis.exceptions.TimeoutError),
        ):
            newcomer.get("anything")  # its only call, while Redis is still unreachable
        self.assertEqual(self.reader.get("entry"), "old")
        self.wait_until_gone()  # no further call to the newcomer, nor to the writer
        deadline = time.monotonic() + 5
        while LostCacheWrite.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(LostCacheWrite.objects.exists())
