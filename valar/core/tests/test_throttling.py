"""Tests of rate limiting: ``X-RateLimit-*`` headers, 429 problems, login limit, cache outage."""

from unittest import mock

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from valar.core.testing import ApiTestCase
from valar.core.throttling import AnonThrottle, LoginThrottle, ReportingThrottle

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def rates(anon: str = "100/min", user: str = "100/min", login: str = "100/min"):
    """Patch the throttle rates (DRF reads them once, at import, onto the class)."""
    return mock.patch.object(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": anon, "user": user, "login": login}
    )


class RateLimitHeaderTests(ApiTestCase):
    """Every API response reports the limit, what is left and when the window resets."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()

    def assert_rate_headers(self, response) -> tuple[int, int, int]:
        for header in RATE_HEADERS:
            self.assertIn(header, response, f"{header} missing ({response.status_code})")
        limit, remaining, reset = (int(response[header]) for header in RATE_HEADERS)
        self.assertGreater(limit, 0)
        self.assertTrue(0 <= remaining < limit, (remaining, limit))
        self.assertGreaterEqual(reset, 1)
        return limit, remaining, reset

    def test_anonymous_responses_carry_the_headers_and_remaining_goes_down(self):
        with rates(anon="7/min"):
            first = self.client.get("/api/v1/health/")
            second = self.client.get("/api/v1/auth/csrf/")
        self.assertEqual(self.assert_rate_headers(first)[:2], (7, 6))
        self.assertEqual(self.assert_rate_headers(second)[:2], (7, 5))

    def test_signed_in_responses_report_the_user_limit_and_remaining_goes_down(self):
        api = self.token_client(self.user)
        with rates(anon="5/min", user="50/min"):
            responses = [
                api.get("/api/v1/auth/me/"),
                api.get("/api/v1/auth/tokens/"),
                api.get("/api/v1/auth/login-logs/"),
                api.get("/api/v1/auth/login-logs/export/"),
            ]
        remaining = []
        for response in responses:
            self.assertEqual(response.status_code, 200)
            limit, left, _ = self.assert_rate_headers(response)
            self.assertEqual(limit, 50)
            remaining.append(left)
        self.assertEqual(remaining, [49, 48, 47, 46])

    def test_session_signed_in_writes_carry_the_headers(self):
        csrf = self.session_login(self.user)
        response = self.client.patch(
            "/api/v1/auth/me/", {"first_name": "Ada"}, HTTP_X_CSRFTOKEN=csrf
        )
        self.assertEqual(response.status_code, 200)
        self.assert_rate_headers(response)

    def test_error_responses_after_the_throttle_carry_the_headers(self):
        api = self.token_client(self.user)
        self.assert_rate_headers(api.post("/api/v1/auth/tokens/", {}))
        self.assert_rate_headers(api.delete("/api/v1/auth/login-logs/"))

    def test_users_are_counted_separately(self):
        other = self.make_user("other@example.com")
        with rates(user="10/min"):
            self.token_client(self.user).get("/api/v1/auth/me/")
            first = self.token_client(self.user).get("/api/v1/auth/me/")
            theirs = self.token_client(other).get("/api/v1/auth/me/")
        self.assertEqual(first["X-RateLimit-Remaining"], "8")
        self.assertEqual(theirs["X-RateLimit-Remaining"], "9")


class ThrottledResponseTests(ApiTestCase):
    """Going over a limit is a 429 problem with ``Retry-After``."""

    def test_exceeding_the_anonymous_limit_is_a_429_problem_with_retry_after(self):
        with rates(anon="2/min"):
            answered = [self.client.get("/api/v1/health/").status_code for _ in range(2)]
            response = self.client.get("/api/v1/health/")
        self.assertEqual(answered, [200, 200])
        body = self.assert_problem(response, 429, code="throttled")
        self.assertEqual(body["title"], "Too Many Requests")
        self.assertIn("Retry-After", response)
        self.assertTrue(1 <= int(response["Retry-After"]) <= 60, response["Retry-After"])
        self.assertEqual(response["X-RateLimit-Limit"], "2")
        self.assertEqual(response["X-RateLimit-Remaining"], "0")

    def test_the_anonymous_limit_is_per_client_address(self):
        with rates(anon="1/min"):
            self.client.get("/api/v1/health/", REMOTE_ADDR="198.51.100.1")
            blocked = self.client.get("/api/v1/health/", REMOTE_ADDR="198.51.100.1")
            other = self.client.get("/api/v1/health/", REMOTE_ADDR="198.51.100.2")
        self.assertEqual(blocked.status_code, 429)
        self.assertEqual(other.status_code, 200)

    def test_exceeding_the_user_limit_is_a_429_problem(self):
        api = self.token_client(self.make_user())
        with rates(anon="1/min", user="2/min"):
            answered = [api.get("/api/v1/auth/me/").status_code for _ in range(2)]
            response = api.get("/api/v1/auth/me/")
        self.assertEqual(answered, [200, 200])
        self.assert_problem(response, 429, code="throttled")
        self.assertIn("Retry-After", response)


class LoginThrottleTests(ApiTestCase):
    """Sign-in has its own limit, stricter than the anonymous one."""

    def attempt(self, csrf: str, number: int):
        return self.client.post(
            "/api/v1/auth/login/",
            {"email": f"nobody{number}@example.com", "password": "wrong-password"},
            HTTP_X_CSRFTOKEN=csrf,
        )

    def test_the_configured_login_limit_is_stricter_than_the_anonymous_one(self):
        configured = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        login_count, login_seconds = LoginThrottle().parse_rate(configured["login"])
        anon_count, anon_seconds = AnonThrottle().parse_rate(configured["anon"])
        self.assertLess(login_count / login_seconds, anon_count / anon_seconds)

    def test_sign_in_attempts_hit_the_login_limit_while_other_calls_still_answer(self):
        with rates(anon="50/min", login="3/min"):
            csrf = self.csrf_token()
            answered = [self.attempt(csrf, number).status_code for number in range(3)]
            response = self.attempt(csrf, 3)
            health = self.client.get("/api/v1/health/")
        self.assertEqual(answered, [400, 400, 400])
        self.assert_problem(response, 429, code="throttled")
        self.assertIn("Retry-After", response)
        self.assertEqual(response["X-RateLimit-Limit"], "3")
        self.assertEqual(health.status_code, 200)

    def test_registration_shares_the_login_limit(self):
        with rates(anon="50/min", login="1/min"):
            csrf = self.csrf_token()
            self.attempt(csrf, 0)
            response = self.client.post(
                "/api/v1/auth/register/",
                {"email": "new@example.com", "password": "a-Long-and-unusual-passphrase-42"},
                HTTP_X_CSRFTOKEN=csrf,
            )
        self.assert_problem(response, 429, code="throttled")

    def test_a_signed_in_caller_is_still_held_to_the_login_limit(self):
        api = self.token_client(self.make_user())
        with rates(user="50/min", login="1/min"):
            api.post("/api/v1/auth/login/", {"email": "a@example.com", "password": "x"})
            response = api.post("/api/v1/auth/login/", {"email": "a@example.com", "password": "x"})
        self.assert_problem(response, 429, code="throttled")


def unreachable_cache() -> mock.Mock:
    """A cache whose every call (Django's and the Redis counter) fails as if unreachable."""
    broken = mock.Mock()
    for method in ("get", "set", "add", "incr", "get_many", "hit_window"):
        getattr(broken, method).side_effect = ConnectionError("cache unreachable")
    return broken


class CacheOutageTests(ApiTestCase):
    """When the cache behind the throttles is down, requests are let through (and logged)."""

    def test_requests_are_answered_when_the_throttle_cache_fails(self):
        broken = unreachable_cache()
        with (
            rates(anon="1/min"),
            mock.patch.object(ReportingThrottle, "cache", broken),
            self.assertLogs("valar.throttling", level="WARNING"),
        ):
            statuses = [self.client.get("/api/v1/auth/csrf/").status_code for _ in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
        self.assertTrue(broken.method_calls)

    def test_signed_in_requests_are_answered_when_the_throttle_cache_fails(self):
        api = self.token_client(self.make_user())
        broken = unreachable_cache()
        with (
            rates(user="1/min"),
            mock.patch.object(ReportingThrottle, "cache", broken),
            self.assertLogs("valar.throttling", level="WARNING"),
        ):
            statuses = [api.get("/api/v1/auth/login-logs/").status_code for _ in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
