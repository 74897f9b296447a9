"""Tests of ``GET /api/v1/health/ready/``: each component checked, timed, named when failing."""

import unittest
from unittest import mock

from django.db.utils import OperationalError
from django.test import override_settings

from valar.core.testing import ApiTestCase
from valar.core.testing.redis import RedisServer
from valar.core.testing.server import free_port

URL = "/api/v1/health/ready/"


class ReadyTests(ApiTestCase):
    """200 when everything answers; 503 naming each failing check otherwise."""

    def get(self):
        """Ask for readiness anonymously, as a probe does."""
        return self.client.get(URL)

    def assert_failing(self, response, *names: str) -> dict:
        """A 503 whose report names exactly ``names`` as failing."""
        self.assertEqual(response.status_code, 503, response.content)
        self.assertEqual(response["Content-Type"], "application/json")
        body = response.json()
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["failing"], list(names))
        for name in names:
            self.assertEqual(body["checks"][name]["status"], "error")
            self.assertTrue(body["checks"][name]["error"])
        return body

    def test_ready_is_200_with_each_check_and_its_time(self):
        response = self.get()
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["failing"], [])
        self.assertEqual(set(body["checks"]), {"database", "cache", "migrations", "channel_layer"})
        for report in body["checks"].values():
            self.assertEqual(report["status"], "ok")
            self.assertIsInstance(report["ms"], float)
            self.assertGreaterEqual(report["ms"], 0)
            self.assertNotIn("error", report)

    def test_ready_is_503_naming_the_database_when_it_is_unreachable(self):
        with mock.patch(
            "valar.ops.selectors.connection.cursor",
            side_effect=OperationalError("could not connect to server"),
        ):
            body = self.assert_failing(self.get(), "database", "migrations")
        self.assertEqual(body["checks"]["database"]["error"], "OperationalError")
        self.assertEqual(body["checks"]["migrations"]["error"], "database unreachable")
        self.assertEqual(body["checks"]["cache"]["status"], "ok")

    @override_settings(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", CELERY_TASK_ALWAYS_EAGER=False
    )
    def test_ready_is_503_naming_the_broker_when_it_is_unreachable(self):
        body = self.assert_failing(self.get(), "broker")
        self.assertEqual(body["checks"]["database"]["status"], "ok")

    @override_settings(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", CELERY_TASK_ALWAYS_EAGER=True
    )
    def test_an_eager_celery_has_no_broker_to_check(self):
        response = self.get()
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("broker", response.json()["checks"])

    @unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
    def test_a_broker_that_answers_is_ready(self):
        server = RedisServer()
        server.start()
        self.addCleanup(server.stop)
        with override_settings(CELERY_BROKER_URL=server.url, CELERY_TASK_ALWAYS_EAGER=False):
            response = self.get()
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["checks"]["broker"]["status"], "ok")

    def test_ready_is_503_naming_the_cache_when_it_fails(self):
        with mock.patch("django.core.cache.cache.set", side_effect=ConnectionError):
            self.assert_failing(self.get(), "cache")

    def test_ready_is_503_when_a_migration_is_not_applied(self):
        with mock.patch(
            "valar.ops.selectors.MigrationExecutor.migration_plan",
            return_value=[("a migration", False)],
        ):
            body = self.assert_failing(self.get(), "migrations")
        self.assertEqual(body["checks"]["migrations"]["error"], "1 migration(s) not applied")

    @override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "no.such.Layer"}})
    def test_a_configured_channel_layer_is_checked(self):
        # Channels is not installed yet; a configured layer that cannot be used fails by name.
        with mock.patch(
            "valar.ops.selectors._check_channel_layer", side_effect=TimeoutError("no answer")
        ):
            body = self.assert_failing(self.get(), "channel_layer")
        self.assertEqual(body["checks"]["channel_layer"]["error"], "TimeoutError")

    def test_liveness_stays_200_when_readiness_fails(self):
        with mock.patch(
            "valar.ops.selectors.MigrationExecutor.migration_plan", return_value=[("m", False)]
        ):
            self.assertEqual(self.client.get("/api/v1/health/").status_code, 200)
            self.assertEqual(self.get().status_code, 503)
