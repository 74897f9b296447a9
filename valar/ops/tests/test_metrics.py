"""Tests of ``GET /metrics``: its protection, and counters read back with Prometheus' parser."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.test import override_settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from valar.accounts.models import User
from valar.core import telemetry
from valar.core.policy import Role
from valar.core.rediscache import reset_clients
from valar.core.testing import ApiTestCase
from valar.core.testing.redis import RedisServer
from valar.core.testing.resources import TenantFixtureMixin
from valar.core.testing.schema import openapi_schema
from valar.organizations.models import Organization
from valar.tasks.models import Task


def scrape(client=None, **extra) -> dict[tuple[str, tuple], float]:
    """``/metrics`` parsed by prometheus-client's own parser: ``{(sample, labels): value}``."""
    response = (client or APIClient()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version="), response["Content-Type"]
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    """One sample's value (0 when absent: a counter not moved yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class MetricsProtectionTests(ApiTestCase):
    """A bearer token when ``METRICS_TOKEN`` is set; only this machine when it is not."""

    @override_settings(METRICS_TOKEN="s3cret-scrape-token")
    def test_without_the_token_it_is_401_with_a_bearer_challenge(self):
        for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "x"}):
            with self.subTest(header=header):
                response = self.client.get("/metrics", **header)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response["WWW-Authenticate"], 'Bearer realm="metrics"')
                self.assertNotIn(b"valar_http_requests_total", response.content)

    @override_settings(METRICS_TOKEN="s3cret-scrape-token")
    def test_with_the_token_it_answers_from_any_address(self):
        response = self.client.get(
            "/metrics",
            HTTP_AUTHORIZATION="Bearer s3cret-scrape-token",
            REMOTE_ADDR="203.0.113.9",
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"valar_organizations", response.content)

    @override_settings(METRICS_TOKEN="s3cret-scrape-token")
    def test_an_api_token_or_a_session_is_not_the_metrics_token(self):
        user = self.make_user("operator@example.com", is_superuser=True)
        client = self.token_client(user)
        self.assertEqual(client.get("/metrics").status_code, 401)

    @override_settings(METRICS_TOKEN="")
    def test_without_a_token_setting_only_loopback_callers_are_answered(self):
        self.assertEqual(self.client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code, 200)
        self.assertEqual(self.client.get("/metrics", REMOTE_ADDR="::1").status_code, 200)
        for address in ("10.0.0.7", "203.0.113.9", "", "not-an-address"):
            with self.subTest(address=address):
                response = self.client.get("/metrics", REMOTE_ADDR=address)
                self.assertEqual(response.status_code, 403)

    @override_settings(METRICS_TOKEN="")
    def test_a_forwarded_request_is_refused_even_from_loopback(self):
        for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"):
            with self.subTest(header=header):
                response = self.client.get(
                    "/metrics", REMOTE_ADDR="127.0.0.1", **{header: "127.0.0.1"}
                )
                self.assertEqual(response.status_code, 403)

    def test_only_get_and_head_are_answered(self):
        response = self.client.post("/metrics", REMOTE_ADDR="127.0.0.1")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "GET, HEAD")

    def test_metrics_is_not_part_of_the_api_schema(self):
        self.assertFalse([path for path in openapi_schema()["paths"] if "metrics" in path])


class MetricsCountTests(TenantFixtureMixin, ApiTestCase):
    """Requests, statements, cache lookups and business figures, as Prometheus reads them."""

    module = "tasks"

    def test_requests_are_counted_by_route_template_and_status(self):
        admin = self.clients[Role.ADMIN]
        task = Task.objects.create(organization=self.org, title="Counted")
        before = scrape()
        for _ in range(3):
            self.assertEqual(admin.get(f"/api/v1/tasks/{task.pk}/").status_code, 200)
        missing = "/api/v1/tasks/00000000-0000-0000-0000-000000000000/"
        self.assertEqual(admin.get(missing).status_code, 404)
        self.assertEqual(admin.get("/api/v1/no-such-route/").status_code, 404)
        after = scrape()

        route = "/api/v1/tasks/{pk}/"
        ok = {"route": route, "method": "GET", "status": "200"}
        self.assertEqual(
            value(after, "valar_http_requests_total", **ok)
            - value(before, "valar_http_requests_total", **ok),
            3,
        )
        not_found = {"route": route, "method": "GET", "status": "404"}
        self.assertEqual(
            value(after, "valar_http_requests_total", **not_found)
            - value(before, "valar_http_requests_total", **not_found),
            1,
        )
        unmatched = {"route": telemetry.UNMATCHED, "method": "GET", "status": "404"}
        self.assertGreaterEqual(value(after, "valar_http_requests_total", **unmatched), 1)
        timed = {"route": route, "method": "GET"}
        self.assertEqual(
            value(after, "valar_http_request_duration_seconds_count", **timed)
            - value(before, "valar_http_request_duration_seconds_count", **timed),
            4,
        )
        self.assertGreater(value(after, "valar_http_request_duration_seconds_sum", **timed), 0)
        # No raw path is ever a label: ids and unknown URLs stay out of the series.
        labels = {dict(key[1]).get("route") for key in after}
        self.assertFalse([label for label in labels if label and str(task.pk) in label])
        self.assertFalse([label for label in labels if label and "no-such-route" in label])

    def test_database_statements_per_request_are_observed(self):
        admin = self.clients[Role.ADMIN]
        labels = {"route": "/api/v1/tasks/", "method": "GET"}
        before = scrape()
        self.assertEqual(admin.get("/api/v1/tasks/").status_code, 200)
        after = scrape()
        count = value(after, "valar_http_request_db_queries_count", **labels) - value(
            before, "valar_http_request_db_queries_count", **labels
        )
        statements = value(after, "valar_http_request_db_queries_sum", **labels) - value(
            before, "valar_http_request_db_queries_sum", **labels
        )
        self.assertEqual(count, 1)
        self.assertGreaterEqual(statements, 2)  # at least the token, the count and the page

    def test_cache_entries_are_counted_as_hits_and_misses(self):
        admin = self.clients[Role.ADMIN]
        before = scrape()
        admin.get("/api/v1/tasks/")  # the membership entry is read from the database, stored
        admin.get("/api/v1/tasks/")  # then found in the process's copy
        after = scrape()

        def moved(cache: str, result: str) -> float:
            return value(after, "valar_cache_lookups_total", cache=cache, result=result) - value(
                before, "valar_cache_lookups_total", cache=cache, result=result
            )

        self.assertGreaterEqual(moved("entries", "miss"), 1)
        self.assertGreaterEqual(moved("entries", "hit"), 1)
        self.assertGreaterEqual(moved("entries_process", "hit"), 1)

    def test_business_gauges_count_organizations_and_users(self):
        User.objects.filter(email="basic@org.test").update(is_active=False)
        samples = scrape()
        self.assertEqual(value(samples, "valar_organizations"), Organization.objects.count())
        self.assertEqual(
            value(samples, "valar_users", state="active"),
            User.objects.filter(is_active=True).count(),
        )
        self.assertEqual(value(samples, "valar_users", state="inactive"), 1)
        self.assertEqual(value(samples, "valar_scrape_collector_errors", collector="business"), 0)

    def test_a_registered_scrape_collector_is_exposed_and_its_failure_reported(self):
        def jobs():
            family = GaugeMetricFamily("valar_jobs", "Jobs.", labels=["kind", "state"])
            family.add_metric(["import", "queued"], 2)
            yield family

        def broken():
            raise RuntimeError("broker down")
            yield  # pragma: no cover

        telemetry.register_scrape_collector("jobs", jobs)
        telemetry.register_scrape_collector("queue", broken)
        self.addCleanup(telemetry.unregister_scrape_collector, "jobs")
        self.addCleanup(telemetry.unregister_scrape_collector, "queue")
        samples = scrape()
        self.assertEqual(value(samples, "valar_jobs", kind="import", state="queued"), 2)
        self.assertEqual(value(samples, "valar_scrape_collector_errors", collector="queue"), 1)
        self.assertEqual(value(samples, "valar_scrape_collector_errors", collector="jobs"), 0)

    def test_websocket_connections_go_up_and_down(self):
        telemetry.websocket_opened("/ws/notifications/")
        telemetry.websocket_opened("/ws/notifications/")
        telemetry.websocket_closed("/ws/notifications/")
        self.addCleanup(telemetry.websocket_closed, "/ws/notifications/")
        samples = scrape()
        self.assertEqual(
            value(samples, "valar_websocket_connections", route="/ws/notifications/"), 1
        )

    def test_the_request_path_adds_no_query(self):
        """The telemetry is in process: the pinned query counts hold (measured here too)."""
        admin = self.clients[Role.ADMIN]
        admin.get("/api/v1/tasks/")
        with self.assertNumQueries(3):  # token, count, page: as without the middleware
            admin.get("/api/v1/tasks/")


class RouteTemplateTests(unittest.TestCase):
    """Resolver patterns become URL templates."""

    def test_regex_groups_and_converters_become_names(self):
        cases = {
            "api/v1/tasks/$": "/api/v1/tasks/",
            "api/v1/tasks/(?P<pk>[^/.]+)/$": "/api/v1/tasks/{pk}/",
            "api/v1/organizations/(?P<organization_pk>[0-9a-fA-F-]{36})/members/$": (
                "/api/v1/organizations/{organization_pk}/members/"
            ),
            "api/v1/auth/invitations/<str:token>/": "/api/v1/auth/invitations/{token}/",
            "metrics": "/metrics",
        }
        for pattern, template in cases.items():
            with self.subTest(pattern=pattern):
                self.assertEqual(telemetry.route_template(pattern), template)


@unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
class RedisLookupCountTests(ApiTestCase):
    """Keys read from Redis are counted as hits and misses in process, with no extra trip."""

    def setUp(self) -> None:
        self.server = RedisServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        redis_cache = {
            "BACKEND": "valar.core.rediscache.ValarRedisCache",
            "LOCATION": self.server.url,
            "OPTIONS": {"socket_timeout": 0.5, "breaker_seconds": 1.0},
        }
        override = override_settings(CACHES={"default": redis_cache})
        override.enable()
        self.addCleanup(override.disable)
        reset_clients()
        self.addCleanup(reset_clients)
        super().setUp()

    def test_get_and_get_many_count_each_key(self):
        cache = caches["default"]
        hit, miss = telemetry.REDIS_HIT, telemetry.REDIS_MISS
        hits, misses = hit._value.get(), miss._value.get()
        cache.set("present", 1)
        self.assertEqual(cache.get("present"), 1)
        self.assertIsNone(cache.get("absent"))
        self.assertEqual(cache.get("absent", "default"), "default")
        self.assertEqual(cache.get_many(["present", "absent", "other"]), {"present": 1})
        self.assertEqual(hit._value.get() - hits, 2)
        self.assertEqual(miss._value.get() - misses, 4)

    def test_an_unreachable_redis_is_counted_as_errors(self):
        cache = caches["default"]
        errors = telemetry.REDIS_ERROR._value.get()
        self.server.stop()
        with self.assertRaises(Exception):  # noqa: B017  the breaker's or redis' error
            cache.get_many(["a", "b"])
        self.assertEqual(telemetry.REDIS_ERROR._value.get() - errors, 2)


MULTIPROCESS_WORKER = """
import sys
from prometheus_client import Counter
Counter("valar_http_requests", "", ["route", "method", "status"]).labels(
    "/api/v1/tasks/", "GET", "200").inc(int(sys.argv[1]))
"""


class MultiprocessTests(unittest.TestCase):
    """With ``PROMETHEUS_MULTIPROC_DIR``, a scrape sums what every process counted."""

    def test_counts_of_several_processes_are_added_up(self):
        directory = tempfile.mkdtemp(prefix="valar-prom-")
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        for increments in ("2", "5"):
            subprocess.run(
                [sys.executable, "-c", MULTIPROCESS_WORKER, increments], env=env, check=True
            )
        script = (
            "import os, django\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'valar.settings')\n"
            "django.setup()\n"
            "from valar.core import telemetry\n"
            "assert telemetry.MULTIPROCESS\n"
            "print(telemetry.render().decode())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "DEBUG": "true", "LOG_DIR": directory},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        families = {f.name: f for f in text_string_to_metric_families(done.stdout)}
        samples = {
            tuple(sorted(s.labels.items())): s.value
            for s in families["valar_http_requests"].samples
        }
        key = (("method", "GET"), ("route", "/api/v1/tasks/"), ("status", "200"))
        self.assertEqual(samples[key], 7)
        self.assertTrue(list(Path(directory).glob("counter_*.db")))
