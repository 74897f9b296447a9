"""Every answer under ``/api/`` is JSON, whatever ``DEBUG`` is, and every request is counted.

Regression tests of issue 12, finding 3: with ``DEBUG`` on, an unknown route or a malformed id
got Django's HTML 404 listing every URL pattern and a server error the debug page with
settings and stack locals; answers given before DRF's throttles (401, CSRF 403, unknown URLs)
carried no ``X-RateLimit-*`` headers and were not rate limited.
"""

from unittest import mock

from django.core.cache import cache
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle

from valar.core.testing import ApiTestCase
from valar.core.tests.test_errors import SECRET_TEXT

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
#: What a debug page shows and a problem never does.
LEAKS = ("<html", "<!DOCTYPE", "Traceback", "SECRET_KEY", "DATABASES", "urlpatterns", "hunter2")


def rates(anon: str = "100/min", user: str = "100/min", login: str = "100/min"):
    """Patch the throttle rates (DRF reads them once, at import, onto the class)."""
    return mock.patch.object(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": anon, "user": user, "login": login}
    )


class ProblemWhateverDebugTests(ApiTestCase):
    """Unknown routes, malformed ids, wrong methods and CSRF failures, with DEBUG off and on."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)

    def assert_json_problem(self, response, status: int, code: str | None = None) -> dict:
        body = self.assert_problem(response, status, code=code)
        text = response.content.decode()
        for leak in LEAKS:
            self.assertNotIn(leak, text)
        for header in RATE_HEADERS:
            self.assertIn(header, response, f"{header} missing on {status}")
        return body

    def each_debug(self):
        """Run the block with DEBUG off, then on (the test runner turns it off by default)."""
        for debug in (False, True):
            with self.subTest(debug=debug), override_settings(DEBUG=debug):
                yield debug

    def test_an_unknown_route_is_a_404_problem(self):
        for _ in self.each_debug():
            for path in ("/api/v1/no-such-thing/", "/api/nothing", "/api/v1/crm/leads/x/y/z/"):
                self.assert_json_problem(self.api.get(path), 404, "not_found")
            self.assert_json_problem(self.client.get("/api/v1/no-such-thing/"), 404)

    def test_a_malformed_id_is_a_404_problem(self):
        for _ in self.each_debug():
            for path in ("/api/v1/crm/leads/0.5/", "/api/v1/tasks/1.2/", "/api/v1/teams/a.b/"):
                self.assert_json_problem(self.api.get(path), 404, "not_found")

    def test_a_wrong_method_is_a_405_problem(self):
        for _ in self.each_debug():
            body = self.assert_json_problem(self.api.delete("/api/v1/auth/login-logs/"), 405)
            self.assertEqual(body["code"], "method_not_allowed")

    def test_a_csrf_failure_of_a_session_is_a_403_problem(self):
        self.session_login(self.user)
        for _ in self.each_debug():
            response = self.client.post("/api/v1/auth/tokens/", {"name": "x"})
            body = self.assert_json_problem(response, 403)
            self.assertIn("CSRF", body["detail"])

    def test_an_anonymous_call_is_a_401_problem(self):
        for _ in self.each_debug():
            self.assert_json_problem(self.client.get("/api/v1/auth/me/"), 401)

    def test_a_host_name_the_server_does_not_serve_is_a_400_problem(self):
        for _ in self.each_debug():
            response = self.client.get("/api/v1/health/", HTTP_HOST="evil.example")
            self.assert_json_problem(response, 400, "bad_request")

    def test_pages_outside_the_api_are_left_alone(self):
        with override_settings(DEBUG=True):
            response = self.client.get("/admin/login/")
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/html", response["Content-Type"])


@override_settings(ROOT_URLCONF="valar.core.tests.test_errors")
class ServerErrorWhateverDebugTests(ApiTestCase):
    """A server error under /api/ is a 500 problem with no trace, settings or SQL, DEBUG on."""

    def test_a_failure_in_an_api_view_is_a_500_problem_with_debug_on(self):
        with override_settings(DEBUG=True), self.assertLogs("valar.errors", level="ERROR"):
            response = self.client.get("/boom/api/")
        self.assert_problem(response, 500, code="server_error")
        self.assertNotIn(SECRET_TEXT, response.content.decode())

    def test_the_debug_500_page_of_a_plain_view_under_api_becomes_a_problem(self):
        self.client.raise_request_exception = False
        for accept in ("text/html", "text/plain", "*/*"):
            with (
                self.subTest(accept=accept),
                override_settings(DEBUG=True),
                self.assertLogs("django.request", level="ERROR"),
            ):
                response = self.client.get("/api/boom/", HTTP_ACCEPT=accept)
            self.assert_problem(response, 500, code="server_error")
            text = response.content.decode()
            for leak in (*LEAKS, SECRET_TEXT, "RuntimeError"):
                self.assertNotIn(leak, text)
            self.assertIn("X-RateLimit-Limit", response)


class EarlyAnswersAreRateLimitedTests(ApiTestCase):
    """Answers given before DRF's throttles count against the caller's address."""

    def test_unknown_routes_are_counted_and_then_throttled(self):
        with rates(anon="3/min"):
            answers = [self.client.get(f"/api/v1/nothing-{n}/") for n in range(3)]
            blocked = self.client.get("/api/v1/nothing-else/")
        self.assertEqual([a.status_code for a in answers], [404, 404, 404])
        self.assertEqual([a["X-RateLimit-Remaining"] for a in answers], ["2", "1", "0"])
        body = self.assert_problem(blocked, 429, code="throttled")
        self.assertIn("throttled", body["detail"])
        self.assertTrue(1 <= int(blocked["Retry-After"]) <= 60)
        self.assertEqual(blocked["X-RateLimit-Remaining"], "0")

    def test_unauthenticated_and_bad_token_calls_are_counted_and_then_throttled(self):
        with rates(anon="2/min"):
            first = self.client.get("/api/v1/auth/me/")
            self.client.credentials(HTTP_AUTHORIZATION="Token vlr_not-a-real-key")
            second = self.client.get("/api/v1/auth/me/")
            blocked = self.client.get("/api/v1/auth/me/")
        self.assertEqual((first.status_code, second.status_code), (401, 401))
        self.assertEqual((first["X-RateLimit-Limit"], second["X-RateLimit-Remaining"]), ("2", "0"))
        self.assert_problem(blocked, 429, code="throttled")

    def test_csrf_failures_are_counted(self):
        user = self.make_user()
        self.session_login(user)
        cache.clear()  # forget the sign-in's own requests (the session stays in the database)
        with rates(anon="1/min", user="100/min"):
            first = self.client.post("/api/v1/auth/tokens/", {"name": "x"})
            blocked = self.client.post("/api/v1/auth/tokens/", {"name": "x"})
        self.assert_problem(first, 403)
        self.assertEqual(first["X-RateLimit-Remaining"], "0")
        self.assert_problem(blocked, 429, code="throttled")

    def test_requests_that_reach_drf_throttles_are_counted_once(self):
        with rates(anon="10/min"):
            answers = [self.client.get("/api/v1/health/") for _ in range(3)]
        self.assertEqual([a["X-RateLimit-Remaining"] for a in answers], ["9", "8", "7"])

    def test_the_limit_is_per_address(self):
        with rates(anon="1/min"):
            self.client.get("/api/v1/nothing/", REMOTE_ADDR="198.51.100.7")
            blocked = self.client.get("/api/v1/nothing/", REMOTE_ADDR="198.51.100.7")
            other = self.client.get("/api/v1/nothing/", REMOTE_ADDR="198.51.100.8")
        self.assertEqual((blocked.status_code, other.status_code), (429, 404))

    def test_pages_outside_the_api_are_not_counted(self):
        with rates(anon="1/min"):
            statuses = [self.client.get("/admin/nothing/").status_code for _ in range(3)]
        self.assertNotIn(429, statuses)
