"""What ``make run`` serves: its settings, and its real ASGI server answering hostile requests.

Regression tests of issue 12, finding 3: ``make run`` served with ``DEBUG`` on, so an unknown
route got Django's HTML 404 listing every URL pattern and a server error the debug page with
the database host, ``REDIS_URL`` and stack locals, to anyone. The environment is read from the
Makefile itself (``make -n run``), so these tests follow what the command really does.
"""

import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from valar.core.testing.server import free_port

ROOT = Path(settings.BASE_DIR)
#: Printed by the probe: the settings that decide what a browser and an attacker see.
PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "DEBUG", "LOCAL_HTTP", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS", "MIDDLEWARE", "WHITENOISE_USE_FINDERS",
)} | {"SECRET_KEY_SET": bool(s.SECRET_KEY)}))
"""


def make_env(target: str) -> dict[str, str]:
    """The variables the Makefile sets on the command that serves ``target``."""
    dry_run = subprocess.run(
        ["make", "-n", "-s", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in dry_run.splitlines() if "deploy/start.sh" in line)
    env = {}
    for word in shlex.split(line):
        name, equals, value = word.partition("=")
        if not equals or not name.isidentifier():
            break
        if name != "PATH":  # the checkout's .venv first: the test gives its own interpreter's
            env[name] = value
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """A process environment without the test run's settings (DEBUG, the fast hasher...)."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, "DJANGO_SETTINGS_MODULE": "valar.settings", **extra}


def probe_settings(**env: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with ``env``."""
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


class RunSettingsTests(SimpleTestCase):
    """``make run`` is the product (DEBUG off); ``make dev`` is the DEBUG variant."""

    def loaded(self, **env: str) -> dict:
        result = probe_settings(**env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def test_make_run_serves_with_debug_off_over_local_plain_http(self):
        env = make_env("run")
        self.assertEqual(env.get("DEBUG"), "false")
        loaded = self.loaded(**env)
        self.assertIs(loaded["DEBUG"], False)
        self.assertIs(loaded["LOCAL_HTTP"], True)
        self.assertTrue(loaded["SECRET_KEY_SET"])  # the key kept in var/
        # Plain HTTP on loopback: cookies without Secure, no HTTPS redirect, no HSTS ...
        self.assertIs(loaded["SESSION_COOKIE_SECURE"], False)
        self.assertIs(loaded["CSRF_COOKIE_SECURE"], False)
        self.assertIs(loaded["SECURE_SSL_REDIRECT"], False)
        self.assertEqual(loaded["SECURE_HSTS_SECONDS"], 0)
        # ... only because every host name it answers is a loopback one.
        loopback = {"127.0.0.1", "localhost", "[::1]", "testserver"}
        self.assertLessEqual(set(loaded["ALLOWED_HOSTS"]), loopback)
        self.assertIn("whitenoise.middleware.WhiteNoiseMiddleware", loaded["MIDDLEWARE"])
        self.assertIn("valar.core.middleware.ApiProblemMiddleware", loaded["MIDDLEWARE"])

    def test_make_dev_is_the_debug_variant(self):
        env = make_env("dev")
        self.assertIs(self.loaded(**env)["DEBUG"], True)

    def test_local_http_refuses_host_names_that_are_not_loopback(self):
        result = probe_settings(
            DEBUG="false", LOCAL_HTTP="true", ALLOWED_HOSTS="api.example.com,localhost"
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LOCAL_HTTP serves plain HTTP to loopback host names only", result.stderr)

    def test_without_debug_or_local_http_the_secret_key_is_required_and_cookies_are_secure(self):
        missing = probe_settings(DEBUG="false")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("SECRET_KEY must be set", missing.stderr)
        loaded = self.loaded(DEBUG="false", SECRET_KEY="x" * 50)
        self.assertIs(loaded["SESSION_COOKIE_SECURE"], True)
        self.assertIs(loaded["CSRF_COOKIE_SECURE"], True)
        self.assertIs(loaded["SECURE_SSL_REDIRECT"], True)
        self.assertGreater(loaded["SECURE_HSTS_SECONDS"], 0)


class RealServerTests(SimpleTestCase):
    """The ASGI server ``make run`` starts, with its settings, on a throwaway database.

    The database has no tables: none of these answers may need one, except the server error
    on purpose (a token lookup), which must still be a bare problem.
    """

    @classmethod
    def setUpClass(cls) -> None:
        """Start the server as ``make run`` does (``deploy/start.sh asgi``); wait for it."""
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory(prefix="valar-run-")
        cls.port = free_port()
        env = clean_env(
            **{
                **make_env("run"),
                "HOST": "127.0.0.1",
                "PORT": str(cls.port),
                "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            },
            DATABASE_URL=f"sqlite:///{cls.tmp.name}/db.sqlite3",
            LOG_LEVEL="CRITICAL",
        )
        cls.server = subprocess.Popen(
            ["sh", "deploy/start.sh", "asgi", "--log-level", "critical"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            cls.tearDownClass()
            raise RuntimeError("the server did not start")

    @classmethod
    def tearDownClass(cls) -> None:
        """Stop the server and remove its database."""
        cls.server.terminate()
        try:
            cls.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.server.kill()
        cls.tmp.cleanup()
        super().tearDownClass()

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def assert_problem(self, response, body: bytes, status: int) -> dict:
        self.assertEqual(response.status, status, body[:300])
        self.assertEqual(response.getheader("Content-Type"), "application/problem+json")
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            self.assertIsNotNone(response.getheader(header), header)
        text = body.decode()
        for leak in ("<html", "Traceback", "SECRET_KEY", "DATABASES", "sqlite", "no such table"):
            self.assertNotIn(leak, text)
        problem = json.loads(text)
        self.assertEqual(problem["status"], status)
        return problem

    def test_an_unknown_route_is_a_404_problem(self):
        self.assert_problem(*self.request("GET", "/api/v1/no-such-thing/"), 404)

    def test_a_malformed_id_is_a_404_problem(self):
        self.assert_problem(*self.request("GET", "/api/v1/crm/leads/0.5/"), 404)

    def test_a_nested_json_bomb_is_a_400_problem(self):
        response, body = self.request("GET", "/api/v1/auth/csrf/")
        self.assertEqual(response.status, 200, body)
        token = json.loads(body)["csrf_token"]
        cookie = response.getheader("Set-Cookie").split(";")[0]
        self.assertNotIn("secure", response.getheader("Set-Cookie").lower())
        response, body = self.request(
            "POST",
            "/api/v1/auth/login/",
            body=b"[" * 2000 + b"]" * 2000,
            headers={"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": cookie},
        )
        self.assertEqual(self.assert_problem(response, body, 400)["code"], "too_deep")

    def test_a_server_error_is_a_bare_500_problem(self):
        # The throwaway database has no tables: the token lookup fails.
        response, body = self.request(
            "GET", "/api/v1/auth/me/", headers={"Authorization": "Token vlr_x"}
        )
        self.assertEqual(self.assert_problem(response, body, 500)["code"], "server_error")

    def test_swagger_ui_and_its_static_files_are_served_with_debug_off(self):
        response, body = self.request("GET", "/api/docs/")
        self.assertEqual(response.status, 200)
        self.assertIn("/static/drf_spectacular_sidecar/swagger-ui-dist/", body.decode())
        for asset in (
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
            "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
            "/static/admin/css/base.css",
        ):
            with self.subTest(asset=asset):
                response, body = self.request("GET", asset)
                self.assertEqual(response.status, 200, asset)
                self.assertGreater(len(body), 1000)
