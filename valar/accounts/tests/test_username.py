"""Usernames: set through ``PATCH auth/me/``, unique ignoring case, and a sign-in identifier."""

from valar.accounts.models import LoginLog
from valar.accounts.tests.test_login import WRONG_PASSWORD, LoginTestCase

ME_URL = "/api/v1/auth/me/"


class UsernameProfileTests(LoginTestCase):
    """The user chooses, changes and removes their own username."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.api = self.token_client(self.user)

    def test_a_user_sets_a_username_and_sees_it(self):
        response = self.api.patch(ME_URL, {"username": "Ada.L"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["username"], "Ada.L")
        self.assertEqual(self.api.get(ME_URL).json()["username"], "Ada.L")

    def test_a_username_taken_in_any_case_is_a_409_duplicate(self):
        self.make_user("grace@example.com", username="grace")
        response = self.api.patch(ME_URL, {"username": "GRACE"})
        self.assert_problem(response, 409, field="username", code="duplicate")
        self.user.refresh_from_db()
        self.assertIsNone(self.user.username)

    def test_keeping_ones_own_username_in_another_case_is_allowed(self):
        self.api.patch(ME_URL, {"username": "ada"})
        response = self.api.patch(ME_URL, {"username": "Ada"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["username"], "Ada")

    def test_a_badly_formed_username_is_a_400(self):
        for bad in ["ab", "ada@example", "with space", "x" * 151, "émile"]:
            with self.subTest(bad=bad):
                response = self.api.patch(ME_URL, {"username": bad})
                self.assert_problem(response, 400, field="username", code="invalid")

    def test_null_or_empty_removes_the_username(self):
        self.api.patch(ME_URL, {"username": "ada"})
        for empty in [None, ""]:
            with self.subTest(empty=empty):
                self.api.patch(ME_URL, {"username": "ada"})
                response = self.api.patch(ME_URL, {"username": empty}, format="json")
                self.assertEqual(response.status_code, 200, response.content)
                self.assertIsNone(response.json()["username"])

    def test_many_users_may_have_no_username(self):
        other = self.token_client(self.make_user("grace@example.com"))
        self.assertEqual(self.api.patch(ME_URL, {"username": ""}).status_code, 200)
        self.assertEqual(other.patch(ME_URL, {"username": ""}).status_code, 200)


class UsernameSignInTests(LoginTestCase):
    """``email`` accepts the username too; the lockout is the account's, whichever is typed."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", username="ada.l")

    def test_sign_in_with_the_username_in_any_case(self):
        response = self.login("ADA.L")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["id"], str(self.user.id))
        log = LoginLog.objects.get()
        self.assertEqual((log.user, log.reason), (self.user, "success"))

    def test_a_wrong_password_with_the_username_is_the_generic_answer(self):
        response = self.login("ada.l", WRONG_PASSWORD)
        self.assert_problem(response, 400, code="invalid_credentials")
        self.assertEqual(LoginLog.objects.get().user, self.user)

    def test_failures_by_username_and_by_email_add_up_to_one_lockout(self):
        for identifier in ["ada.l", "ADA@example.com", "Ada.L", "ada@example.com", "ADA.L"]:
            self.assertEqual(self.login(identifier, WRONG_PASSWORD).status_code, 400)
        self.assertEqual(self.login("ada@example.com").status_code, 429)
        self.assertEqual(self.login("ada.l").status_code, 429)

    def test_jwt_sign_in_accepts_the_username(self):
        response = self.client.post(
            "/api/v1/auth/jwt/", {"email": "Ada.L", "password": "a-Long-and-unusual-passphrase-42"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(set(response.json()), {"access", "refresh"})
