"""Tests of ``GET /api/v1/health/``."""

from unittest import mock

from valar.core.testing import ApiTestCase


class HealthTests(ApiTestCase):
    """The health endpoint reports the database and the cache."""

    def test_health_is_200_when_database_and_cache_answer(self):
        response = self.client.get("/api/v1/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok", "cache": "ok"})

    def test_health_is_200_degraded_when_the_cache_fails(self):
        with mock.patch("django.core.cache.cache.set", side_effect=ConnectionError):
            response = self.client.get("/api/v1/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(), {"status": "degraded", "database": "ok", "cache": "error"}
        )

    def test_health_is_503_when_the_database_fails(self):
        with mock.patch("valar.ops.selectors.database_status", return_value="error"):
            response = self.client.get("/api/v1/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json(), {"status": "error", "database": "error", "cache": "ok"})
