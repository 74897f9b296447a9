"""The audit trail records who changed what, from where, through which channel."""

from valar.accounts.models import ApiToken
from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Membership, Team


class AuditTrailTests(TenantFixtureMixin, ApiTestCase):
    """Audit events written by the generic mechanism and by explicit services."""

    def test_a_team_change_records_actor_channel_token_and_old_and_new_values(self):
        team = Team.objects.create(organization=self.org, name="Before")
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/teams/{team.pk}/",
            {"name": "After"},
            format="json",
            HTTP_USER_AGENT="tests/1.0",
            HTTP_X_REQUEST_ID="req-12345678",
        )
        self.assertEqual(response.status_code, 200)
        event = AuditEvent.objects.get(action="update", object_id=str(team.pk))
        self.assertEqual(event.actor, self.users[Role.ADMIN])
        self.assertEqual(event.organization, self.org)
        self.assertEqual(event.changes, {"name": {"old": "Before", "new": "After"}})
        self.assertEqual(event.channel, "token")
        token = ApiToken.objects.filter(user=self.users[Role.ADMIN]).latest("created_at")
        self.assertEqual(event.token_id, token.pk)
        self.assertEqual(event.user_agent, "tests/1.0")
        self.assertEqual(event.request_id, "req-12345678")
        self.assertEqual(event.ip_address, "127.0.0.1")

    def test_a_role_change_is_recorded_and_listed_for_admins_only(self):
        membership = Membership.objects.get(organization=self.org, user=self.users[Role.BASIC])
        self.clients[Role.ADMIN].patch(
            f"/api/v1/organizations/{self.org.pk}/members/{membership.pk}/",
            {"role": "worker"},
            format="json",
        )
        body = (
            self.clients[Role.ADMIN]
            .get("/api/v1/audit/events/", {"object_type": "organizations.membership"})
            .json()
        )
        changes = [row["changes"] for row in body["results"] if row["action"] == "update"]
        self.assertIn({"role": {"old": "basic", "new": "worker"}}, changes)
        self.assert_problem(self.clients[Role.MANAGER].get("/api/v1/audit/events/"), 403)

    def test_lock_is_recorded_with_its_actor(self):
        worker = self.users[Role.WORKER]
        self.clients[Role.ADMIN].post(f"/api/v1/users/{worker.pk}/lock/")
        event = AuditEvent.objects.get(action="user.lock")
        self.assertEqual(event.actor, self.users[Role.ADMIN])
        self.assertEqual(event.object_id, str(worker.pk))
        self.assertEqual(event.organization, self.org)

    def test_events_are_filtered_by_actor_and_action(self):
        Team.objects.create(organization=self.org, name="Quiet")
        self.clients[Role.ADMIN].post("/api/v1/teams/", {"name": "Loud"}, format="json")
        body = (
            self.clients[Role.ADMIN]
            .get(
                "/api/v1/audit/events/",
                {"actor": str(self.users[Role.ADMIN].pk), "action": "create"},
            )
            .json()
        )
        reprs = [row["object_repr"] for row in body["results"]]
        self.assertIn("Loud", reprs)
        self.assertNotIn("Quiet", reprs)

    def test_secrets_are_never_stored(self):
        self.clients[Role.ADMIN].post(
            "/api/v1/users/",
            {"email": "new@org.test", "password": "secret-Long-passphrase-5", "role": "basic"},
            format="json",
        )
        for event in AuditEvent.objects.all():
            self.assertNotIn("password", event.changes)
            self.assertNotIn("secret-Long-passphrase-5", str(event.changes))
