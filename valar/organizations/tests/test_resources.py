"""The generic resource tests (isolation, role matrix, pagination, query count) per resource."""

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.organizations.models import Membership, Team, TeamMembership

STRONG_PASSWORD = "another-Long-passphrase-77"


class TeamResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/teams/``."""

    url = "/api/v1/teams/"
    update_data = {"description": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Team.objects.create(organization=organization, name=f"Team {index}")

    def create_data(self, index):
        return {"name": f"New team {index}"}


class MemberResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/organizations/{id}/members/``."""

    url = "/api/v1/organizations/{org}/members/"
    verbs = ("list", "retrieve", "update", "delete")  # people join by invitation
    update_data = {"job_title": "Analyst"}
    list_queries = 3

    def make_object(self, organization, index=0):
        user = self.make_user(f"member{index}-{organization.slug}@org.test")
        membership = Membership.objects.create(
            organization=organization, user=user, role=Role.BASIC, is_default=True
        )
        if organization == self.org:
            team, _ = Team.objects.get_or_create(
                organization=organization, name="Led", defaults={"lead": self.users[Role.MANAGER]}
            )
            TeamMembership.objects.create(team=team, user=user)
        return membership


class UserResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/users/`` (admins of the organization only)."""

    url = "/api/v1/users/"
    update_data = {"first_name": "Renamed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        user = self.make_user(f"user{index}-{organization.slug}@org.test")
        Membership.objects.create(
            organization=organization,
            user=user,
            role=Role.BASIC,
            is_default=True,
            manages_account=True,
        )
        return user

    def create_data(self, index):
        return {"email": f"created{index}@org.test", "password": STRONG_PASSWORD, "role": "basic"}


class AuditEventResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/audit/events/`` (admins only, read only)."""

    url = "/api/v1/audit/events/"
    verbs = ("list", "retrieve")
    list_queries = 3

    def make_object(self, organization, index=0):
        return AuditEvent.objects.create(organization=organization, action=f"test.{index}")
