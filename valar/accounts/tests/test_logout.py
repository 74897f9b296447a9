"""Tests of ``POST /api/v1/auth/logout/``: a session ends, a presented token is revoked."""

from django.contrib.sessions.backends.cached_db import SessionStore
from rest_framework.test import APIClient

from valar.accounts.services import token_create
from valar.core.testing import ApiTestCase

LOGOUT_URL = "/api/v1/auth/logout/"
ME_URL = "/api/v1/auth/me/"


class LogoutTests(ApiTestCase):
    """Signing out ends the session it was made with, or revokes the token it presented."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")

    def test_logout_ends_the_session(self):
        csrf = self.session_login(self.user)
        session_key = self.client.cookies["sessionid"].value
        response = self.client.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(SessionStore().exists(session_key))
        self.assert_problem(self.client.get(ME_URL), 401)
        replay = APIClient()
        replay.cookies["sessionid"] = session_key
        self.assert_problem(replay.get(ME_URL), 401)

    def test_logout_with_a_session_requires_the_csrf_header(self):
        self.session_login(self.user)
        response = self.client.post(LOGOUT_URL)
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.assertEqual(self.client.get(ME_URL).status_code, 200)

    def test_logout_ends_only_the_session_it_was_made_with(self):
        other_browser = APIClient(enforce_csrf_checks=True)
        self.session_login(self.user, client=other_browser)
        csrf = self.session_login(self.user)
        self.assertEqual(self.client.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=csrf).status_code, 204)
        self.assertEqual(other_browser.get(ME_URL).status_code, 200)

    def test_logout_with_a_token_revokes_that_token_only(self):
        token, key = token_create(user=self.user, name="leaving")
        kept, kept_key = token_create(user=self.user, name="staying")
        client = APIClient(enforce_csrf_checks=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.post(LOGOUT_URL)
        self.assertEqual(response.status_code, 204, response.content)
        token.refresh_from_db()
        kept.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.assertIsNone(kept.revoked_at)
        self.assert_problem(client.get(ME_URL), 401)
        still = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Token {kept_key}")
        self.assertEqual(still.status_code, 200)

    def test_an_anonymous_logout_is_401(self):
        response = APIClient().post(LOGOUT_URL)
        self.assert_problem(response, 401, code="not_authenticated")
