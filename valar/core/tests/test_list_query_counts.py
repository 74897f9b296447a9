"""Pinned query counts for the lists the generic resource tests do not cover."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.accounts.services import token_create
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.insights.models import Dashboard
from valar.organizations.models import Membership, Team, TeamMembership
from valar.organizations.services import organization_create


class ListQueryCountTests(TenantFixtureMixin, ApiTestCase):
    """Each list costs the same number of queries for few rows and for many."""

    module = "insights"

    def count(self, url: str) -> int:
        """Queries of one list request by the admin (after a warm-up request)."""
        client = self.clients[Role.ADMIN]
        self.assertEqual(client.get(url).status_code, 200)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(client.get(url).status_code, 200)
        return len(captured)

    def test_dashboards_list_in_four_queries_whatever_their_number(self):
        admin = self.users[Role.ADMIN]
        for index in range(2):
            Dashboard.objects.create(organization=self.org, title=f"D{index}", created_by=admin)
        few = self.count("/api/v1/dashboards/")
        for index in range(2, 12):
            Dashboard.objects.create(organization=self.org, title=f"D{index}", created_by=admin)
        self.assertEqual((few, self.count("/api/v1/dashboards/")), (4, 4))

    def test_organizations_and_tokens_list_in_constant_queries(self):
        admin = self.users[Role.ADMIN]
        few_orgs, few_tokens = (
            self.count("/api/v1/organizations/"),
            self.count("/api/v1/auth/tokens/"),
        )
        for index in range(5):
            organization_create(name=f"More {index}", actor=admin)
            token_create(user=admin, name=f"t{index}")
        self.assertEqual(self.count("/api/v1/organizations/"), few_orgs)
        self.assertEqual(self.count("/api/v1/auth/tokens/"), few_tokens)
        self.assertEqual((few_orgs, few_tokens), (3, 3))

    def test_team_members_list_in_constant_queries(self):
        team = Team.objects.create(organization=self.org, name="T")
        url = f"/api/v1/teams/{team.pk}/members/"
        TeamMembership.objects.create(team=team, user=self.users[Role.WORKER])
        few = self.count(url)
        for index in range(8):
            user = self.make_user(f"extra{index}@org.test")
            Membership.objects.create(organization=self.org, user=user, role=Role.BASIC)
            TeamMembership.objects.create(team=team, user=user)
        self.assertEqual(self.count(url), few)
