"""Account events in the audit trail: sign-in, failed sign-in, sign-out, password change."""

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD
from valar.core.testing.resources import TenantFixtureMixin


class AccountEventTests(TenantFixtureMixin, ApiTestCase):
    """Each account event is an audit row under the user's default organization."""

    def test_sign_in_sign_out_and_a_failed_attempt_are_recorded(self):
        worker = self.users[Role.WORKER]
        token = self.session_login(worker)
        self.client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=token)
        csrf = self.csrf_token()
        self.client.post(
            "/api/v1/auth/login/",
            {"email": worker.email, "password": "wrong"},
            format="json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        events = AuditEvent.objects.filter(object_id=str(worker.pk)).order_by("created_at")
        self.assertEqual(
            [event.action for event in events],
            ["auth.login", "auth.logout", "auth.login_failed"],
        )
        self.assertTrue(all(event.organization_id == self.org.pk for event in events))
        self.assertEqual(events[0].actor, worker)
        failed = events[2]
        self.assertEqual(failed.changes, {"email": worker.email})
        self.assertNotIn("wrong", str(failed.changes))

    def test_a_password_change_is_recorded_without_the_password(self):
        worker = self.users[Role.WORKER]
        new_password = "another-Long-passphrase-12"
        response = self.clients[Role.WORKER].post(
            "/api/v1/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": new_password},
            format="json",
        )
        self.assertEqual(response.status_code, 204)
        event = AuditEvent.objects.get(action="auth.password_change")
        self.assertEqual(event.actor, worker)
        self.assertEqual(event.channel, "token")
        self.assertNotIn(new_password, str(event.changes))


class DeletedOrganizationTests(TenantFixtureMixin, ApiTestCase):
    """Deleting an organization keeps its trail, including the deletions themselves."""

    def test_an_organization_can_be_deleted_and_its_trail_stays(self):
        from valar.organizations.models import Organization, Team

        Team.objects.create(organization=self.other, name="Gone")
        other_id = self.other.pk
        self.other.delete()
        self.assertFalse(Organization.objects.filter(pk=other_id).exists())
        actions = set(
            AuditEvent.objects.filter(organization_id=other_id).values_list("action", flat=True)
        )
        self.assertIn("create", actions)
        self.assertIn("delete", actions)
