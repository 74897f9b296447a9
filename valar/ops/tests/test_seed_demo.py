"""Tests of ``manage.py seed_demo``: the demo admin is created once, with its credentials shown."""

import io
import re

from django.core.management import call_command

from valar.accounts.models import User
from valar.core.testing import ApiTestCase
from valar.ops.services import DEMO_EMAIL
from valar.organizations.models import Membership, Organization


class SeedDemoTests(ApiTestCase):
    """The demo seed runs on an empty database only and prints the password once."""

    def seed(self) -> str:
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    def test_the_first_run_creates_the_demo_admin_and_prints_working_credentials(self):
        output = self.seed()
        admin = User.objects.get(email=DEMO_EMAIL)
        self.assertTrue(admin.is_staff)
        self.assertTrue(admin.is_superuser)
        self.assertTrue(admin.is_active)
        self.assertIn(DEMO_EMAIL, output)
        password = re.search(r"password:\s+(\S+)", output).group(1)
        self.assertTrue(admin.check_password(password))

    def test_the_demo_users_emails_are_verified(self):
        self.seed()
        self.assertTrue(User.objects.exists())
        for user in User.objects.all():
            self.assertTrue(user.email_verified, user.email)

    def test_the_demo_admin_administers_a_demo_organization(self):
        self.seed()
        membership = Membership.objects.get(user__email=DEMO_EMAIL)
        self.assertEqual(membership.role, "admin")
        self.assertEqual(Organization.objects.count(), 1)

    def test_the_printed_credentials_sign_in_through_the_api(self):
        output = self.seed()
        password = re.search(r"password:\s+(\S+)", output).group(1)
        admin = User.objects.get(email=DEMO_EMAIL)
        self.session_login(admin, password=password)
        self.assertEqual(self.client.get("/api/v1/auth/me/").json()["email"], DEMO_EMAIL)

    def test_the_second_run_creates_nothing_and_prints_no_password(self):
        self.seed()
        users = set(User.objects.values_list("pk", "password"))
        organizations = Organization.objects.count()
        output = self.seed()
        self.assertIn("nothing created", output)
        self.assertNotIn("password", output)
        self.assertEqual(set(User.objects.values_list("pk", "password")), users)
        self.assertEqual(Organization.objects.count(), organizations)

    def test_a_database_with_any_user_is_left_alone(self):
        self.make_user()
        output = self.seed()
        self.assertIn("nothing created", output)
        self.assertFalse(User.objects.filter(email=DEMO_EMAIL).exists())
        self.assertEqual(User.objects.count(), 1)
        self.assertFalse(Organization.objects.exists())
