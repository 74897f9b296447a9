"""The lockout under concurrency: simultaneous guesses on real PostgreSQL connections.

Each attempt runs in its own thread, so with its own database connection, through the whole
HTTP stack (throttles, sign-in service, session). The old sign-in asked "is it locked?" before
the slow hash and counted afterwards, so concurrent guesses all passed the check.
"""

import threading
import unittest

from django.core.cache import cache
from django.db import connection
from django.test import TransactionTestCase
from rest_framework.test import APIClient

from valar.accounts.models import LoginLog, SignInCounter, User
from valar.core.testing.cases import DEFAULT_PASSWORD

LOGIN_URL = "/api/v1/auth/login/"
WRONG_PASSWORD = "not-the-right-passphrase-17"
LOCKED = "Too many failed sign-in attempts for this account"
ON_POSTGRESQL = connection.vendor == "postgresql"
SKIP_REASON = (
    "needs PostgreSQL (real concurrent connections and row locks); SQLite serialises every "
    "write, so the race cannot happen there. Run with DATABASE_URL=postgres://..."
)


@unittest.skipUnless(ON_POSTGRESQL, SKIP_REASON)
class ConcurrentLockoutTests(TransactionTestCase):
    """However many attempts arrive at once, no more than the limit reach the password check."""

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.user = User.objects.create_user(email="ada@example.com", password=DEFAULT_PASSWORD)

    def attempt(self, password: str, address: str):
        """One sign-in as a browser from ``address`` would make it (no CSRF enforcement here)."""
        return APIClient().post(
            LOGIN_URL,
            {"email": "ada@example.com", "password": password},
            REMOTE_ADDR=address,
        )

    def burst(self, passwords: list[str]) -> list:
        """Send every attempt at the same moment, each from its own thread and connection."""
        barrier = threading.Barrier(len(passwords))
        responses: list = [None] * len(passwords)

        def run(index: int, password: str) -> None:
            try:
                barrier.wait()
                responses[index] = self.attempt(password, f"10.20.{index // 250}.{index % 250}")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=run, args=(index, password))
            for index, password in enumerate(passwords)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return responses

    def fail(self, times: int) -> None:
        for number in range(times):
            response = self.attempt(WRONG_PASSWORD, f"192.0.2.{number + 1}")
            self.assertEqual(response.status_code, 400, response.content)

    def test_after_the_limit_thirty_simultaneous_guesses_and_the_right_password_never_sign_in(
        self,
    ):
        self.fail(5)
        responses = self.burst([WRONG_PASSWORD] * 30 + [DEFAULT_PASSWORD])
        statuses = [response.status_code for response in responses]
        self.assertEqual(statuses, [429] * 31, statuses)
        for response in responses:
            self.assertIn(LOCKED, response.json()["detail"])
            self.assertNotIn("sessionid", response.cookies)
        self.assertFalse(LoginLog.objects.filter(successful=True).exists())
        self.assertEqual(LoginLog.objects.filter(reason=LoginLog.Reason.LOCKED_OUT).count(), 31)

    def reset(self) -> None:
        """Start the next trial from a clean account."""
        LoginLog.objects.all().delete()
        SignInCounter.objects.all().delete()

    def test_four_failures_then_twenty_simultaneous_guesses_check_only_one(self):
        for trial in range(3):
            with self.subTest(trial=trial):
                self.reset()
                self.fail(4)
                statuses = [r.status_code for r in self.burst([WRONG_PASSWORD] * 20)]
                self.assertEqual(sorted(statuses), [400] + [429] * 19, statuses)
                checked = LoginLog.objects.exclude(reason=LoginLog.Reason.LOCKED_OUT)
                self.assertEqual(checked.count(), 5)

    def test_four_failures_then_a_burst_with_the_right_password_checks_one_slot_only(self):
        """The right password signs in only if it took the one slot left (a fifth attempt).

        Then the success resets the count, and the guesses still arriving start a new count
        of at most the limit; otherwise the right password is refused like the guesses.
        """
        for trial in range(3):
            with self.subTest(trial=trial):
                self.reset()
                self.fail(4)
                responses = self.burst([WRONG_PASSWORD] * 19 + [DEFAULT_PASSWORD])
                statuses = [response.status_code for response in responses]
                wrong_checked = statuses[:19].count(400)
                if statuses[19] == 200:
                    self.assertLessEqual(wrong_checked, 5, statuses)
                else:
                    self.assertEqual(statuses[19], 429, statuses)
                    self.assertEqual(wrong_checked, 1, statuses)
                    self.assertFalse(LoginLog.objects.filter(successful=True).exists())
                counter = SignInCounter.objects.filter(user=self.user).first()
                self.assertLessEqual(counter.failures if counter else 0, 5)
