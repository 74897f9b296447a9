"""JWT for scripts and mobile clients: obtain, refresh (rotation, reuse), verify, logout.

The pair comes from the same sign-in path as sessions (lockout, throttle, log); the access
token dies with the user's password, security stamp and active flag.
"""

import jwt as pyjwt
from django.conf import settings
from rest_framework.test import APIClient

from valar.accounts import services
from valar.accounts.models import LoginLog
from valar.accounts.tests.test_login import WRONG_PASSWORD, LoginTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

OBTAIN = "/api/v1/auth/jwt/"
REFRESH = "/api/v1/auth/jwt/refresh/"
VERIFY = "/api/v1/auth/jwt/verify/"
LOGOUT = "/api/v1/auth/jwt/logout/"
ME = "/api/v1/auth/me/"


class JwtTestCase(LoginTestCase):
    """A user, and helpers to obtain a pair and call the API with its access token."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.script = APIClient()  # no cookies, no CSRF: a script or a phone

    def obtain(self, email: str = "ada@example.com", password: str = DEFAULT_PASSWORD, **data):
        return self.script.post(OBTAIN, {"email": email, "password": password, **data})

    def pair(self) -> dict[str, str]:
        response = self.obtain()
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def bearer(self, access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    def assert_refused(self, response) -> None:
        """401; the JWT endpoints name the Bearer scheme (API calls name the first scheme)."""
        self.assert_problem(response, 401)
        if response.wsgi_request.path.startswith("/api/v1/auth/jwt/"):
            self.assertTrue(response["WWW-Authenticate"].startswith("Bearer"))
        else:
            self.assertIn("WWW-Authenticate", response)


class ObtainTests(JwtTestCase):
    """``POST auth/jwt/``: the pair, through the one sign-in path."""

    def test_the_pair_signs_api_calls_in_without_csrf(self):
        pair = self.pair()
        self.assertEqual(set(pair), {"access", "refresh"})
        api = self.bearer(pair["access"])
        self.assertEqual(api.get(ME).json()["id"], str(self.user.id))
        response = api.patch(ME, {"first_name": "Ada"})  # a write, and no CSRF header
        self.assertEqual(response.status_code, 200, response.content)

    def test_the_access_token_is_short_lived(self):
        claims = pyjwt.decode(self.pair()["access"], options={"verify_signature": False})
        lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
        self.assertEqual(claims["exp"] - claims["iat"], lifetime)
        self.assertEqual(lifetime, 300)
        self.assertEqual(claims["token_type"], "access")

    def test_the_sign_in_is_logged_with_its_platform_and_sets_last_login(self):
        self.obtain(platform="ios", HTTP_USER_AGENT="ValarMobile/3.0")
        log = LoginLog.objects.get()
        self.assertEqual((log.user, log.reason, log.platform), (self.user, "success", "ios"))
        self.user.refresh_from_db()
        self.assertIsNotNone(self.user.last_login)

    def test_wrong_credentials_are_the_generic_400(self):
        wrong = self.obtain(password=WRONG_PASSWORD)
        unknown = self.obtain(email="nobody@example.com", password=WRONG_PASSWORD)
        self.assert_problem(wrong, 400, code="invalid_credentials")
        self.assertEqual(wrong.json(), unknown.json())

    def test_an_inactive_user_gets_no_pair(self):
        self.user.is_active = False
        self.user.save()
        self.assert_problem(self.obtain(), 400, code="invalid_credentials")
        self.assertEqual(LoginLog.objects.get().reason, "inactive")

    def test_five_failures_lock_jwt_and_session_sign_in_alike(self):
        for _ in range(5):
            self.obtain(password=WRONG_PASSWORD)
        locked = self.obtain()
        body = self.assert_problem(locked, 429, code="throttled")
        self.assertIn("Too many failed sign-in attempts", body["detail"])
        self.assertIn("Retry-After", locked)
        self.assertEqual(self.login("ada@example.com").status_code, 429)
        self.assertEqual(LoginLog.objects.filter(reason="locked_out").count(), 2)

    def test_a_refresh_token_is_not_an_access_token(self):
        self.assert_refused(self.bearer(self.pair()["refresh"]).get(ME))

    def test_a_tampered_access_token_is_refused(self):
        access = self.pair()["access"]
        self.assert_refused(self.bearer(access[:-4] + "AAAA").get(ME))


class RefreshTests(JwtTestCase):
    """``POST auth/jwt/refresh/``: rotation, blacklisting, and reuse detection."""

    def refresh(self, token: str):
        return self.script.post(REFRESH, {"refresh": token})

    def test_refreshing_returns_a_new_pair_that_works(self):
        first = self.pair()
        response = self.refresh(first["refresh"])
        self.assertEqual(response.status_code, 200, response.content)
        second = response.json()
        self.assertNotEqual(second["refresh"], first["refresh"])
        self.assertEqual(self.bearer(second["access"]).get(ME).status_code, 200)

    def test_a_used_refresh_token_is_refused_and_revokes_every_refresh_token(self):
        stolen = self.pair()["refresh"]
        other_device = self.pair()["refresh"]
        rotated = self.refresh(stolen).json()["refresh"]
        self.assert_refused(self.refresh(stolen))  # the reuse
        self.assert_refused(self.refresh(rotated))  # the thief's or the owner's new one
        self.assert_refused(self.refresh(other_device))
        self.assertEqual(self.pair().keys(), {"access", "refresh"})  # signing in again works

    def test_an_access_token_cannot_refresh(self):
        self.assert_refused(self.refresh(self.pair()["access"]))

    def test_garbage_is_refused(self):
        self.assert_refused(self.refresh("not-a-token"))

    def test_a_missing_field_is_a_400(self):
        self.assert_problem(self.script.post(REFRESH, {}), 400, field="refresh")


class VerifyTests(JwtTestCase):
    """``POST auth/jwt/verify/``: whether a token would still be accepted."""

    def verify(self, token: str):
        return self.script.post(VERIFY, {"token": token})

    def test_live_tokens_are_described(self):
        pair = self.pair()
        access = self.verify(pair["access"])
        self.assertEqual(access.status_code, 200, access.content)
        self.assertEqual(access.json()["token_type"], "access")
        self.assertIn("expires_at", access.json())
        self.assertEqual(self.verify(pair["refresh"]).json()["token_type"], "refresh")

    def test_garbage_a_blacklisted_refresh_token_and_a_stale_stamp_are_refused(self):
        pair = self.pair()
        self.assert_refused(self.verify("not-a-token"))
        self.script.post(LOGOUT, {"refresh": pair["refresh"]})
        self.assert_refused(self.verify(pair["refresh"]))
        services.sessions_end_all(user=self.user)
        self.assert_refused(self.verify(pair["access"]))


class LogoutTests(JwtTestCase):
    """``POST auth/jwt/logout/``: blacklist the presented refresh token."""

    def test_logout_blacklists_the_refresh_token(self):
        pair = self.pair()
        response = self.script.post(LOGOUT, {"refresh": pair["refresh"]})
        self.assertEqual(response.status_code, 204, response.content)
        self.assert_refused(self.script.post(REFRESH, {"refresh": pair["refresh"]}))

    def test_logout_is_idempotent_and_refuses_garbage(self):
        refresh = self.pair()["refresh"]
        self.assertEqual(self.script.post(LOGOUT, {"refresh": refresh}).status_code, 204)
        self.assertEqual(self.script.post(LOGOUT, {"refresh": refresh}).status_code, 204)
        self.assert_refused(self.script.post(LOGOUT, {"refresh": "garbage"}))


class StampTests(JwtTestCase):
    """Access and refresh tokens die with the security stamp, the password and ``is_active``."""

    def test_ending_every_session_ends_every_token(self):
        pair = self.pair()
        services.sessions_end_all(user=self.user)  # what a lock and an admin reset call
        self.assert_refused(self.bearer(pair["access"]).get(ME))
        self.assert_refused(self.script.post(REFRESH, {"refresh": pair["refresh"]}))

    def test_a_password_change_ends_the_tokens(self):
        pair = self.pair()
        api = self.bearer(pair["access"])
        response = api.post(
            "/api/v1/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "another-Long-passphrase-77"},
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assert_refused(api.get(ME))
        self.assert_refused(self.script.post(REFRESH, {"refresh": pair["refresh"]}))

    def test_a_disabled_user_is_refused(self):
        pair = self.pair()
        self.user.is_active = False
        self.user.save()
        self.assert_refused(self.bearer(pair["access"]).get(ME))
        self.assert_refused(self.script.post(REFRESH, {"refresh": pair["refresh"]}))
