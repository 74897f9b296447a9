"""Tests of ``POST auth/password/reset/`` and ``auth/password/reset/confirm/``."""

import datetime
from unittest import mock

from django.core import mail
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from valar.accounts.models import ApiToken, User
from valar.accounts.services import sessions_end_all
from valar.accounts.tests.emailed import emailed_token
from valar.accounts.tokens import (
    PasswordResetTokens,
    email_verification_tokens,
    password_reset_tokens,
    uid_for,
)
from valar.audit.models import AuditEvent
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD
from valar.organizations.services import organization_create

RESET_URL = "/api/v1/auth/password/reset/"
CONFIRM_URL = "/api/v1/auth/password/reset/confirm/"
LOGIN_URL = "/api/v1/auth/login/"
ME_URL = "/api/v1/auth/me/"
NEW_PASSWORD = "a-Fresh-and-different-passphrase-77"
REQUESTED = {
    "detail": (
        "If an account uses this address, an e-mail with a link to reset its password is "
        "on its way."
    )
}
TELLING_HEADERS = ("Content-Type", "Content-Length", "Set-Cookie", "Vary")


class ResetTestCase(ApiTestCase):
    """A user, and helpers to request and confirm a reset as an anonymous browser."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", first_name="Ada")

    def request_reset(self, email: str, *, client: APIClient | None = None):
        client = client or APIClient(enforce_csrf_checks=True)
        return client.post(RESET_URL, {"email": email}, HTTP_X_CSRFTOKEN=self.csrf_token(client))

    def confirm(self, data: dict, *, client: APIClient | None = None):
        client = client or APIClient(enforce_csrf_checks=True)
        return client.post(CONFIRM_URL, data, HTTP_X_CSRFTOKEN=self.csrf_token(client))

    def reset_token(self) -> dict[str, str]:
        """Ask for a reset of ``self.user`` through the API and read the e-mailed token."""
        response = self.request_reset(self.user.email)
        self.assertEqual(response.status_code, 202, response.content)
        return emailed_token()

    def assert_invalid_token(self, response) -> dict:
        return self.assert_problem(response, 400, field="token", code="invalid_token")

    def signs_in(self, password: str) -> bool:
        client = APIClient(enforce_csrf_checks=True)
        response = client.post(
            LOGIN_URL,
            {"email": self.user.email, "password": password},
            HTTP_X_CSRFTOKEN=self.csrf_token(client),
        )
        return response.status_code == 200


class ResetRequestTests(ResetTestCase):
    """Asking for a reset answers the same for every address and e-mails only account owners."""

    def test_a_known_email_gets_a_reset_e_mail_with_a_link_and_the_token(self):
        with override_settings(PUBLIC_URL="https://app.example.com"):
            response = self.request_reset("  ADA@example.com ")
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(response.json(), REQUESTED)
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["ada@example.com"])
        self.assertEqual(message.subject, "Reset your password")
        self.assertRegex(
            message.body, r"https://app\.example\.com/reset-password\?uid=\S+&token=\S+"
        )
        self.assertEqual(emailed_token()["uid"], uid_for(self.user))

    def test_an_unknown_email_answers_the_same_and_sends_nothing(self):
        known = self.request_reset("ada@example.com")
        unknown = self.request_reset("nobody@example.com")
        self.assertEqual(unknown.status_code, known.status_code)
        self.assertEqual(unknown.content, known.content)
        for header in TELLING_HEADERS:
            self.assertEqual(unknown.get(header), known.get(header), header)
        self.assertEqual(sorted(unknown.cookies), sorted(known.cookies))
        self.assertEqual([m.to for m in mail.outbox], [["ada@example.com"]])

    def test_a_locked_account_answers_the_same_and_gets_nothing(self):
        User.objects.filter(pk=self.user.pk).update(is_active=False)
        response = self.request_reset("ada@example.com")
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json(), REQUESTED)
        self.assertEqual(mail.outbox, [])

    def test_one_address_gets_a_few_e_mails_an_hour_at_most(self):
        answers = [self.request_reset("ada@example.com").json() for _ in range(5)]
        self.assertEqual(answers, [REQUESTED] * 5)
        self.assertEqual(len(mail.outbox), 3)

    def test_requests_are_held_to_the_sign_in_limit_per_ip(self):
        limited = {"anon": "100/min", "user": "100/min", "login": "2/min", "account_email": "9/h"}
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", limited):
            client = APIClient(enforce_csrf_checks=True)
            statuses = [
                self.request_reset(f"u{n}@example.com", client=client).status_code for n in range(3)
            ]
        self.assertEqual(statuses[:2], [202, 202])
        self.assertEqual(statuses[2], 429)

    def test_a_request_without_the_csrf_header_is_refused(self):
        response = APIClient(enforce_csrf_checks=True).post(RESET_URL, {"email": "ada@example.com"})
        self.assert_problem(response, 403, code="permission_denied")
        self.assertEqual(mail.outbox, [])

    def test_an_invalid_email_is_a_field_error(self):
        self.assert_problem(self.request_reset("not-an-email"), 400, field="email")


class ResetConfirmTests(ResetTestCase):
    """The e-mailed token sets a new password once and ends everything the user had open."""

    def test_the_token_sets_the_new_password(self):
        response = self.confirm({**self.reset_token(), "new_password": NEW_PASSWORD})
        self.assertEqual(response.status_code, 204, response.content)
        self.assertNotIn("sessionid", response.cookies)
        self.assertTrue(self.signs_in(NEW_PASSWORD))
        self.assertFalse(self.signs_in(DEFAULT_PASSWORD))

    def test_the_token_works_once(self):
        token = self.reset_token()
        self.assertEqual(self.confirm({**token, "new_password": NEW_PASSWORD}).status_code, 204)
        response = self.confirm({**token, "new_password": "yet-Another-passphrase-88"})
        self.assert_invalid_token(response)
        self.assertTrue(self.signs_in(NEW_PASSWORD))

    def test_the_token_dies_when_the_password_changes(self):
        token = self.reset_token()
        api = self.token_client(self.user)
        response = api.post(
            "/api/v1/auth/password/change/",
            {
                "current_password": DEFAULT_PASSWORD,
                "new_password": "changed-Meanwhile-passphrase-5",
            },
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assert_invalid_token(self.confirm({**token, "new_password": NEW_PASSWORD}))
        self.assertFalse(self.signs_in(NEW_PASSWORD))

    def test_the_token_dies_when_the_security_stamp_changes(self):
        token = self.reset_token()
        sessions_end_all(user=self.user)
        self.assert_invalid_token(self.confirm({**token, "new_password": NEW_PASSWORD}))

    def test_the_token_dies_after_a_sign_in(self):
        token = self.reset_token()
        self.assertTrue(self.signs_in(DEFAULT_PASSWORD))
        self.assert_invalid_token(self.confirm({**token, "new_password": NEW_PASSWORD}))

    def test_the_token_expires(self):
        token = self.reset_token()
        later = datetime.datetime.now() + datetime.timedelta(days=2)
        with mock.patch.object(PasswordResetTokens, "_now", return_value=later):
            response = self.confirm({**token, "new_password": NEW_PASSWORD})
        self.assert_invalid_token(response)

    def test_a_wrong_token_or_uid_is_400_and_changes_nothing(self):
        token = self.reset_token()
        other = self.make_user("grace@example.com")
        for data in (
            {**token, "token": "abc-123"},
            {**token, "uid": "!!!"},
            {**token, "uid": uid_for(other)},
            {**token, "token": email_verification_tokens.make_token(self.user)},
        ):
            with self.subTest(data=data):
                self.assert_invalid_token(self.confirm({**data, "new_password": NEW_PASSWORD}))
        self.assertTrue(self.signs_in(DEFAULT_PASSWORD))

    def test_a_weak_password_is_400_on_new_password_and_the_token_still_works(self):
        token = self.reset_token()
        response = self.confirm({**token, "new_password": "ada@example.com"})
        body = self.assert_problem(response, 400, field="new_password")
        self.assertIn("The password is too similar to the email.", body["errors"]["new_password"])
        response = self.confirm({**token, "new_password": "12345678"})
        self.assert_problem(response, 400, field="new_password")
        self.assertEqual(self.confirm({**token, "new_password": NEW_PASSWORD}).status_code, 204)

    def test_a_wrong_token_is_reported_before_the_password(self):
        response = self.confirm(
            {"uid": uid_for(self.user), "token": "abc-123", "new_password": "123"}
        )
        body = self.assert_invalid_token(response)
        self.assertNotIn("new_password", body["errors"])

    def test_the_reset_ends_every_session_and_api_token(self):
        browser = APIClient(enforce_csrf_checks=True)
        self.session_login(self.user, client=browser)
        api = self.token_client(self.user)
        self.assertEqual(browser.get(ME_URL).status_code, 200)
        self.assertEqual(api.get(ME_URL).status_code, 200)
        self.assertEqual(
            self.confirm({**self.reset_token(), "new_password": NEW_PASSWORD}).status_code, 204
        )
        self.assert_problem(browser.get(ME_URL), 401)
        self.assert_problem(api.get(ME_URL), 401)
        self.assertFalse(ApiToken.objects.filter(user=self.user, revoked_at__isnull=True).exists())

    def test_the_reset_verifies_the_email_and_clears_a_temporary_password(self):
        User.objects.filter(pk=self.user.pk).update(password_is_temporary=True)
        self.confirm({**self.reset_token(), "new_password": NEW_PASSWORD})
        self.user.refresh_from_db()
        self.assertTrue(self.user.email_verified)
        self.assertFalse(self.user.password_is_temporary)

    def test_the_reset_is_in_the_audit_trail_without_the_password(self):
        organization = organization_create(name="Engines", actor=self.user)
        self.confirm({**self.reset_token(), "new_password": NEW_PASSWORD})
        event = AuditEvent.objects.get(action="user.password_reset")
        self.assertEqual(event.actor, self.user)
        self.assertEqual(event.organization_id, organization.pk)
        self.assertEqual(event.object_id, str(self.user.pk))
        self.assertEqual(event.changes, {"self_service": True})
        self.assertEqual(event.ip_address, "127.0.0.1")
        self.assertNotIn(NEW_PASSWORD, str(event.changes))

    def test_a_confirm_without_the_csrf_header_is_refused(self):
        token = self.reset_token()
        response = APIClient(enforce_csrf_checks=True).post(
            CONFIRM_URL, {**token, "new_password": NEW_PASSWORD}
        )
        self.assert_problem(response, 403, code="permission_denied")
        self.assertTrue(User.objects.get(pk=self.user.pk).check_password(DEFAULT_PASSWORD))

    def test_a_direct_token_for_the_user_works_like_the_e_mailed_one(self):
        data = {
            "uid": uid_for(self.user),
            "token": password_reset_tokens.make_token(self.user),
            "new_password": NEW_PASSWORD,
        }
        self.assertEqual(self.confirm(data).status_code, 204)


class ReclaimTests(ResetTestCase):
    """The real owner of an address someone else registered takes it back by resetting."""

    def test_the_owner_reclaims_an_address_registered_by_someone_else(self):
        squatter = APIClient(enforce_csrf_checks=True)
        squatter.post(
            "/api/v1/auth/register/",
            {
                "email": "victim@example.com",
                "password": "squatters-Own-passphrase-3",
                "organization_name": "Squat",
            },
            HTTP_X_CSRFTOKEN=self.csrf_token(squatter),
        )
        victim = User.objects.get(email="victim@example.com")
        self.session_login(victim, password="squatters-Own-passphrase-3", client=squatter)
        self.assertEqual(squatter.get(ME_URL).status_code, 200)
        mail.outbox.clear()

        self.assertEqual(self.request_reset("victim@example.com").status_code, 202)
        response = self.confirm({**emailed_token(), "new_password": NEW_PASSWORD})
        self.assertEqual(response.status_code, 204, response.content)

        self.assert_problem(squatter.get(ME_URL), 401)
        self.user = victim
        self.assertFalse(self.signs_in("squatters-Own-passphrase-3"))
        self.assertTrue(self.signs_in(NEW_PASSWORD))
        victim.refresh_from_db()
        self.assertTrue(victim.email_verified)


class ResetLiftsLockoutTests(ResetTestCase):
    """Someone who locked an account by guessing cannot keep its owner out: a reset lifts it."""

    def test_a_reset_lifts_the_accounts_sign_in_lockout(self):
        for _ in range(5):
            self.assertFalse(self.signs_in("wrong-password-guess-1"))
        self.assertFalse(self.signs_in(DEFAULT_PASSWORD))  # locked: even the right one
        response = self.confirm({**self.reset_token(), "new_password": NEW_PASSWORD})
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(self.signs_in(NEW_PASSWORD))
