"""Tests of ``manage.py seed_demo``: the demo admin is created once, with its credentials shown."""

import io
import re

from django.core.management import call_command
from django.utils import timezone

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

    def test_the_demo_dashboard_holds_one_drawn_chart_of_each_type(self):
        """The console opens "Business overview": five charts, each with a computed document
        holding this year's twelve months, the money charts with this month's demo figures."""
        self.seed()
        admin = User.objects.get(email=DEMO_EMAIL)
        self.client.force_login(admin)
        dashboards = self.client.get("/api/v1/dashboards/").json()["results"]
        self.assertEqual([d["title"] for d in dashboards], ["Business overview"])
        self.assertEqual(dashboards[0]["visibility"], "organization")
        charts = self.client.get(f"/api/v1/dashboards/{dashboards[0]['id']}/charts/").json()
        self.assertEqual(
            [(c["title"], c["chart_type"]) for c in charts],
            [
                ("Income by category", "bar"),
                ("Expenses", "line"),
                ("Profit", "area"),
                ("Expenses by category", "pie"),
                ("Support chats by status", "table"),
            ],
        )
        month = timezone.localdate().strftime("%Y-%m")
        for chart in charts:
            document = chart["document"]
            self.assertEqual(len(document["labels"]), 12, chart["title"])
            self.assertIn(month, document["labels"])
            self.assertFalse(chart["stale"], chart["title"])
        by_title = {chart["title"]: chart["document"] for chart in charts}
        # Income 4,200.00 + 1,350.50 (Sales) plus the half-paid invoice's payment; expenses
        # 1,800.00 (Rent): the totals are the engine's, compared exactly as strings.
        self.assertEqual(by_title["Expenses"]["totals"], {"expense": "1800.00"})
        self.assertEqual(by_title["Expenses by category"]["totals"], {"Rent": "1800.00"})
        self.assertIn("Sales", by_title["Income by category"]["totals"])
        self.assertEqual(by_title["Income by category"]["totals"]["Sales"], "5550.50")
        self.assertEqual(sum(by_title["Support chats by status"]["series"][0]["data"]), 1)

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
