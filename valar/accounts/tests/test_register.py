"""Tests of ``POST /api/v1/auth/register/``: sign-up without enumeration, CSRF, validation."""

import uuid

from django.core import mail
from django.test import override_settings

from valar.accounts.models import User
from valar.accounts.tests.emailed import emailed_token
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD
from valar.organizations.models import Organization

REGISTER_URL = "/api/v1/auth/register/"
LOGIN_URL = "/api/v1/auth/login/"
ME_URL = "/api/v1/auth/me/"
ACCEPTED = {"detail": "Check your e-mail to finish registering, then sign in."}
#: Headers that could tell a new address from a taken one.
TELLING_HEADERS = ("Content-Type", "Content-Length", "Set-Cookie", "Vary", "Allow")


class RegisterTests(ApiTestCase):
    """Registration creates an unverified user, e-mails them, and starts no session."""

    def register(self, data: dict, *, csrf: bool = True, client=None):
        client = client or self.client
        headers = {"HTTP_X_CSRFTOKEN": self.csrf_token(client)} if csrf else {}
        return client.post(REGISTER_URL, data, **headers)

    def test_registering_creates_an_unverified_user_and_answers_202(self):
        response = self.register(
            {
                "email": "  Ada.Lovelace@Example.COM ",
                "password": DEFAULT_PASSWORD,
                "first_name": "Ada",
                "last_name": "Lovelace",
            }
        )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(response.json(), ACCEPTED)
        user = User.objects.get()
        self.assertEqual(user.email, "ada.lovelace@example.com")
        self.assertEqual((user.first_name, user.last_name), ("Ada", "Lovelace"))
        self.assertTrue(user.is_active)
        self.assertFalse(user.email_verified)
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)

    def test_registering_sends_the_verification_e_mail_with_a_link_and_the_token(self):
        with override_settings(PUBLIC_URL="https://app.example.com"):
            self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["ada@example.com"])
        self.assertEqual(message.subject, "Confirm your e-mail address")
        self.assertRegex(message.body, r"https://app\.example\.com/verify-email\?uid=\S+&token=\S+")
        self.assertRegex(message.body, r"(?m)^uid: \S+$")
        self.assertRegex(message.body, r"(?m)^token: \S+$")
        self.assertNotIn(DEFAULT_PASSWORD, message.body)

    def test_the_password_is_stored_hashed_and_never_returned(self):
        response = self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        self.assertEqual(response.status_code, 202, response.content)
        self.assertNotIn(DEFAULT_PASSWORD.encode(), response.content)
        user = User.objects.get(email="ada@example.com")
        self.assertNotEqual(user.password, DEFAULT_PASSWORD)
        self.assertTrue(user.check_password(DEFAULT_PASSWORD))

    def test_registering_starts_no_session_and_the_new_user_signs_in_unverified(self):
        response = self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        self.assertEqual(response.status_code, 202, response.content)
        self.assertNotIn("sessionid", response.cookies)
        self.assert_problem(self.client.get(ME_URL), 401)
        user = User.objects.get(email="ada@example.com")
        self.session_login(user)
        me = self.client.get(ME_URL).json()
        self.assertEqual(me["email"], "ada@example.com")
        self.assertFalse(me["email_verified"])

    def test_an_unverified_user_uses_their_new_organization(self):
        self.register(
            {
                "email": "ada@example.com",
                "password": DEFAULT_PASSWORD,
                "organization_name": "Analytical Engines",
            }
        )
        user = User.objects.get(email="ada@example.com")
        self.session_login(user)
        response = self.client.get("/api/v1/organizations/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual([o["name"] for o in response.json()["results"]], ["Analytical Engines"])

    def test_an_existing_email_answers_exactly_like_a_new_one(self):
        self.make_user("ada@example.com")
        new = self.register({"email": "grace@example.com", "password": DEFAULT_PASSWORD})
        fresh = self.client_class(enforce_csrf_checks=True)
        taken = self.register(
            {"email": "ADA@Example.com", "password": DEFAULT_PASSWORD}, client=fresh
        )
        self.assertEqual(new.status_code, 202)
        self.assertEqual(taken.status_code, new.status_code)
        self.assertEqual(taken.content, new.content)
        for header in TELLING_HEADERS:
            self.assertEqual(taken.get(header), new.get(header), header)
        self.assertEqual(sorted(taken.cookies), sorted(new.cookies))
        self.assertNotIn("sessionid", taken.cookies)
        self.assertNotIn("sessionid", new.cookies)
        self.assertEqual(User.objects.filter(email="ada@example.com").count(), 1)

    def test_an_existing_email_gets_an_e_mail_telling_its_owner_and_changes_nothing(self):
        owner = self.make_user("ada@example.com", first_name="Ada")
        password_before = owner.password
        response = self.register(
            {
                "email": "ada@example.com",
                "password": "someone-Elses-passphrase-7",
                "first_name": "Mallory",
                "organization_name": "Takeover Ltd",
            }
        )
        self.assertEqual(response.json(), ACCEPTED)
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["ada@example.com"])
        self.assertEqual(message.subject, "Your Valar account already exists")
        self.assertIn("reset", message.body)
        self.assertNotIn("token:", message.body)
        owner.refresh_from_db()
        self.assertEqual(owner.password, password_before)
        self.assertEqual(owner.first_name, "Ada")
        self.assertFalse(Organization.objects.filter(name="Takeover Ltd").exists())

    def test_the_owner_of_a_taken_email_is_e_mailed_a_few_times_an_hour_at_most(self):
        self.make_user("ada@example.com")
        with override_settings(ACCOUNT_EMAILS_PER_HOUR=2):
            answers = [
                self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD}).json()
                for _ in range(4)
            ]
        self.assertEqual(answers, [ACCEPTED] * 4)
        self.assertEqual(len(mail.outbox), 2)

    def test_a_weak_password_is_refused_alike_for_a_new_and_a_taken_email(self):
        self.make_user("ada@example.com")
        new = self.register({"email": "grace@example.com", "password": "password"})
        taken = self.register({"email": "ada@example.com", "password": "password"})
        body = self.assert_problem(new, 400, field="password", code="invalid")
        self.assertIn("This password is too common.", body["errors"]["password"])
        self.assertEqual(taken.status_code, 400)
        self.assertEqual(taken.json(), body)
        self.assertEqual(mail.outbox, [])
        self.assertFalse(User.objects.filter(email="grace@example.com").exists())

    def test_a_password_like_the_submitted_email_is_refused_even_when_it_is_taken(self):
        self.make_user("jonathan.smithers@example.com", first_name="Someone")
        for email in ("jonathan.smithers@example.com", "jonathan.smithers@example.org"):
            with self.subTest(email=email):
                response = self.register({"email": email, "password": "jonathan.smithers"})
                body = self.assert_problem(response, 400, field="password")
                self.assertIn(
                    "The password is too similar to the email.", body["errors"]["password"]
                )
        self.assertEqual(mail.outbox, [])

    def test_register_without_the_csrf_header_is_refused_and_creates_nobody(self):
        response = self.register(
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, csrf=False
        )
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF", body["detail"])
        self.assertFalse(User.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_register_with_a_wrong_csrf_token_is_refused(self):
        self.csrf_token()
        response = self.client.post(
            REGISTER_URL,
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN="x" * 32,
        )
        self.assert_problem(response, 403, code="permission_denied")
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

    def test_registration_ignores_privileges_ids_verification_and_timestamps_in_the_body(self):
        chosen_id = uuid.uuid4()
        response = self.register(
            {
                "email": "mallory@example.com",
                "password": DEFAULT_PASSWORD,
                "id": str(chosen_id),
                "is_staff": True,
                "is_superuser": True,
                "is_active": False,
                "email_verified": True,
                "email_verified_at": "2000-01-01T00:00:00Z",
                "date_joined": "2000-01-01T00:00:00Z",
            }
        )
        self.assertEqual(response.status_code, 202, response.content)
        user = User.objects.get(email="mallory@example.com")
        self.assertNotEqual(user.id, chosen_id)
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)
        self.assertTrue(user.is_active)
        self.assertIsNone(user.email_verified_at)
        self.assertNotEqual(user.date_joined.year, 2000)

    def test_the_verification_e_mail_carries_a_token_that_verifies_the_email(self):
        self.register({"email": "ada@example.com", "password": DEFAULT_PASSWORD})
        response = self.client.post(
            "/api/v1/auth/email/verify/",
            emailed_token(),
            HTTP_X_CSRFTOKEN=self.csrf_token(),
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(User.objects.get(email="ada@example.com").email_verified)
