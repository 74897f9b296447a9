"""The per-IP sign-in limit: bursts get 429s, the count is atomic, a cache outage fails open."""

import threading
import time
from unittest import mock

from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.throttling import SimpleRateThrottle

from valar.accounts.tests.test_login import WRONG_PASSWORD, LoginTestCase
from valar.core.throttling import LoginThrottle, ReportingThrottle


def rates(login: str):
    """Patch the login rate (DRF reads the rates once, onto the class)."""
    return mock.patch.object(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100000/min", "user": "100000/min", "login": login},
    )


class SignInBurstTests(LoginTestCase):
    """A burst of sign-ins from one address is cut at the limit, whatever it tries."""

    def test_a_burst_of_sixty_sign_ins_gets_429_after_the_first_twenty(self):
        self.make_user("ada@example.com")
        with rates("20/min"):
            responses = [
                self.login(f"user{number}@example.com", WRONG_PASSWORD) for number in range(60)
            ]
        statuses = [response.status_code for response in responses]
        self.assertEqual(statuses, [400] * 20 + [429] * 40)
        last = responses[-1]
        self.assert_problem(last, 429, code="throttled")
        self.assertTrue(1 <= int(last["Retry-After"]) <= 60, last["Retry-After"])
        self.assertEqual(last["X-RateLimit-Limit"], "20")
        self.assertEqual(last["X-RateLimit-Remaining"], "0")
        self.assertEqual(responses[0]["X-RateLimit-Remaining"], "19")

    def test_jwt_sign_in_shares_the_limit_with_session_sign_in(self):
        with rates("2/min"):
            self.login("a@example.com", WRONG_PASSWORD)
            self.client.post("/api/v1/auth/jwt/", {"email": "b@example.com", "password": "x"})
            jwt = self.client.post("/api/v1/auth/jwt/", {"email": "c@example.com", "password": "x"})
            session = self.login("d@example.com", WRONG_PASSWORD)
        self.assert_problem(jwt, 429, code="throttled")
        self.assert_problem(session, 429, code="throttled")

    def test_other_addresses_keep_their_own_count(self):
        with rates("1/min"):
            self.login("a@example.com", WRONG_PASSWORD, REMOTE_ADDR="198.51.100.1")
            blocked = self.login("a@example.com", WRONG_PASSWORD, REMOTE_ADDR="198.51.100.1")
            other = self.login("a@example.com", WRONG_PASSWORD, REMOTE_ADDR="198.51.100.2")
        self.assertEqual(blocked.status_code, 429)
        self.assertEqual(other.status_code, 400)


class SlowCache:
    """The real cache with a network round trip's delay before every call (as Redis has)."""

    def __getattr__(self, name):
        method = getattr(cache, name)

        def call(*args, **kwargs):
            time.sleep(0.002)
            return method(*args, **kwargs)

        return call


class AtomicCountTests(LoginTestCase):
    """Simultaneous requests each get their own count: exactly the limit passes."""

    def test_sixty_simultaneous_requests_let_exactly_twenty_through(self):
        request = RequestFactory().post("/api/v1/auth/login/", REMOTE_ADDR="203.0.113.9")
        barrier = threading.Barrier(60)
        allowed: list[bool] = []

        def run() -> None:
            throttle = LoginThrottle()
            barrier.wait()
            allowed.append(throttle.allow_request(request, None))

        with rates("20/min"), mock.patch.object(ReportingThrottle, "cache", SlowCache()):
            threads = [threading.Thread(target=run) for _ in range(60)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(allowed.count(True), 20)
        self.assertEqual(allowed.count(False), 40)

    def test_sign_in_is_let_through_and_logged_when_the_cache_is_down(self):
        self.make_user("ada@example.com")
        broken = mock.Mock()
        for method in ("get", "set", "add", "incr", "hit_window"):
            getattr(broken, method).side_effect = ConnectionError("cache unreachable")
        with (
            rates("1/min"),
            mock.patch.object(ReportingThrottle, "cache", broken),
            self.assertLogs("valar.throttling", level="WARNING"),
        ):
            statuses = [self.login("ada@example.com").status_code for _ in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
        self.assertTrue(broken.add.called or broken.hit_window.called)
