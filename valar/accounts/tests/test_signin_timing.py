"""Constant-time sign-in: every attempt runs the password hasher exactly once.

Counting hasher calls (not wall-clock time) proves an unknown email, a wrong password, an
inactive account and a locked account with the right or a wrong password all cost the same,
so neither timing nor the answer tells an attacker which case they hit.
"""

from unittest import mock

from django.contrib.auth.hashers import get_hasher

from valar.accounts.models import LoginLog
from valar.accounts.tests.test_login import WRONG_PASSWORD, LoginTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD


class HasherCallTests(LoginTestCase):
    """One hash per attempt, whatever the outcome, through ``auth/login/`` and ``auth/jwt/``."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.csrf_token()

    def hashes(self, send) -> tuple[int, object]:
        """Count the hasher runs of one request."""
        hasher = type(get_hasher())
        with mock.patch.object(hasher, "encode", autospec=True, side_effect=hasher.encode) as spy:
            response = send()
        return spy.call_count, response

    def assert_one_hash(self, send, status: int) -> dict:
        """Check the status and one hasher run; return the body without the seconds left."""
        calls, response = self.hashes(send)
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(calls, 1, f"the hasher ran {calls} times")
        body = response.json()
        if "detail" in body:
            body["detail"] = body["detail"].split(" Expected available")[0]
        return body

    def test_an_unknown_email_runs_the_hasher_once(self):
        body = self.assert_one_hash(lambda: self.login("nobody@example.com", WRONG_PASSWORD), 400)
        self.assertEqual(body["code"], "invalid_credentials")

    def test_an_unknown_username_runs_the_hasher_once(self):
        self.assert_one_hash(lambda: self.login("nobody", WRONG_PASSWORD), 400)

    def test_a_wrong_password_runs_the_hasher_once(self):
        self.assert_one_hash(lambda: self.login("ada@example.com", WRONG_PASSWORD), 400)

    def test_the_right_password_runs_the_hasher_once(self):
        self.assert_one_hash(lambda: self.login("ada@example.com"), 200)

    def test_an_inactive_account_runs_the_hasher_once(self):
        self.user.is_active = False
        self.user.save()
        self.assert_one_hash(lambda: self.login("ada@example.com"), 400)

    def test_an_account_without_a_usable_password_runs_the_hasher_once(self):
        self.user.set_unusable_password()
        self.user.save()
        self.assert_one_hash(lambda: self.login("ada@example.com", WRONG_PASSWORD), 400)

    def test_a_locked_account_runs_the_hasher_once_for_a_right_and_a_wrong_password(self):
        for _ in range(5):
            self.login("ada@example.com", WRONG_PASSWORD)
        right = self.assert_one_hash(lambda: self.login("ada@example.com"), 429)
        wrong = self.assert_one_hash(lambda: self.login("ada@example.com", WRONG_PASSWORD), 429)
        self.assertEqual(right, wrong)
        self.assertEqual(LoginLog.objects.filter(reason=LoginLog.Reason.LOCKED_OUT).count(), 2)

    def test_a_locked_unknown_email_answers_like_a_locked_account(self):
        for _ in range(5):
            self.login("ada@example.com", WRONG_PASSWORD)
            self.login("nobody@example.com", WRONG_PASSWORD)
        known = self.assert_one_hash(lambda: self.login("ada@example.com"), 429)
        unknown = self.assert_one_hash(lambda: self.login("nobody@example.com"), 429)
        self.assertEqual(known, unknown)

    def test_jwt_sign_in_runs_the_hasher_once_in_every_case(self):
        def jwt(email, password=DEFAULT_PASSWORD):
            return lambda: self.client.post(
                "/api/v1/auth/jwt/", {"email": email, "password": password}
            )

        self.assert_one_hash(jwt("ada@example.com"), 200)
        self.assert_one_hash(jwt("ada@example.com", WRONG_PASSWORD), 400)
        self.assert_one_hash(jwt("nobody@example.com", WRONG_PASSWORD), 400)
