"""Redis is a cache, not a dependency: a Redis killed mid-run, then started again.

The test runs its own ``redis-server`` (never the shared one) and points the cache at it.
"""

import time
import unittest

import redis
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from valar.core import entries, tenancy
from valar.core.policy import Role
from valar.core.rediscache import reset_clients
from valar.core.testing import ApiTestCase
from valar.core.testing.redis import RedisServer, skip_without_redis
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Membership
from valar.tasks.models import Task

URL = "/api/v1/tasks/"
#: The breaker's back-off in this test (the default is a second).
BREAKER_SECONDS = 0.2


@skip_without_redis
@unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
class RedisOutageTests(TenantFixtureMixin, ApiTestCase):
    """With Redis down every request is served from the database; it recovers by itself."""

    module = "tasks"

    def setUp(self) -> None:
        """Start a Redis of the test's own and point the cache (and its client) at it."""
        self.server = RedisServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        override = override_settings(CACHES=self.server.cache_settings(BREAKER_SECONDS))
        override.enable()
        self.addCleanup(override.disable)
        reset_clients()
        self.addCleanup(reset_clients)
        entries.clear_local()
        super().setUp()
        self.raw = redis.Redis.from_url(self.server.url)
        self.addCleanup(self.raw.close)

    def served(self, csrf: str, token: APIClient, title: str) -> None:
        """Session and token lists, a session write, and the write listed: all correct."""
        expected = Task.objects.filter(organization=self.org).count()
        listed = self.client.get(URL)
        self.assertEqual(listed.status_code, 200, listed.content)
        self.assertEqual(listed.json()["count"], expected)
        created = self.client.post(URL, {"title": title}, HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(created.status_code, 201, created.content)
        by_token = token.get(URL, {"search": title})
        self.assertEqual(by_token.status_code, 200, by_token.content)
        self.assertEqual([row["title"] for row in by_token.json()["results"]], [title])

    def health(self) -> dict:
        """The health report (which must answer 200)."""
        response = self.client.get("/api/v1/health/")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def role_of(self, user) -> str:
        """The role a fresh request of ``user`` resolves (through the cache)."""
        request = RequestFactory().get(URL)
        request.user = user
        return tenancy.resolve(request).role

    def test_requests_are_served_while_redis_is_down_and_caches_refill_when_it_returns(self):
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        csrf = self.session_login(worker)
        leaving = APIClient(enforce_csrf_checks=True)
        leaving_csrf = self.session_login(self.users[Role.BASIC], client=leaving)
        token = self.clients[Role.MANAGER]
        self.served(csrf, token, "Before the outage")
        self.assertEqual(leaving.get(URL).status_code, 200)
        self.assertEqual(self.role_of(manager), Role.MANAGER)
        self.assertEqual(self.health()["status"], "ok")

        # Redis comes back with what it held before (as after a restart from its snapshot):
        # what changed meanwhile must not be served from it.
        self.raw.save()
        self.server.stop()
        with self.assertLogs("valar", level="WARNING"):
            self.served(csrf, token, "During the outage")
            newcomer = APIClient(enforce_csrf_checks=True)
            self.session_login(self.users[Role.ADMIN], client=newcomer)  # sign-in: 200
            self.assertEqual(newcomer.get(URL).status_code, 200)
            ended = leaving.cookies["sessionid"].value
            signed_out = leaving.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=leaving_csrf)
            self.assertLess(signed_out.status_code, 300, signed_out.content)
            Membership.objects.filter(user=manager).update(role=Role.WORKER)
            membership = Membership.objects.get(user=manager)
            membership.save()  # its version bump is lost: Redis is down
            self.assertEqual(self.role_of(manager), Role.WORKER)
            self.assertEqual(
                self.health(), {"status": "degraded", "database": "ok", "cache": "error"}
            )

        self.server.start()
        time.sleep(BREAKER_SECONDS + 0.1)
        self.served(csrf, token, "After the outage")
        self.assertEqual(self.health()["status"], "ok")
        # Nothing stale comes back: the ended session stays ended (even to a client that kept
        # its cookie), the role change holds.
        leaving.cookies["sessionid"] = ended
        self.assertIn(leaving.get(URL).status_code, (401, 403))
        self.assertEqual(self.role_of(manager), Role.WORKER)
        # The caches refill without a restart: the session and the entries are in Redis again.
        self.assertTrue(self.raw.keys("*cached_db*"), self.raw.keys("*"))
        self.assertTrue(self.raw.keys("*tenant:*"), self.raw.keys("*"))
