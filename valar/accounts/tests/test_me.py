"""Tests of ``GET|PATCH /api/v1/auth/me/``: the caller's profile, names only, no mass assignment."""

import uuid

from rest_framework.test import APIClient

from valar.accounts.models import User
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

ME_URL = "/api/v1/auth/me/"


class MeTests(ApiTestCase):
    """The caller reads their profile and may change their own first and last name only."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", first_name="Ada", last_name="Byron")

    def test_me_shows_the_caller_and_nothing_secret(self):
        response = self.token_client(self.user).get(ME_URL)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(
            body,
            {
                "id": str(self.user.id),
                "email": "ada@example.com",
                "email_verified": False,
                "username": None,
                "first_name": "Ada",
                "last_name": "Byron",
                "date_joined": self.user.date_joined.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "last_login": None,
            },
        )

    def test_me_shows_the_session_user_with_their_last_login(self):
        self.session_login(self.user)
        body = self.client.get(ME_URL).json()
        self.user.refresh_from_db()
        self.assertEqual(body["id"], str(self.user.id))
        self.assertEqual(body["last_login"], self.user.last_login.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def test_me_shows_whether_the_email_is_verified(self):
        self.user.email_verified_at = self.user.date_joined
        self.user.save(update_fields=["email_verified_at"])
        self.assertTrue(self.token_client(self.user).get(ME_URL).json()["email_verified"])

    def test_me_shows_each_caller_themself(self):
        other = self.make_user("grace@example.com")
        self.assertEqual(self.token_client(other).get(ME_URL).json()["id"], str(other.id))
        self.assertEqual(self.token_client(self.user).get(ME_URL).json()["id"], str(self.user.id))

    def test_patch_changes_the_callers_names(self):
        response = self.token_client(self.user).patch(
            ME_URL, {"first_name": "Augusta Ada", "last_name": "King"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["first_name"], "Augusta Ada")
        self.assertEqual(response.json()["last_name"], "King")
        self.user.refresh_from_db()
        self.assertEqual((self.user.first_name, self.user.last_name), ("Augusta Ada", "King"))

    def test_patch_of_one_name_leaves_the_other(self):
        response = self.token_client(self.user).patch(ME_URL, {"last_name": "King"})
        self.assertEqual(response.status_code, 200, response.content)
        self.user.refresh_from_db()
        self.assertEqual((self.user.first_name, self.user.last_name), ("Ada", "King"))

    def test_patch_ignores_email_privileges_ids_timestamps_and_password(self):
        original_id = self.user.id
        original_joined = self.user.date_joined
        response = self.token_client(self.user).patch(
            ME_URL,
            {
                "first_name": "Eve",
                "email": "mallory@example.com",
                "is_staff": True,
                "is_superuser": True,
                "is_active": False,
                "id": str(uuid.uuid4()),
                "date_joined": "2000-01-01T00:00:00Z",
                "last_login": "2000-01-01T00:00:00Z",
                "password": "owned-by-mallory-1234",
                "preferences": {"language": "fr"},
                "email_verified": True,
                "email_verified_at": "2000-01-01T00:00:00Z",
            },
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["email"], "ada@example.com")
        self.assertEqual(body["id"], str(original_id))
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Eve")
        self.assertEqual(self.user.email, "ada@example.com")
        self.assertFalse(self.user.is_staff)
        self.assertFalse(self.user.is_superuser)
        self.assertTrue(self.user.is_active)
        self.assertEqual(self.user.date_joined, original_joined)
        self.assertIsNone(self.user.last_login)
        self.assertTrue(self.user.check_password(DEFAULT_PASSWORD))
        self.assertEqual(self.user.preferences, {})
        self.assertFalse(body["email_verified"])
        self.assertIsNone(self.user.email_verified_at)
        self.assertEqual(User.objects.count(), 1)
        self.assertFalse(User.objects.filter(email="mallory@example.com").exists())

    def test_a_name_longer_than_150_characters_is_a_field_error(self):
        response = self.token_client(self.user).patch(ME_URL, {"first_name": "A" * 151})
        body = self.assert_problem(response, 400, field="first_name", code="invalid")
        self.assertEqual(
            body["errors"]["first_name"], ["Ensure this field has no more than 150 characters."]
        )
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Ada")

    def test_patch_with_a_session_requires_the_csrf_header(self):
        csrf = self.session_login(self.user)
        refused = self.client.patch(ME_URL, {"first_name": "Forged"})
        body = self.assert_problem(refused, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Ada")

        accepted = self.client.patch(ME_URL, {"first_name": "Real"}, HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(accepted.status_code, 200, accepted.content)
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Real")

    def test_put_and_delete_are_not_allowed(self):
        client = self.token_client(self.user)
        self.assert_problem(client.put(ME_URL, {"first_name": "X"}), 405)
        self.assert_problem(client.delete(ME_URL), 405)
        self.assertTrue(User.objects.filter(pk=self.user.pk, first_name="Ada").exists())

    def test_an_anonymous_caller_is_401(self):
        response = APIClient().get(ME_URL)
        self.assert_problem(response, 401, code="not_authenticated")
        self.assertEqual(response["WWW-Authenticate"], "Token")
