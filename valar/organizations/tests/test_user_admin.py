"""User administration: create, lock/unlock and password reset end sessions and tokens."""

from valar.accounts.models import User
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Membership

NEW_PASSWORD = "brand-New-passphrase-31"


class UserAdministrationTests(TenantFixtureMixin, ApiTestCase):
    """``users/`` and its actions, as the organization's admin."""

    def test_lock_ends_sessions_and_tokens_and_refuses_sign_in_until_unlocked(self):
        worker = self.users[Role.WORKER]
        self.session_login(worker)
        self.assertEqual(self.client.get("/api/v1/auth/me/").status_code, 200)
        worker_tokens = self.clients[Role.WORKER]
        response = self.clients[Role.ADMIN].post(f"/api/v1/users/{worker.pk}/lock/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertFalse(response.json()["is_active"])
        self.assert_problem(self.client.get("/api/v1/auth/me/"), 401)
        self.assert_problem(worker_tokens.get("/api/v1/auth/me/"), 401)
        token = self.csrf_token()
        refused = self.client.post(
            "/api/v1/auth/login/",
            {"email": worker.email, "password": "a-Long-and-unusual-passphrase-42"},
            format="json",
            HTTP_X_CSRFTOKEN=token,
        )
        self.assert_problem(refused, 400)
        self.clients[Role.ADMIN].post(f"/api/v1/users/{worker.pk}/unlock/")
        self.session_login(worker)

    def test_reset_password_sets_it_and_ends_the_users_sessions(self):
        worker = self.users[Role.WORKER]
        self.session_login(worker)
        response = self.clients[Role.ADMIN].post(
            f"/api/v1/users/{worker.pk}/reset-password/", {"password": NEW_PASSWORD}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assert_problem(self.client.get("/api/v1/auth/me/"), 401)
        worker.refresh_from_db()
        self.assertTrue(worker.check_password(NEW_PASSWORD))

    def test_reset_password_validates_the_new_password(self):
        worker = self.users[Role.WORKER]
        response = self.clients[Role.ADMIN].post(
            f"/api/v1/users/{worker.pk}/reset-password/", {"password": "123"}, format="json"
        )
        self.assert_problem(response, 400, field="password")

    def test_an_admin_cannot_lock_themself(self):
        admin = self.users[Role.ADMIN]
        self.assert_problem(self.clients[Role.ADMIN].post(f"/api/v1/users/{admin.pk}/lock/"), 403)

    def test_created_users_get_the_role_asked_for(self):
        response = self.clients[Role.ADMIN].post(
            "/api/v1/users/",
            {"email": "Hired@Org.test", "password": NEW_PASSWORD, "role": "worker"},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["role"], "worker")
        user = User.objects.get(email="hired@org.test")
        self.assertEqual(Membership.objects.get(user=user, organization=self.org).role, "worker")

    def test_users_are_searched_and_filtered(self):
        client = self.clients[Role.ADMIN]
        body = client.get("/api/v1/users/", {"search": "worker@"}).json()
        self.assertEqual([row["email"] for row in body["results"]], ["worker@org.test"])
        body = client.get("/api/v1/users/", {"role": "basic"}).json()
        self.assertEqual([row["email"] for row in body["results"]], ["basic@org.test"])

    def test_changing_email_to_a_taken_one_is_a_conflict(self):
        worker = self.users[Role.WORKER]
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/users/{worker.pk}/", {"email": "BASIC@org.test"}, format="json"
        )
        self.assert_problem(response, 409, field="email")

    def test_creating_a_user_with_a_taken_email_is_a_409_duplicate(self):
        for email in ("BASIC@org.test", "stranger@elsewhere.test"):
            User.objects.get_or_create(email="stranger@elsewhere.test")
            with self.subTest(email=email):
                response = self.clients[Role.ADMIN].post(
                    "/api/v1/users/",
                    {"email": email, "password": NEW_PASSWORD, "role": "worker"},
                    format="json",
                )
                self.assert_problem(response, 409, field="email", code="duplicate")


class AccountTakeoverTests(TenantFixtureMixin, ApiTestCase):
    """An organization's admin never controls an account another party created."""

    def setUp(self):
        super().setUp()
        # The other organization's admin joins ours as a worker (an account we did not create).
        Membership.objects.create(
            organization=self.org, user=self.other_admin, role=Role.WORKER, is_default=False
        )

    def test_an_admin_cannot_reset_the_password_of_an_account_it_did_not_create(self):
        response = self.clients[Role.ADMIN].post(
            f"/api/v1/users/{self.other_admin.pk}/reset-password/",
            {"password": NEW_PASSWORD},
            format="json",
        )
        self.assert_problem(response, 403, code="account_not_managed")
        self.other_admin.refresh_from_db()
        self.assertFalse(self.other_admin.check_password(NEW_PASSWORD))

    def test_an_admin_cannot_change_the_email_or_lock_an_account_it_did_not_create(self):
        url = f"/api/v1/users/{self.other_admin.pk}/"
        client = self.clients[Role.ADMIN]
        self.assert_problem(client.patch(url, {"email": "mine@evil.test"}, format="json"), 403)
        self.assert_problem(client.post(f"{url}lock/"), 403)
        self.other_admin.refresh_from_db()
        self.assertTrue(self.other_admin.is_active)
        self.assertEqual(self.other_admin.email, "admin@other.test")

    def test_an_admin_can_still_remove_such_a_member_from_the_organization(self):
        response = self.clients[Role.ADMIN].delete(f"/api/v1/users/{self.other_admin.pk}/")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(
            Membership.objects.filter(organization=self.org, user=self.other_admin).exists()
        )
