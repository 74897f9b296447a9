"""Tests of API tokens: ``auth/tokens/`` (create, list, revoke) and ``Authorization: Token``."""

import uuid
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from valar.accounts.models import ApiToken, hash_token_key
from valar.accounts.services import token_create
from valar.core.testing import ApiTestCase

TOKENS_URL = "/api/v1/auth/tokens/"
ME_URL = "/api/v1/auth/me/"
LISTED_FIELDS = {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}


def token_header(key: str) -> dict[str, str]:
    """The request header that presents ``key``."""
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


class ApiTokenTests(ApiTestCase):
    """Tokens are created with their key shown once, listed without it, and revoked by owner."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.other = self.make_user("grace@example.com")

    def test_creating_a_token_shows_its_key_once_and_stores_only_its_hash(self):
        csrf = self.session_login(self.user)
        response = self.client.post(TOKENS_URL, {"name": "ci"}, HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(set(body), LISTED_FIELDS | {"key"})
        key = body["key"]
        self.assertTrue(key.startswith("vlr_"))
        self.assertGreaterEqual(len(key), 40)
        self.assertEqual(body["prefix"], key[:12])
        self.assertEqual(body["name"], "ci")
        self.assertIsNone(body["expires_at"])
        self.assertIsNone(body["last_used_at"])
        token = ApiToken.objects.get(id=body["id"])
        self.assertEqual(token.user, self.user)
        self.assertEqual(token.key_hash, hash_token_key(key))
        self.assertNotIn(key, {token.key_hash, token.prefix, token.name})

    def test_the_new_key_authenticates_its_owner(self):
        client = self.token_client(self.user)
        key = client.post(TOKENS_URL, {"name": "deploy"}).json()["key"]
        response = APIClient().get(ME_URL, **token_header(key))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["id"], str(self.user.id))

    def test_a_token_may_be_created_with_a_future_expiry(self):
        expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
        response = self.token_client(self.user).post(
            TOKENS_URL, {"name": "month", "expires_at": expires.isoformat()}
        )
        self.assertEqual(response.status_code, 201, response.content)
        token = ApiToken.objects.get(id=response.json()["id"])
        self.assertEqual(token.expires_at, expires)

    def test_an_expiry_in_the_past_is_a_field_error(self):
        client = self.token_client(self.user)
        past = (timezone.now() - timedelta(minutes=1)).isoformat()
        response = client.post(TOKENS_URL, {"name": "stale", "expires_at": past})
        body = self.assert_problem(response, 400, field="expires_at")
        self.assertEqual(body["errors"]["expires_at"], ["The expiry must be in the future."])
        self.assertFalse(ApiToken.objects.filter(name="stale").exists())

    def test_a_token_needs_a_name(self):
        response = self.token_client(self.user).post(TOKENS_URL, {})
        body = self.assert_problem(response, 400, field="name", code="invalid")
        self.assertEqual(body["errors"]["name"], ["This field is required."])

    def test_creating_a_token_with_a_session_requires_the_csrf_header(self):
        self.session_login(self.user)
        response = self.client.post(TOKENS_URL, {"name": "sneaky"})
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.assertFalse(ApiToken.objects.filter(name="sneaky").exists())

    def test_creation_ignores_owner_prefix_and_timestamps_in_the_body(self):
        response = self.token_client(self.user).post(
            TOKENS_URL,
            {
                "name": "mine",
                "user": str(self.other.id),
                "id": str(uuid.uuid4()),
                "prefix": "vlr_chosen00",
                "created_at": "2000-01-01T00:00:00Z",
                "last_used_at": "2000-01-01T00:00:00Z",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        token = ApiToken.objects.get(id=body["id"])
        self.assertEqual(token.user, self.user)
        self.assertEqual(token.prefix, body["key"][:12])
        self.assertIsNone(token.last_used_at)
        self.assertNotEqual(token.created_at.year, 2000)

    def test_the_list_never_shows_a_key(self):
        client = self.token_client(self.user)
        key = client.post(TOKENS_URL, {"name": "listed"}).json()["key"]
        response = client.get(TOKENS_URL)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertNotIn(key.encode(), response.content)
        for row in response.json()["results"]:
            self.assertEqual(set(row), LISTED_FIELDS)

    def test_the_list_shows_only_the_callers_live_tokens_newest_first(self):
        older, _ = token_create(user=self.user, name="older")
        newer, _ = token_create(user=self.user, name="newer")
        revoked, _ = token_create(user=self.user, name="revoked")
        revoked.revoked_at = timezone.now()
        revoked.save()
        token_create(user=self.other, name="someone else's")
        ApiToken.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
        client = APIClient()
        client.force_authenticate(self.user)
        response = client.get(TOKENS_URL)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["count"], 2)
        self.assertEqual([row["name"] for row in body["results"]], ["newer", "older"])
        self.assertEqual(body["results"][0]["prefix"], newer.prefix)

    def test_revoking_a_token_keeps_its_record_and_ends_its_use(self):
        token, key = token_create(user=self.user, name="to revoke")
        client = self.token_client(self.user)
        response = client.delete(f"{TOKENS_URL}{token.id}/")
        self.assertEqual(response.status_code, 204, response.content)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        names = [row["name"] for row in client.get(TOKENS_URL).json()["results"]]
        self.assertNotIn("to revoke", names)
        self.assert_problem(APIClient().get(ME_URL, **token_header(key)), 401)

    def test_revoking_another_users_token_is_not_found_and_leaves_it_working(self):
        theirs, key = token_create(user=self.other, name="theirs")
        response = self.token_client(self.user).delete(f"{TOKENS_URL}{theirs.id}/")
        self.assert_problem(response, 404, code="not_found")
        theirs.refresh_from_db()
        self.assertIsNone(theirs.revoked_at)
        still = APIClient().get(ME_URL, **token_header(key))
        self.assertEqual(still.json()["id"], str(self.other.id))

    def test_revoking_with_a_session_requires_the_csrf_header(self):
        token, _ = token_create(user=self.user, name="kept")
        csrf = self.session_login(self.user)
        refused = self.client.delete(f"{TOKENS_URL}{token.id}/")
        self.assert_problem(refused, 403, code="permission_denied")
        token.refresh_from_db()
        self.assertIsNone(token.revoked_at)
        accepted = self.client.delete(f"{TOKENS_URL}{token.id}/", HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(accepted.status_code, 204, accepted.content)

    def test_a_token_cannot_be_read_or_changed_one_by_one(self):
        token, _ = token_create(user=self.user, name="fixed")
        client = self.token_client(self.user)
        self.assert_problem(client.get(f"{TOKENS_URL}{token.id}/"), 405)
        self.assert_problem(client.patch(f"{TOKENS_URL}{token.id}/", {"name": "new"}), 405)
        token.refresh_from_db()
        self.assertEqual(token.name, "fixed")


class TokenAuthenticationTests(ApiTestCase):
    """``Authorization: Token <key>`` needs no CSRF; bad tokens and anonymous callers get 401."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.token, self.key = token_create(user=self.user, name="script")

    def csrf_enforcing_client(self, key: str) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        client.credentials(**token_header(key))
        return client

    def test_an_unsafe_request_with_a_token_needs_no_csrf(self):
        client = self.csrf_enforcing_client(self.key)
        response = client.patch(ME_URL, {"first_name": "Ada"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["first_name"], "Ada")
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Ada")
        self.assertNotIn("csrftoken", client.cookies)

    def test_using_a_token_records_when_it_was_last_used(self):
        self.assertIsNone(self.token.last_used_at)
        before = timezone.now()
        response = self.csrf_enforcing_client(self.key).get(ME_URL)
        self.assertEqual(response.status_code, 200, response.content)
        self.token.refresh_from_db()
        self.assertIsNotNone(self.token.last_used_at)
        self.assertGreaterEqual(self.token.last_used_at, before)

    def test_a_revoked_token_is_401(self):
        self.token.revoked_at = timezone.now()
        self.token.save()
        response = self.csrf_enforcing_client(self.key).get(ME_URL)
        body = self.assert_problem(response, 401)
        self.assertEqual(body["detail"], "Invalid, expired or revoked token.")
        self.assertEqual(response["WWW-Authenticate"], "Token")

    def test_an_expired_token_is_401(self):
        ApiToken.objects.filter(pk=self.token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        response = self.csrf_enforcing_client(self.key).get(ME_URL)
        body = self.assert_problem(response, 401)
        self.assertEqual(body["detail"], "Invalid, expired or revoked token.")

    def test_a_token_before_its_expiry_still_works(self):
        ApiToken.objects.filter(pk=self.token.pk).update(
            expires_at=timezone.now() + timedelta(minutes=5)
        )
        response = self.csrf_enforcing_client(self.key).get(ME_URL)
        self.assertEqual(response.status_code, 200, response.content)

    def test_an_unknown_key_is_401(self):
        response = self.csrf_enforcing_client("vlr_" + "x" * 43).get(ME_URL)
        self.assert_problem(response, 401)

    def test_a_malformed_token_header_is_401(self):
        for header in ("Token", f"Token {self.key} extra"):
            with self.subTest(header=header):
                response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=header)
                body = self.assert_problem(response, 401)
                self.assertEqual(body["detail"], "Invalid token header.")

    def test_the_token_of_an_inactive_user_is_401(self):
        self.user.is_active = False
        self.user.save()
        response = self.csrf_enforcing_client(self.key).get(ME_URL)
        self.assert_problem(response, 401)

    def test_a_stored_hash_presented_as_the_key_is_401(self):
        response = self.csrf_enforcing_client(self.token.key_hash).get(ME_URL)
        self.assert_problem(response, 401)

    def test_anonymous_requests_are_401_with_www_authenticate_never_403(self):
        client = APIClient(enforce_csrf_checks=True)
        requests = [
            ("get", ME_URL),
            ("patch", ME_URL),
            ("get", "/api/v1/auth/me/preferences/"),
            ("get", TOKENS_URL),
            ("post", TOKENS_URL),
            ("delete", f"{TOKENS_URL}{self.token.id}/"),
            ("get", "/api/v1/auth/login-logs/"),
            ("get", "/api/v1/auth/login-logs/export/"),
            ("post", "/api/v1/auth/password/change/"),
            ("post", "/api/v1/auth/logout/"),
        ]
        for method, url in requests:
            with self.subTest(method=method, url=url):
                response = getattr(client, method)(url)
                body = self.assert_problem(response, 401, code="not_authenticated")
                self.assertEqual(body["detail"], "Authentication credentials were not provided.")
                self.assertEqual(response["WWW-Authenticate"], "Token")
        self.token.refresh_from_db()
        self.assertIsNone(self.token.revoked_at)
