"""Tests of ``POST /api/v1/auth/login/``: CSRF, sessions, the sign-in log and the lockout."""

from datetime import timedelta

from django.contrib.sessions.backends.cached_db import SessionStore
from django.db.models import F
from rest_framework.test import APIClient

from valar.accounts.models import LoginLog, SignInCounter
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

LOGIN_URL = "/api/v1/auth/login/"
ME_URL = "/api/v1/auth/me/"
WRONG_PASSWORD = "not-the-right-passphrase-17"
INVALID_CREDENTIALS = "Unable to sign in with these credentials."


class LoginTestCase(ApiTestCase):
    """Shared helper: post to the sign-in endpoint the way a browser does."""

    def login(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        csrf: bool = True,
        client: APIClient | None = None,
        **extra,
    ):
        client = client or self.client
        if csrf:
            if "csrftoken" not in client.cookies:
                self.csrf_token(client)
            # Sign-in rotates the CSRF secret: always send the current cookie's value.
            extra["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
        data = {"email": email, "password": password}
        if "platform" in extra:
            data["platform"] = extra.pop("platform")
        return client.post(LOGIN_URL, data, **extra)


class LoginTests(LoginTestCase):
    """Sign-in needs CSRF, starts a fresh session and does not say which credential was wrong."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", first_name="Ada")

    def test_login_with_the_csrf_header_signs_the_user_in(self):
        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["id"], str(self.user.id))
        self.assertEqual(body["email"], "ada@example.com")
        self.assertEqual(body["first_name"], "Ada")
        self.assertNotIn("password", body)
        me = self.client.get(ME_URL)
        self.assertEqual(me.status_code, 200, me.content)
        self.assertEqual(me.json()["id"], str(self.user.id))

    def test_login_without_the_csrf_header_is_refused_and_not_logged(self):
        self.csrf_token()  # the browser holds the cookie but does not send the header
        response = self.login("ada@example.com", csrf=False)
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertEqual(body["detail"], "CSRF Failed: CSRF token missing.")
        self.assertNotIn("sessionid", response.cookies)
        self.assertEqual(self.client.get(ME_URL).status_code, 401)
        self.assertFalse(LoginLog.objects.exists())

    def test_login_without_any_csrf_cookie_is_refused(self):
        response = self.login("ada@example.com", csrf=False)
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertEqual(body["detail"], "CSRF Failed: CSRF cookie not set.")
        self.assertFalse(LoginLog.objects.exists())

    def test_login_with_a_csrf_header_that_does_not_match_the_cookie_is_refused(self):
        self.csrf_token()
        response = self.client.post(
            LOGIN_URL,
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN="a" * 32,
        )
        body = self.assert_problem(response, 403, code="permission_denied")
        self.assertIn("CSRF Failed", body["detail"])
        self.assertEqual(self.client.get(ME_URL).status_code, 401)

    def test_login_accepts_the_email_in_any_case_and_with_spaces(self):
        response = self.login("  ADA@Example.COM ")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["id"], str(self.user.id))

    def test_login_records_the_time_of_last_login(self):
        self.assertIsNone(self.user.last_login)
        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)
        self.user.refresh_from_db()
        self.assertIsNotNone(self.user.last_login)
        self.assertIsNotNone(response.json()["last_login"])

    def test_login_rotates_a_session_key_that_existed_before_sign_in(self):
        planted = self.client.session
        planted["note"] = "set before signing in"
        planted.save()
        planted_key = planted.session_key
        self.assertEqual(self.client.cookies["sessionid"].value, planted_key)

        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)
        new_key = self.client.cookies["sessionid"].value
        self.assertNotEqual(new_key, planted_key)
        self.assertFalse(SessionStore().exists(planted_key))

    def test_signing_in_as_someone_else_replaces_the_previous_session(self):
        grace = self.make_user("grace@example.com")
        self.assertEqual(self.login("ada@example.com").status_code, 200)
        first_key = self.client.cookies["sessionid"].value
        self.assertEqual(self.login("grace@example.com").status_code, 200)
        second_key = self.client.cookies["sessionid"].value
        self.assertNotEqual(first_key, second_key)

        stale = APIClient()
        stale.cookies["sessionid"] = first_key
        self.assertEqual(stale.get(ME_URL).status_code, 401)
        fresh = APIClient()
        fresh.cookies["sessionid"] = second_key
        self.assertEqual(fresh.get(ME_URL).json()["id"], str(grace.id))

    def test_a_wrong_password_is_a_generic_problem_and_starts_no_session(self):
        response = self.login("ada@example.com", WRONG_PASSWORD)
        body = self.assert_problem(response, 400, code="invalid_credentials")
        self.assertEqual(body["detail"], INVALID_CREDENTIALS)
        self.assertNotIn("sessionid", response.cookies)
        self.assertEqual(self.client.get(ME_URL).status_code, 401)

    def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(self):
        wrong_password = self.login("ada@example.com", WRONG_PASSWORD).json()
        unknown_email = self.login("nobody@example.com", WRONG_PASSWORD).json()
        self.assertEqual(unknown_email, wrong_password)

    def test_an_inactive_user_cannot_sign_in_even_with_the_right_password(self):
        self.user.is_active = False
        self.user.save()
        response = self.login("ada@example.com")
        body = self.assert_problem(response, 400, code="invalid_credentials")
        self.assertEqual(body["detail"], INVALID_CREDENTIALS)
        self.assertEqual(self.client.get(ME_URL).status_code, 401)

    def test_a_missing_password_is_a_field_error(self):
        token = self.csrf_token()
        response = self.client.post(LOGIN_URL, {"email": "ada@example.com"}, HTTP_X_CSRFTOKEN=token)
        body = self.assert_problem(response, 400, field="password", code="invalid")
        self.assertEqual(body["errors"]["password"], ["This field is required."])
        self.assertFalse(LoginLog.objects.exists())


class SignInLogTests(LoginTestCase):
    """Every sign-in attempt that reaches the credentials check is recorded with its context."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")

    def test_a_successful_sign_in_is_logged_with_ip_user_agent_and_platform(self):
        response = self.login(
            "ADA@example.com",
            platform="ios",
            REMOTE_ADDR="203.0.113.7",
            HTTP_USER_AGENT="ValarMobile/2.1 (iPhone)",
        )
        self.assertEqual(response.status_code, 200, response.content)
        log = LoginLog.objects.get()
        self.assertEqual(log.user, self.user)
        self.assertEqual(log.email, "ada@example.com")
        self.assertTrue(log.successful)
        self.assertEqual(log.reason, LoginLog.Reason.SUCCESS)
        self.assertEqual(log.ip_address, "203.0.113.7")
        self.assertEqual(log.user_agent, "ValarMobile/2.1 (iPhone)")
        self.assertEqual(log.platform, "ios")

    def test_a_wrong_password_is_logged_as_bad_credentials_for_that_user(self):
        response = self.login(
            "ada@example.com",
            WRONG_PASSWORD,
            platform="web",
            REMOTE_ADDR="198.51.100.20",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)",
        )
        self.assertEqual(response.status_code, 400, response.content)
        log = LoginLog.objects.get()
        self.assertEqual(log.user, self.user)
        self.assertEqual(log.email, "ada@example.com")
        self.assertFalse(log.successful)
        self.assertEqual(log.reason, LoginLog.Reason.BAD_CREDENTIALS)
        self.assertEqual(log.ip_address, "198.51.100.20")
        self.assertEqual(log.user_agent, "Mozilla/5.0 (X11; Linux x86_64)")
        self.assertEqual(log.platform, "web")

    def test_an_unknown_email_is_logged_without_a_user(self):
        response = self.login("Nobody@Example.com", WRONG_PASSWORD)
        self.assertEqual(response.status_code, 400, response.content)
        log = LoginLog.objects.get()
        self.assertIsNone(log.user)
        self.assertEqual(log.email, "nobody@example.com")
        self.assertFalse(log.successful)
        self.assertEqual(log.reason, LoginLog.Reason.BAD_CREDENTIALS)
        self.assertEqual(log.ip_address, "127.0.0.1")

    def test_an_inactive_account_with_the_right_password_is_logged_as_inactive(self):
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.login("ada@example.com").status_code, 400)
        log = LoginLog.objects.get()
        self.assertEqual(log.user, self.user)
        self.assertFalse(log.successful)
        self.assertEqual(log.reason, LoginLog.Reason.INACTIVE)

    def test_an_inactive_account_with_a_wrong_password_is_logged_as_bad_credentials(self):
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.login("ada@example.com", WRONG_PASSWORD).status_code, 400)
        self.assertEqual(LoginLog.objects.get().reason, LoginLog.Reason.BAD_CREDENTIALS)

    def test_the_platform_is_optional_and_logged_empty(self):
        self.assertEqual(self.login("ada@example.com").status_code, 200)
        self.assertEqual(LoginLog.objects.get().platform, "")

    def test_an_overlong_user_agent_is_cut_to_the_column_size(self):
        agent = "A" * 600
        response = self.login("ada@example.com", HTTP_USER_AGENT=agent)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(LoginLog.objects.get().user_agent, "A" * 512)

    def test_an_overlong_platform_is_a_field_error(self):
        response = self.login("ada@example.com", platform="p" * 51)
        self.assert_problem(response, 400, field="platform", code="invalid")
        self.assertFalse(LoginLog.objects.exists())

    def test_failures_and_a_success_each_add_one_row(self):
        self.login("ada@example.com", WRONG_PASSWORD)
        self.login("ada@example.com", WRONG_PASSWORD)
        self.login("ada@example.com")
        reasons = list(LoginLog.objects.order_by("created_at").values_list("reason", flat=True))
        self.assertEqual(reasons, ["bad_credentials", "bad_credentials", "success"])


class LockoutTests(LoginTestCase):
    """Five consecutive failures for one account, from any IP, lock its sign-in for 15 minutes."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")

    def fail(self, times: int, emails: list[str] | None = None, **extra) -> None:
        emails = emails or ["ada@example.com"]
        for attempt in range(times):
            self.login(emails[attempt % len(emails)], WRONG_PASSWORD, **extra)

    def assert_locked_out(self, response, retry_after: int = 900) -> None:
        body = self.assert_problem(response, 429, code="throttled")
        self.assertIn("Too many failed sign-in attempts for this account", body["detail"])
        self.assertIn("15 minutes", body["detail"])
        # The seconds left in the cool-off (a second may pass while the test runs).
        self.assertIn(int(response["Retry-After"]), (retry_after - 1, retry_after))

    def test_four_failures_do_not_lock_the_account(self):
        for _ in range(4):
            response = self.login("ada@example.com", WRONG_PASSWORD)
            self.assert_problem(response, 400, code="invalid_credentials")
        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)

    def test_after_five_failures_the_right_password_is_refused_with_429(self):
        self.fail(5)
        response = self.login("ada@example.com")
        self.assert_locked_out(response)
        self.assertNotIn("sessionid", response.cookies)
        self.assertEqual(self.client.get(ME_URL).status_code, 401)

    def test_the_refusal_during_a_lockout_is_logged_as_locked_out(self):
        self.fail(5)
        self.login(
            "ada@example.com",
            platform="android",
            REMOTE_ADDR="192.0.2.44",
            HTTP_USER_AGENT="ValarMobile/2.1 (Pixel)",
        )
        refusal = LoginLog.objects.filter(ip_address="192.0.2.44").get()
        self.assertEqual(refusal.user, self.user)
        self.assertEqual(refusal.email, "ada@example.com")
        self.assertFalse(refusal.successful)
        self.assertEqual(refusal.reason, LoginLog.Reason.LOCKED_OUT)
        self.assertEqual(refusal.user_agent, "ValarMobile/2.1 (Pixel)")
        self.assertEqual(refusal.platform, "android")
        self.assertEqual(LoginLog.objects.filter(successful=True).count(), 0)

    def test_failures_from_different_ips_add_up_to_a_lockout(self):
        for attempt in range(5):
            self.login("ada@example.com", WRONG_PASSWORD, REMOTE_ADDR=f"10.0.0.{attempt + 1}")
        response = self.login("ada@example.com", REMOTE_ADDR="10.0.0.99")
        self.assert_locked_out(response)

    def test_failures_in_different_email_cases_lock_the_same_account(self):
        self.fail(5, emails=["ADA@example.com", "ada@EXAMPLE.COM", "Ada@Example.Com"])
        response = self.login("aDa@example.com")
        self.assert_locked_out(response)
        self.assertEqual(
            LoginLog.objects.filter(user=self.user, reason=LoginLog.Reason.LOCKED_OUT)
            .values_list("email", flat=True)
            .last(),
            "ada@example.com",
        )

    def test_a_locked_account_does_not_lock_other_accounts(self):
        self.make_user("grace@example.com")
        self.fail(5)
        self.assert_locked_out(self.login("ada@example.com"))
        response = self.login("grace@example.com")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["email"], "grace@example.com")

    def test_a_success_resets_the_count_of_consecutive_failures(self):
        self.fail(4)
        self.assertEqual(self.login("ada@example.com").status_code, 200)
        self.fail(4)
        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)

    def test_the_lock_still_holds_a_minute_before_the_cool_off_ends(self):
        self.fail(5)
        SignInCounter.objects.update(last_attempt_at=F("last_attempt_at") - timedelta(minutes=14))
        self.assert_locked_out(self.login("ada@example.com"), retry_after=60)

    def test_the_lock_lifts_after_fifteen_minutes(self):
        self.fail(5)
        SignInCounter.objects.update(last_attempt_at=F("last_attempt_at") - timedelta(minutes=16))
        response = self.login("ada@example.com")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(LoginLog.objects.order_by("-created_at").first().reason, "success")
