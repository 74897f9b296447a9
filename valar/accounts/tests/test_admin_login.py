"""``/admin/login/`` takes the API's sign-in path: the same lockout, throttle and log."""

from unittest import mock

from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from valar.accounts.models import LoginLog, User
from valar.accounts.tests.test_login import WRONG_PASSWORD, LoginTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

ADMIN_LOGIN = "/admin/login/?next=/admin/"


class AdminLoginTests(LoginTestCase):
    """Staff passwords cannot be guessed at will through the admin's own form."""

    def setUp(self) -> None:
        super().setUp()
        self.operator = User.objects.create_superuser(
            email="root@example.com", password=DEFAULT_PASSWORD
        )
        self.browser = Client()

    def admin_login(self, username: str, password: str = DEFAULT_PASSWORD, **extra):
        return self.browser.post(ADMIN_LOGIN, {"username": username, "password": password}, **extra)

    def test_a_superuser_signs_in_and_sees_the_admin(self):
        response = self.admin_login("root@example.com")
        self.assertEqual(response.status_code, 302, response.content[:300])
        self.assertEqual(response["Location"], "/admin/")
        self.assertEqual(self.browser.get("/admin/").status_code, 200)
        log = LoginLog.objects.get()
        self.assertEqual((log.user, log.reason, log.platform), (self.operator, "success", "admin"))

    def test_after_five_failures_the_right_password_is_refused_with_429(self):
        for _ in range(5):
            self.assertEqual(self.admin_login("root@example.com", WRONG_PASSWORD).status_code, 200)
        response = self.admin_login("root@example.com")
        self.assertEqual(response.status_code, 429)
        self.assertTrue(850 <= int(response["Retry-After"]) <= 900, response["Retry-After"])
        self.assertContains(response, "Too many failed sign-in attempts", status_code=429)
        self.assertNotIn("sessionid", response.cookies)
        self.assertEqual(self.browser.get("/admin/").status_code, 302)
        self.assertEqual(LoginLog.objects.filter(reason="locked_out").count(), 1)

    def test_failures_through_the_api_lock_the_admin_too(self):
        for _ in range(5):
            self.login("root@example.com", WRONG_PASSWORD)
        self.assertEqual(self.admin_login("root@example.com").status_code, 429)
        self.assertEqual(self.login("root@example.com").status_code, 429)

    def test_admin_sign_in_attempts_count_against_the_per_address_limit(self):
        rates = {"anon": "1000/min", "user": "1000/min", "login": "3/min"}
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", rates):
            statuses = [
                self.admin_login(f"guess{number}@example.com", WRONG_PASSWORD).status_code
                for number in range(4)
            ]
            api = self.login("root@example.com")
        self.assertEqual(statuses, [200, 200, 200, 429])
        self.assertEqual(api.status_code, 429)

    def test_a_member_who_is_not_staff_cannot_sign_in_to_the_admin(self):
        self.make_user("ada@example.com")
        response = self.admin_login("ada@example.com")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "staff account")
        self.assertEqual(self.browser.get("/admin/").status_code, 302)

    def test_the_admin_accepts_a_username(self):
        self.operator.username = "root"
        self.operator.save()
        self.assertEqual(self.admin_login("ROOT").status_code, 302)
