"""A change made through one server process is used by another on its next request.

Two real servers (``make run``, each its own process and its own copy of the configuration)
share one SQLite database and one ``redis-server`` of the test's own, as a deployment with
several processes shares PostgreSQL and Redis.
"""

import unittest

import requests
from django.test import SimpleTestCase

from valar.core.testing.redis import RedisServer
from valar.core.testing.server import running_server

TASKS = "/api/v1/tasks/"
CONFIG = "/api/v1/ops/config/"


@unittest.skipUnless(RedisServer.available(), "needs redis-server on PATH")
class TwoProcessesTests(SimpleTestCase):
    """The operator changes the page size and a rate on server A; server B follows at once."""

    @classmethod
    def setUpClass(cls) -> None:
        """A Redis of the test's own, then servers A and B over one database."""
        super().setUpClass()
        cls.redis = RedisServer()
        cls.redis.start()
        cls.addClassCleanup(cls.redis.stop)
        env = {"REDIS_URL": cls.redis.url}
        cls.a = cls.enterClassContext(running_server(extra_env=env))
        cls.b = cls.enterClassContext(running_server(extra_env=env, shared_with=cls.a))
        cls.token = cls.sign_in(cls.a)

    @classmethod
    def sign_in(cls, server) -> str:
        """A token of the demo admin (a platform operator), made over HTTP on ``server``."""
        session = requests.Session()
        api = server.base_url + "/api/v1/auth/"
        csrf = session.get(api + "csrf/", timeout=30).json()["csrf_token"]
        headers = {"X-CSRFToken": csrf, "Referer": server.base_url + "/"}
        session.post(
            api + "login/",
            json={"email": server.email, "password": server.password},
            headers=headers,
            timeout=30,
        ).raise_for_status()
        headers["X-CSRFToken"] = session.cookies.get("csrftoken", csrf)
        created = session.post(api + "tokens/", json={"name": "two"}, headers=headers, timeout=30)
        created.raise_for_status()
        return created.json()["key"]

    def call(self, server, method: str, path: str, **kwargs) -> requests.Response:
        """One call to ``server`` with the operator's token."""
        headers = {"Authorization": f"Token {self.token}"}
        return requests.request(
            method, server.base_url + path, headers=headers, timeout=30, **kwargs
        )

    def test_a_change_on_one_process_is_used_by_the_other_on_its_next_request(self):
        before = self.call(self.b, "GET", TASKS)
        self.assertEqual(before.status_code, 200, before.text)
        self.assertGreater(len(before.json()["results"]), 1)
        self.assertEqual(before.headers["X-RateLimit-Limit"], "1200")

        changed = self.call(
            self.a, "PATCH", CONFIG, json={"page_size": 1, "throttle_user": "500/min"}
        )
        self.assertEqual(changed.status_code, 200, changed.text)

        after = self.call(self.b, "GET", TASKS)
        self.assertEqual(len(after.json()["results"]), 1)
        self.assertEqual(after.headers["X-RateLimit-Limit"], "500")
        seen = self.call(self.b, "GET", CONFIG + "page_size/").json()
        self.assertEqual((seen["value"], seen["overridden"]), (1, True))

        reset = self.call(self.b, "POST", CONFIG + "page_size/reset/")
        self.assertEqual(reset.status_code, 200, reset.text)
        self.assertGreater(len(self.call(self.a, "GET", TASKS).json()["results"]), 1)
