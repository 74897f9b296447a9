"""Tests of ``GET /api/v1/auth/csrf/``: the token a browser sends back in ``X-CSRFToken``."""

from rest_framework.test import APIClient

from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD


class CsrfTests(ApiTestCase):
    """The CSRF endpoint sets the cookie and answers a token that unsafe requests accept."""

    def test_the_endpoint_answers_a_token_and_sets_the_csrftoken_cookie(self):
        response = self.client.get("/api/v1/auth/csrf/")
        self.assertEqual(response.status_code, 200, response.content)
        token = response.json()["csrf_token"]
        self.assertEqual(len(token), 64)
        self.assertIn("csrftoken", response.cookies)
        cookie = response.cookies["csrftoken"]
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(len(cookie.value), 32)

    def test_the_answered_token_is_accepted_as_the_csrf_header(self):
        self.make_user("ada@example.com")
        token = self.client.get("/api/v1/auth/csrf/").json()["csrf_token"]
        response = self.client.post(
            "/api/v1/auth/login/",
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN=token,
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_a_token_from_another_browser_is_refused(self):
        self.make_user("ada@example.com")
        foreign = self.csrf_token(APIClient(enforce_csrf_checks=True))
        self.csrf_token()
        response = self.client.post(
            "/api/v1/auth/login/",
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN=foreign,
        )
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header", body["detail"])
