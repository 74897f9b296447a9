"""Bounded database connections under ASGI: a soak of concurrent clients against uvicorn.

uvicorn runs Django's sync views in a thread per request, and each thread would keep its own
PostgreSQL connection; with the psycopg pool (on by default on PostgreSQL) the process holds
at most ``DATABASE_POOL_MAX`` of them. The test starts uvicorn on the test database with a
pool of 10, drives ``SOAK_CLIENTS`` (64) clients at the task list for ``SOAK_SECONDS`` (5 in
the suite; 30 for the full soak) and watches ``pg_stat_activity`` meanwhile: no request may
fail and the server's connections may never exceed the pool. ``SOAK_PORT`` picks the port
(a free one otherwise).
"""

import os
import subprocess
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from django.db import connection
from django.test import TransactionTestCase

from valar.accounts.models import User
from valar.accounts.services import token_create
from valar.core.testing.server import free_port
from valar.organizations.services import organization_create
from valar.tasks.models import Task

ON_POSTGRESQL = connection.vendor == "postgresql"
SKIP_REASON = (
    "needs PostgreSQL (the pool and pg_stat_activity); the embedded SQLite has neither. "
    "Run with DATABASE_URL=postgres://..."
)
POOL_MAX = 10
APPLICATION_NAME = "valar-soak"
ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """The URL of the test database, naming the server's connections for ``pg_stat_activity``."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}?application_name={APPLICATION_NAME}"
    )


@unittest.skipUnless(ON_POSTGRESQL, SKIP_REASON)
class AsgiConnectionSoakTests(TransactionTestCase):
    """64 clients against one uvicorn process: 0 errors, connections within the pool."""

    def setUp(self) -> None:
        """An organization with tasks, a token for its admin, and uvicorn serving them."""
        super().setUp()
        admin = User.objects.create_user(email="soak@example.com", password="a-Long-passphrase-42")
        organization = organization_create(name="Soak", actor=admin)
        Task.objects.bulk_create(
            Task(organization=organization, title=f"Task {index}", created_by=admin)
            for index in range(300)
        )
        _, self.token = token_create(user=admin, name="soak")
        self.port = int(os.environ.get("SOAK_PORT") or free_port())
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_POOL": "true",
            "DATABASE_POOL_MAX": str(POOL_MAX),
            "DEBUG": "false",
            "LOCAL_HTTP": "true",
            "THROTTLE_USER": "10000000/min",
            "LOG_LEVEL": "ERROR",
        }
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "valar.asgi:application"]
            + ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.addCleanup(self.stop_server)
        self.wait_until_serving()

    def stop_server(self) -> None:
        """Stop uvicorn and wait for it, so its connections are gone before the flush."""
        self.server.terminate()
        try:
            self.server.wait(20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(5)

    def wait_until_serving(self) -> None:
        """Wait for the health endpoint (the server imports Django first)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                self.fail(f"uvicorn exited: {self.server.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"{self.url('/api/v1/health/')}", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.fail("uvicorn did not answer within 60 s")

    def url(self, path: str) -> str:
        """An address on the server under test."""
        return f"http://127.0.0.1:{self.port}{path}"

    def test_64_clients_get_answers_and_connections_stay_within_the_pool(self):
        seconds = float(os.environ.get("SOAK_SECONDS", 5))
        clients = int(os.environ.get("SOAK_CLIENTS", 64))
        stop = threading.Event()
        seen: list[tuple[int, int]] = []  # (server's connections, all on the database)
        conninfo = database_url().replace(APPLICATION_NAME, "valar-soak-watch")

        def watch() -> None:
            with psycopg.connect(conninfo, autocommit=True) as watcher:
                while not stop.is_set():
                    row = watcher.execute(
                        "SELECT count(*) FILTER (WHERE application_name = %s), count(*) "
                        "FROM pg_stat_activity WHERE datname = current_database()",
                        [APPLICATION_NAME],
                    ).fetchone()
                    seen.append(row)
                    time.sleep(0.05)

        def client() -> tuple[int, list[str]]:
            answered, errors = 0, []
            with requests.Session() as session:
                session.headers["Authorization"] = f"Token {self.token}"
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    try:
                        response = session.get(
                            self.url("/api/v1/tasks/?status=todo&page_size=25"), timeout=30
                        )
                    except requests.RequestException as exc:
                        errors.append(type(exc).__name__)
                        continue
                    if response.status_code == 200:
                        answered += 1
                    else:
                        errors.append(f"{response.status_code} {response.text[:200]}")
            return answered, errors

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=clients) as pool:
                results = list(pool.map(lambda _: client(), range(clients)))
        finally:
            stop.set()
            watcher.join()
        elapsed = time.monotonic() - started
        answered = sum(count for count, _ in results)
        errors = [error for _, found in results for error in found]
        peak_server = max(server for server, _ in seen)
        peak_all = max(total for _, total in seen)
        print(
            f"\nASGI soak: {clients} clients, {elapsed:.1f} s, {answered} answers "
            f"({answered / elapsed:.0f}/s), {len(errors)} errors; server connections at most "
            f"{peak_server} (pool {POOL_MAX}), all connections to the database at most "
            f"{peak_all} ({len(seen)} samples)"
        )
        self.assertEqual(errors, [])
        self.assertGreater(answered, clients)
        self.assertGreater(peak_server, 0)
        self.assertLessEqual(peak_server, POOL_MAX)
