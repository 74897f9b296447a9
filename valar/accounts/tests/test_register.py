"""Tests of ``POST /api/v1/auth/register/``: sign-up, sign-in, CSRF, validation, mass assignment."""

import uuid

from valar.accounts.models import User
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

REGISTER_URL = "/api/v1/auth/register/"
ME_URL = "/api/v1/auth/me/"


class RegisterTests(ApiTestCase):
    """Registration creates an active user, signs them in, and refuses bad or unsafe input."""

    def register(self, data: dict, *, csrf: bool = True):
        headers = {"HTTP_X_CSRFTOKEN": self.csrf_token()} if csrf else {}
        return self.client.post(REGISTER_URL, data, **headers)

    def test_registering_creates_the_user_and_answers_their_profile(self):
        response = self.register(
            {
                "email": "  Ada.Lovelace@Example.COM ",
                "password": DEFAULT_PASSWORD,
                "first_name": "Ada",
                "last_name": "Lovelace",
            }
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            set(body),
            {"id", "email", "username", "first_name", "last_name", "date_joined", "last_login"},
        )
        user = User.objects.get()
        self.assertEqual(body["id"], str(user.id))
        self.assertEqual(body["email"], "ada.lovelace@example.com")
        self.assertEqual((body["first_name"], body["last_name"]), ("Ada", "Lovelace"))
        self.assertEqual(user.email, "ada.lovelace@example.com")
        self.assertTrue(user.is_active)
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)

    def test_the_password_is_stored_hashed_and_never_returned(self):
        response = self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertNotIn(DEFAULT_PASSWORD.encode(), response.content)
        self.assertNotIn("password", response.json())
        user = User.objects.get(email="ada@example.com")
        self.assertNotEqual(user.password, DEFAULT_PASSWORD)
        self.assertTrue(user.check_password(DEFAULT_PASSWORD))

    def test_registering_signs_the_new_user_in_with_a_session(self):
        response = self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertIn("sessionid", response.cookies)
        me = self.client.get(ME_URL)
        self.assertEqual(me.status_code, 200, me.content)
        self.assertEqual(me.json()["email"], "ada@example.com")

    def test_register_without_the_csrf_header_is_refused_and_creates_nobody(self):
        response = self.register(
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, csrf=False
        )
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.assertFalse(User.objects.exists())
        self.assertNotIn("sessionid", response.cookies)

    def test_register_with_a_wrong_csrf_token_is_refused(self):
        self.csrf_token()
        response = self.client.post(
            REGISTER_URL,
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN="x" * 32,
        )
        self.assert_problem(response, 403, code="permission_denied")
        self.assertFalse(User.objects.exists())

    def test_an_email_taken_in_another_case_is_refused_as_a_duplicate(self):
        self.make_user("ada@example.com")
        response = self.register({"email": "ADA@Example.com", "password": DEFAULT_PASSWORD})
        body = self.assert_problem(response, 400, field="email", code="duplicate")
        self.assertEqual(body["errors"]["email"], ["A user with this email already exists."])
        self.assertEqual(User.objects.count(), 1)

    def test_a_common_password_is_refused_with_a_password_field_error(self):
        response = self.register({"email": "ada@example.com", "password": "password"})
        body = self.assert_problem(response, 400, field="password", code="invalid")
        self.assertIn("This password is too common.", body["errors"]["password"])
        self.assertFalse(User.objects.exists())

    def test_a_password_like_the_email_is_refused(self):
        response = self.register(
            {"email": "jonathan.smithers@example.com", "password": "jonathan.smithers"}
        )
        body = self.assert_problem(response, 400, field="password")
        self.assertIn("The password is too similar to the email.", body["errors"]["password"])
        self.assertFalse(User.objects.exists())

    def test_a_short_numeric_password_is_refused_with_every_reason(self):
        response = self.register({"email": "ada@example.com", "password": "1234"})
        body = self.assert_problem(response, 400, field="password")
        self.assertIn(
            "This password is too short. It must contain at least 8 characters.",
            body["errors"]["password"],
        )
        self.assertIn("This password is entirely numeric.", body["errors"]["password"])

    def test_an_invalid_email_is_a_field_error(self):
        response = self.register({"email": "not-an-email", "password": DEFAULT_PASSWORD})
        body = self.assert_problem(response, 400, field="email", code="invalid")
        self.assertEqual(body["errors"]["email"], ["Enter a valid email address."])
        self.assertFalse(User.objects.exists())

    def test_missing_email_and_password_are_each_reported(self):
        response = self.register({})
        body = self.assert_problem(response, 400, code="invalid")
        self.assertEqual(body["errors"]["email"], ["This field is required."])
        self.assertEqual(body["errors"]["password"], ["This field is required."])

    def test_registration_ignores_privileges_ids_and_timestamps_in_the_body(self):
        chosen_id = uuid.uuid4()
        response = self.register(
            {
                "email": "mallory@example.com",
                "password": DEFAULT_PASSWORD,
                "id": str(chosen_id),
                "is_staff": True,
                "is_superuser": True,
                "is_active": False,
                "date_joined": "2000-01-01T00:00:00Z",
            }
        )
        self.assertEqual(response.status_code, 201, response.content)
        user = User.objects.get(email="mallory@example.com")
        self.assertNotEqual(user.id, chosen_id)
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)
        self.assertTrue(user.is_active)
        self.assertNotEqual(user.date_joined.year, 2000)
