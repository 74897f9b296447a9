"""Tests of ``POST /api/v1/auth/password/change/``: checks, validators, ending other access."""

from rest_framework.test import APIClient

from valar.accounts.models import ApiToken
from valar.accounts.services import token_create
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

CHANGE_URL = "/api/v1/auth/password/change/"
LOGIN_URL = "/api/v1/auth/login/"
ME_URL = "/api/v1/auth/me/"
NEW_PASSWORD = "another-Long-passphrase-for-2027"


class PasswordChangeTests(ApiTestCase):
    """The current password is checked, validators apply, and only the caller's access stays."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")

    def change(self, client: APIClient, csrf: str | None = None, **data):
        payload = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD, **data}
        headers = {"HTTP_X_CSRFTOKEN": csrf} if csrf else {}
        return client.post(CHANGE_URL, payload, **headers)

    def assert_password_unchanged(self) -> None:
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(DEFAULT_PASSWORD))

    def signed_in_browser(self) -> tuple[APIClient, str]:
        browser = APIClient(enforce_csrf_checks=True)
        return browser, self.session_login(self.user, client=browser)

    def login_attempt(self, password: str):
        browser = APIClient(enforce_csrf_checks=True)
        csrf = self.csrf_token(browser)
        return browser.post(
            LOGIN_URL, {"email": "ada@example.com", "password": password}, HTTP_X_CSRFTOKEN=csrf
        )

    def test_the_password_changes_and_the_current_session_keeps_working(self):
        csrf = self.session_login(self.user)
        response = self.change(self.client, csrf)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(response.content, b"")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))
        self.assertFalse(self.user.check_password(DEFAULT_PASSWORD))
        me = self.client.get(ME_URL)
        self.assertEqual(me.status_code, 200, me.content)
        self.assertEqual(me.json()["id"], str(self.user.id))

    def test_afterwards_only_the_new_password_signs_in(self):
        self.assertEqual(self.change(self.token_client(self.user)).status_code, 204)
        old = self.login_attempt(DEFAULT_PASSWORD)
        self.assert_problem(old, 400, code="invalid_credentials")
        new = self.login_attempt(NEW_PASSWORD)
        self.assertEqual(new.status_code, 200, new.content)

    def test_a_wrong_current_password_is_a_field_error_and_changes_nothing(self):
        _, other_key = token_create(user=self.user, name="other")
        response = self.change(self.token_client(self.user), current_password="guess-1234-guess")
        body = self.assert_problem(response, 400, field="current_password", code="invalid")
        self.assertEqual(body["errors"]["current_password"], ["The current password is wrong."])
        self.assert_password_unchanged()
        self.assertFalse(ApiToken.objects.filter(revoked_at__isnull=False).exists())
        self.assertEqual(
            APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Token {other_key}").status_code, 200
        )

    def test_a_weak_new_password_is_refused_with_the_validators_messages(self):
        response = self.change(self.token_client(self.user), new_password="12345")
        body = self.assert_problem(response, 400, code="invalid")
        messages = [message for values in body["errors"].values() for message in values]
        self.assertIn(
            "This password is too short. It must contain at least 8 characters.", messages
        )
        self.assertIn("This password is entirely numeric.", messages)
        self.assert_password_unchanged()

    def test_a_new_password_like_the_email_is_refused(self):
        response = self.change(self.token_client(self.user), new_password="ada@example.com")
        body = self.assert_problem(response, 400, code="invalid")
        messages = [message for values in body["errors"].values() for message in values]
        self.assertIn("The password is too similar to the email.", messages)
        self.assert_password_unchanged()

    def test_both_fields_are_required(self):
        response = self.token_client(self.user).post(CHANGE_URL, {})
        body = self.assert_problem(response, 400, code="invalid")
        self.assertEqual(body["errors"]["current_password"], ["This field is required."])
        self.assertEqual(body["errors"]["new_password"], ["This field is required."])
        self.assert_password_unchanged()

    def test_the_users_other_sessions_end(self):
        other_browser, _ = self.signed_in_browser()
        self.assertEqual(other_browser.get(ME_URL).status_code, 200)
        csrf = self.session_login(self.user)
        self.assertEqual(self.change(self.client, csrf).status_code, 204)
        self.assert_problem(other_browser.get(ME_URL), 401)
        self.assertEqual(self.client.get(ME_URL).status_code, 200)

    def test_the_users_tokens_are_revoked_when_changed_from_a_session(self):
        token, key = token_create(user=self.user, name="script")
        csrf = self.session_login(self.user)
        self.assertEqual(self.change(self.client, csrf).status_code, 204)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.assert_problem(APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Token {key}"), 401)

    def test_changing_with_a_token_keeps_that_token_and_ends_everything_else(self):
        current, current_key = token_create(user=self.user, name="current")
        other, other_key = token_create(user=self.user, name="other")
        browser, _ = self.signed_in_browser()
        caller = APIClient()
        caller.credentials(HTTP_AUTHORIZATION=f"Token {current_key}")

        self.assertEqual(self.change(caller).status_code, 204)
        current.refresh_from_db()
        other.refresh_from_db()
        self.assertIsNone(current.revoked_at)
        self.assertIsNotNone(other.revoked_at)
        self.assertEqual(caller.get(ME_URL).status_code, 200)
        self.assert_problem(APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Token {other_key}"), 401)
        self.assert_problem(browser.get(ME_URL), 401)

    def test_other_users_sessions_and_tokens_are_untouched(self):
        grace = self.make_user("grace@example.com")
        grace_token, grace_key = token_create(user=grace, name="grace's")
        grace_browser = APIClient(enforce_csrf_checks=True)
        self.session_login(grace, client=grace_browser)
        self.assertEqual(self.change(self.token_client(self.user)).status_code, 204)
        grace_token.refresh_from_db()
        self.assertIsNone(grace_token.revoked_at)
        self.assertEqual(grace_browser.get(ME_URL).json()["id"], str(grace.id))
        ok = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Token {grace_key}")
        self.assertEqual(ok.status_code, 200)

    def test_with_a_session_the_csrf_header_is_required(self):
        self.session_login(self.user)
        response = self.change(self.client)
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.assert_password_unchanged()

    def test_an_anonymous_caller_is_401(self):
        response = self.change(APIClient())
        self.assert_problem(response, 401, code="not_authenticated")
        self.assert_password_unchanged()
