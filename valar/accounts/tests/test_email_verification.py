"""Tests of ``POST auth/email/verify/`` and ``auth/email/verify/resend/``."""

import datetime
import uuid
from unittest import mock

from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from valar.accounts.models import User
from valar.accounts.services import sessions_end_all
from valar.accounts.tests.emailed import emailed_token
from valar.accounts.tokens import (
    EmailVerificationTokens,
    email_verification_tokens,
    password_reset_tokens,
    uid_for,
)
from valar.core.testing import ApiTestCase

VERIFY_URL = "/api/v1/auth/email/verify/"
RESEND_URL = "/api/v1/auth/email/verify/resend/"
ME_URL = "/api/v1/auth/me/"


class EmailVerifyTests(ApiTestCase):
    """A verification token proves the inbox once, and dies with the state it covers."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.token = {"uid": uid_for(self.user), "token": self.make_token(self.user)}

    @staticmethod
    def make_token(user: User) -> str:
        return email_verification_tokens.make_token(user)

    def verify(self, data: dict, *, client: APIClient | None = None):
        client = client or self.client
        return client.post(VERIFY_URL, data, HTTP_X_CSRFTOKEN=self.csrf_token(client))

    def assert_invalid_token(self, response) -> None:
        body = self.assert_problem(response, 400, field="token", code="invalid_token")
        self.assertEqual(
            body["detail"], "This link is invalid, has expired or has already been used."
        )

    def test_an_anonymous_caller_verifies_with_the_token(self):
        response = self.verify(self.token)
        self.assertEqual(response.status_code, 204, response.content)
        self.user.refresh_from_db()
        self.assertTrue(self.user.email_verified)
        self.assertNotIn("sessionid", response.cookies)

    def test_the_signed_in_owner_verifies_and_me_shows_it(self):
        self.session_login(self.user)
        self.assertFalse(self.client.get(ME_URL).json()["email_verified"])
        response = self.client.post(
            VERIFY_URL, self.token, HTTP_X_CSRFTOKEN=self.client.cookies["csrftoken"].value
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(self.client.get(ME_URL).json()["email_verified"])

    def test_a_token_works_once(self):
        self.assertEqual(self.verify(self.token).status_code, 204)
        verified_at = User.objects.get(pk=self.user.pk).email_verified_at
        self.assert_invalid_token(self.verify(self.token))
        self.assertEqual(User.objects.get(pk=self.user.pk).email_verified_at, verified_at)

    def test_every_earlier_token_dies_once_one_is_used(self):
        self.user.refresh_from_db()
        with mock.patch.object(
            EmailVerificationTokens,
            "_now",
            return_value=datetime.datetime.now() + datetime.timedelta(seconds=5),
        ):
            later = {"uid": self.token["uid"], "token": self.make_token(self.user)}
        self.assertNotEqual(later["token"], self.token["token"])
        self.assertEqual(self.verify(later).status_code, 204)
        self.assert_invalid_token(self.verify(self.token))

    def test_verify_without_the_csrf_header_is_refused(self):
        response = self.client.post(VERIFY_URL, self.token)
        self.assert_problem(response, 403, code="permission_denied")
        self.assertFalse(User.objects.get(pk=self.user.pk).email_verified)

    def test_a_wrong_token_is_400_invalid_token(self):
        self.assert_invalid_token(self.verify({**self.token, "token": "abc-123"}))
        self.assert_invalid_token(self.verify({**self.token, "token": "not a token"}))
        self.assertFalse(User.objects.get(pk=self.user.pk).email_verified)

    def test_a_malformed_or_unknown_uid_is_400_invalid_token(self):
        unknown = urlsafe_base64_encode(force_bytes(uuid.uuid4()))
        for uid in ("!!!", "bm90LWEtdXVpZA", unknown):
            with self.subTest(uid=uid):
                self.assert_invalid_token(self.verify({**self.token, "uid": uid}))

    def test_one_users_token_does_not_verify_another_user(self):
        other = self.make_user("grace@example.com")
        response = self.verify({"uid": uid_for(other), "token": self.token["token"]})
        self.assert_invalid_token(response)
        self.assertFalse(User.objects.get(pk=other.pk).email_verified)

    def test_a_password_reset_token_is_not_a_verification_token(self):
        response = self.verify({**self.token, "token": password_reset_tokens.make_token(self.user)})
        self.assert_invalid_token(response)

    def test_the_token_dies_when_the_email_changes(self):
        self.user.email = "ada@elsewhere.example"
        self.user.save(update_fields=["email"])
        self.assert_invalid_token(self.verify(self.token))

    def test_the_token_dies_when_the_security_stamp_changes(self):
        sessions_end_all(user=self.user)
        self.assert_invalid_token(self.verify(self.token))

    def test_the_token_expires(self):
        later = datetime.datetime.now() + datetime.timedelta(days=2)
        with mock.patch.object(EmailVerificationTokens, "_now", return_value=later):
            self.assert_invalid_token(self.verify(self.token))

    def test_a_locked_account_cannot_verify(self):
        User.objects.filter(pk=self.user.pk).update(is_active=False)
        self.assert_invalid_token(self.verify(self.token))

    def test_missing_fields_are_reported(self):
        body = self.assert_problem(self.verify({}), 400, code="invalid")
        self.assertEqual(set(body["errors"]), {"uid", "token"})


class ResendTests(ApiTestCase):
    """The signed-in user asks for the verification e-mail again, a few times an hour."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", first_name="Ada")
        self.api = self.token_client(self.user)

    def test_resend_e_mails_a_working_token(self):
        response = self.api.post(RESEND_URL)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["ada@example.com"])
        self.assertTrue(mail.outbox[0].body.startswith("Hello Ada,"))
        response = self.client.post(VERIFY_URL, emailed_token(), HTTP_X_CSRFTOKEN=self.csrf_token())
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(self.api.get(ME_URL).json()["email_verified"])

    def test_resend_when_already_verified_answers_the_same_and_sends_nothing(self):
        User.objects.filter(pk=self.user.pk).update(
            email_verified_at=datetime.datetime.now(datetime.UTC)
        )
        response = self.api.post(RESEND_URL)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(response.content, b"")
        self.assertEqual(mail.outbox, [])

    def test_resend_is_throttled(self):
        statuses = [self.api.post(RESEND_URL).status_code for _ in range(3)]
        self.assertEqual(statuses, [204, 204, 204])
        response = self.api.post(RESEND_URL)
        self.assert_problem(response, 429, code="throttled")
        self.assertIn("Retry-After", response)
        self.assertEqual(response["X-RateLimit-Limit"], "3")
        self.assertEqual(len(mail.outbox), 3)

    def test_the_throttle_is_per_user(self):
        for _ in range(3):
            self.api.post(RESEND_URL)
        other = self.token_client(self.make_user("grace@example.com"))
        self.assertEqual(other.post(RESEND_URL).status_code, 204)

    def test_an_anonymous_caller_is_401(self):
        self.assert_problem(APIClient().post(RESEND_URL), 401, code="not_authenticated")

    def test_a_session_needs_the_csrf_header(self):
        self.session_login(self.user)
        self.assert_problem(self.client.post(RESEND_URL), 403, code="permission_denied")
        self.assertEqual(mail.outbox, [])
