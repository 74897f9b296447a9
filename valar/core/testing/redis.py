"""Test helpers for the Redis cache: count its round trips, run a Redis server of one's own.

Both are for the PostgreSQL + Redis pass (``REDIS_URL`` set); :func:`skip_without_redis`
names the reason a test is skipped elsewhere.
"""

import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.conf import settings

from valar.core.testing.server import free_port

REDIS_BACKEND = "valar.core.rediscache.ValarRedisCache"


def uses_redis() -> bool:
    """Whether the default cache is Redis (``REDIS_URL`` set)."""
    return settings.CACHES["default"]["BACKEND"] == REDIS_BACKEND


def skip_without_redis(test):
    """Skip ``test`` with a printed reason unless the suite runs on Redis."""
    return unittest.skipUnless(
        uses_redis(), "needs Redis: set REDIS_URL (the PostgreSQL + Redis pass of CI)"
    )(test)


@contextmanager
def redis_round_trips() -> Iterator[list[str]]:
    """Record every round trip to Redis made inside the block (a command or a pipeline).

    Yields the list it fills: a command's name, or ``PIPELINE(SET,INCR,...)``.
    """
    import redis

    trips: list[str] = []
    command = redis.Redis.execute_command
    pipeline = redis.client.Pipeline.execute

    def execute_command(self, *args, **options):
        """Record one command sent on its own, then send it."""
        trips.append(str(args[0]))
        return command(self, *args, **options)

    def execute(self, raise_on_error=True):
        """Record one pipeline (its commands' names), then send it."""
        names = ",".join(str(args[0]) for args, _ in self.command_stack)
        trips.append(f"PIPELINE({names})")
        return pipeline(self, raise_on_error)

    with (
        mock.patch.object(redis.Redis, "execute_command", execute_command),
        mock.patch.object(redis.client.Pipeline, "execute", execute),
    ):
        yield trips


class RedisServer:
    """A ``redis-server`` of the test's own on a port (nothing persisted), started and killed.

    ``RedisServer.available()`` tells whether ``redis-server`` is on ``PATH``.
    """

    def __init__(self, port: int | None = None):
        """Pick the port (a free one by default); nothing runs yet."""
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.directory = tempfile.mkdtemp(prefix="valar-redis-")

    @staticmethod
    def available() -> bool:
        """Whether ``redis-server`` can be run."""
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers ``PING``."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait for it to end."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def cache_settings(self, breaker_seconds: float) -> dict:
        """``CACHES`` pointing at this server, as the settings build them for ``REDIS_URL``."""
        caches = {"default": dict(settings.CACHES["default"])}
        caches["default"]["LOCATION"] = self.url
        caches["default"]["OPTIONS"] = {
            **caches["default"].get("OPTIONS", {}),
            "breaker_seconds": breaker_seconds,
        }
        return caches
