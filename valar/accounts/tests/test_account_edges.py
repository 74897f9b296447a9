"""Account behaviours pinned after review: the fifth failure, PUT defaults, field names."""

from valar.accounts.models import LoginLog
from valar.accounts.signals import user_registered
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD


class AccountEdgeTests(ApiTestCase):
    """Edges of sign-in, preferences, password change and registration."""

    def attempt(self, email: str, password: str):
        token = self.csrf_token()
        return self.client.post(
            "/api/v1/auth/login/",
            {"email": email, "password": password},
            format="json",
            HTTP_X_CSRFTOKEN=token,
        )

    def test_the_fifth_failure_is_judged_and_logged_as_bad_credentials_then_sign_in_is_refused(
        self,
    ):
        user = self.make_user()
        for _ in range(5):
            self.assert_problem(self.attempt(user.email, "wrong"), 400)
        reasons = list(LoginLog.objects.order_by("created_at").values_list("reason", flat=True))
        self.assertEqual(reasons, ["bad_credentials"] * 5)
        refused = self.attempt(user.email, DEFAULT_PASSWORD)
        self.assert_problem(refused, 429)
        self.assertIn("Retry-After", refused)
        self.assertEqual(LoginLog.objects.latest("created_at").reason, "locked_out")

    def test_put_preferences_fills_missing_keys_with_defaults(self):
        client = self.token_client(self.make_user())
        client.patch("/api/v1/auth/me/preferences/", {"date_format": "DD/MM/YYYY"}, format="json")
        response = client.put("/api/v1/auth/me/preferences/", {"language": "es"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "language": "es",
                "timezone": "UTC",
                "date_format": "YYYY-MM-DD",
                "notification_opt_outs": [],
            },
        )

    def test_a_weak_new_password_is_reported_on_new_password(self):
        client = self.token_client(self.make_user())
        response = client.post(
            "/api/v1/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "123"},
            format="json",
        )
        self.assert_problem(response, 400, field="new_password")

    def test_registration_receivers_never_see_the_password(self):
        seen = {}

        def receiver(sender, user, data, **kwargs):
            seen.update(data)

        user_registered.connect(receiver)
        self.addCleanup(user_registered.disconnect, receiver)
        token = self.csrf_token()
        self.client.post(
            "/api/v1/auth/register/",
            {"email": "new@example.com", "password": "quite-Long-passphrase-8"},
            format="json",
            HTTP_X_CSRFTOKEN=token,
        )
        self.assertEqual(seen.get("email"), "new@example.com")
        self.assertNotIn("password", seen)
