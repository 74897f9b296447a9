"""Invitations: nobody joins an organization, or loses their account to one, without consent.

Each class starts from a path that was open before invitations existed (an organization
attaching any account by email, an organization resetting the password of an account that
now administers another organization, a manager gaining members through a team) and shows
it closed, over HTTP.
"""

import re
from datetime import timedelta
from unittest import mock

from django.core import mail
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from valar.accounts.models import User
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.organizations.models import Invitation, Membership, Team, TeamMembership
from valar.organizations.services import _invitation_token

OWN_PASSWORD = "my-Own-chosen-passphrase-58"
TOKEN_LINE = re.compile(r"Your invitation token: (\S+)")


def verify(user: User) -> User:
    """Mark ``user``'s email as proven (what the verification link does)."""
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


class InvitationMixin:
    """Helpers: invite through the API and read the token from the email sent."""

    def invitations_url(self, organization=None) -> str:
        return f"/api/v1/organizations/{(organization or self.org).pk}/invitations/"

    def invite(self, client, email: str, role: str = "basic", organization=None, **extra):
        with self.captureOnCommitCallbacks(execute=True):  # the email leaves on commit
            return client.post(
                self.invitations_url(organization),
                {"email": email, "role": role, **extra},
                format="json",
            )

    def last_token(self) -> str:
        match = TOKEN_LINE.search(mail.outbox[-1].body)
        self.assertIsNotNone(match, mail.outbox[-1].body)
        return match.group(1)

    def accept(self, client, token: str, **data):
        return client.post(f"/api/v1/auth/invitations/{token}/accept/", data, format="json")


class TakeoverAcrossOrganizationsTests(InvitationMixin, TenantFixtureMixin, ApiTestCase):
    """Organization A created an account; organization B wants it as an admin."""

    def setUp(self):
        super().setUp()
        response = self.clients[Role.ADMIN].post(
            "/api/v1/users/",
            {"email": "shared@person.test", "password": DEFAULT_PASSWORD, "role": "basic"},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.person = User.objects.get(email="shared@person.test")

    def test_inviting_grants_nothing_until_the_invitee_accepts(self):
        response = self.invite(self.other_client, self.person.email, "admin", self.other)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertFalse(
            Membership.objects.filter(organization=self.other, user=self.person).exists()
        )
        person = self.token_client(self.person)
        self.assert_problem(person.get("/api/v1/teams/", HTTP_X_ORGANIZATION=self.other.slug), 403)
        self.assert_problem(person.get(f"/api/v1/organizations/{self.other.pk}/"), 404)

    def test_an_unverified_account_cannot_accept(self):
        self.invite(self.other_client, self.person.email, "admin", self.other)
        response = self.accept(self.token_client(self.person), self.last_token())
        self.assert_problem(response, 403, code="email_not_verified")
        self.assertFalse(
            Membership.objects.filter(organization=self.other, user=self.person).exists()
        )

    def test_a_password_an_admin_set_must_be_replaced_before_joining(self):
        verify(self.person)
        self.invite(self.other_client, self.person.email, "admin", self.other)
        token = self.last_token()
        client = self.token_client(self.person)
        self.assert_problem(self.accept(client, token), 400, field="new_password")
        response = self.accept(self.token_client(self.person), token, new_password=OWN_PASSWORD)
        self.assertEqual(response.status_code, 200, response.content)
        self.person.refresh_from_db()
        self.assertFalse(self.person.check_password(DEFAULT_PASSWORD))
        self.assertFalse(self.person.password_is_temporary)

    def test_after_joining_another_organization_the_creator_manages_the_account_no_more(self):
        verify(self.person)
        self.invite(self.other_client, self.person.email, "admin", self.other)
        response = self.accept(
            self.token_client(self.person), self.last_token(), new_password=OWN_PASSWORD
        )
        self.assertEqual(response.status_code, 200, response.content)
        admin_a = self.clients[Role.ADMIN]
        url = f"/api/v1/users/{self.person.pk}/"
        for attempt in (
            admin_a.post(f"{url}reset-password/", {"password": "x-New-passphrase-12"}),
            admin_a.post(f"{url}lock/"),
            admin_a.patch(url, {"email": "attacker@a.test"}, format="json"),
        ):
            self.assert_problem(attempt, 403, code="account_not_managed")
        self.person.refresh_from_db()
        self.assertTrue(self.person.check_password(OWN_PASSWORD))
        self.assertTrue(self.person.is_active)
        self.assertEqual(self.person.email, "shared@person.test")
        # Removing the member from A is still A's right.
        self.assertEqual(admin_a.delete(url).status_code, 204)

    def test_a_password_set_by_an_admin_is_replaced_even_by_a_removed_member(self):
        # The organization that set it removed the member but still knows the password.
        loner = verify(self.make_user("loner@person.test", password_is_temporary=True))
        self.invite(self.other_client, loner.email, "basic", self.other)
        token = self.last_token()
        self.assert_problem(self.accept(self.token_client(loner), token), 400, field="new_password")
        response = self.accept(self.token_client(loner), token, new_password=OWN_PASSWORD)
        self.assertEqual(response.status_code, 200, response.content)


class ConsentTests(InvitationMixin, TenantFixtureMixin, ApiTestCase):
    """The inviter learns nothing about accounts; the invitee decides."""

    def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(self):
        verify(self.make_user("exists@person.test"))
        bodies = []
        for email in ("exists@person.test", "nobody@person.test"):
            response = self.invite(self.clients[Role.ADMIN], email)
            self.assertEqual(response.status_code, 201, response.content)
            body = response.json()
            bodies.append({key: value for key, value in body.items() if key not in {"id", "email"}})
            for moment in ("expires_at", "sent_at", "created_at"):
                bodies[-1].pop(moment)
        self.assertEqual(bodies[0], bodies[1])
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            sorted(["exists@person.test", "nobody@person.test"]),
        )

    def test_the_token_is_never_in_a_response(self):
        response = self.invite(self.clients[Role.ADMIN], "person@person.test")
        token = self.last_token()
        self.assertNotIn(token.encode(), response.content)
        listed = self.clients[Role.ADMIN].get(self.invitations_url())
        self.assertNotIn(token.encode(), listed.content)

    def test_accepting_keeps_the_default_organization_until_the_user_chooses(self):
        person = verify(self.make_user("person@person.test"))
        home = self.other  # the person's own organization first
        Membership.objects.create(organization=home, user=person, role=Role.BASIC, is_default=True)
        self.invite(self.clients[Role.ADMIN], person.email)
        client = self.token_client(person)
        self.assertEqual(self.accept(client, self.last_token()).status_code, 200)
        body = client.get("/api/v1/auth/me/permissions/").json()
        self.assertEqual(body["organization"], str(home.pk))
        response = client.post(f"/api/v1/organizations/{self.org.pk}/make-default/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()["is_default"])
        body = client.get("/api/v1/auth/me/permissions/").json()
        self.assertEqual(body["organization"], str(self.org.pk))
        self.assertEqual(Membership.objects.filter(user=person, is_default=True).count(), 1)

    def test_an_invitation_for_another_email_cannot_be_accepted(self):
        self.invite(self.clients[Role.ADMIN], "someone@person.test")
        intruder = verify(self.make_user("intruder@person.test"))
        response = self.accept(self.token_client(intruder), self.last_token())
        self.assert_problem(response, 403, code="wrong_account")
        self.assertFalse(Membership.objects.filter(user=intruder, organization=self.org).exists())

    def test_declining_grants_nothing_and_ends_the_invitation(self):
        person = verify(self.make_user("person@person.test"))
        self.invite(self.clients[Role.ADMIN], person.email, "manager")
        token = self.last_token()
        token_url = f"/api/v1/auth/invitations/{token}/"
        csrf = self.csrf_token()
        response = self.client.post(f"{token_url}decline/", HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(self.client.get(token_url).json()["status"], "declined")
        self.assert_problem(
            self.accept(self.token_client(person), token), 409, code="invitation_declined"
        )

    def test_a_revoked_or_expired_invitation_cannot_be_accepted(self):
        person = verify(self.make_user("person@person.test"))
        response = self.invite(self.clients[Role.ADMIN], person.email)
        token = self.last_token()
        url = f"{self.invitations_url()}{response.json()['id']}/revoke/"
        self.assertEqual(self.clients[Role.ADMIN].post(url).status_code, 200)
        self.assert_problem(
            self.accept(self.token_client(person), token), 409, code="invitation_revoked"
        )
        self.invite(self.clients[Role.ADMIN], person.email)
        Invitation.objects.filter(status="pending").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        self.assert_problem(
            self.accept(self.token_client(person), self.last_token()),
            409,
            code="invitation_expired",
        )
        # An expired invitation does not block a new one.
        self.assertEqual(self.invite(self.clients[Role.ADMIN], person.email).status_code, 201)

    def test_resending_replaces_the_token(self):
        person = verify(self.make_user("person@person.test"))
        response = self.invite(self.clients[Role.ADMIN], person.email)
        old = self.last_token()
        url = f"{self.invitations_url()}{response.json()['id']}/resend/"
        with self.captureOnCommitCallbacks(execute=True):
            resent = self.clients[Role.ADMIN].post(url)
        self.assertEqual(resent.json()["send_count"], 2)
        new = self.last_token()
        self.assertNotEqual(old, new)
        self.assert_problem(self.accept(self.token_client(person), old), 404)
        self.assertEqual(self.accept(self.token_client(person), new).status_code, 200)

    def test_an_unknown_token_is_404(self):
        self.assert_problem(self.client.get("/api/v1/auth/invitations/nothing-here/"), 404)

    def test_a_second_pending_invitation_or_a_member_is_a_conflict(self):
        self.invite(self.clients[Role.ADMIN], "person@person.test")
        self.assert_problem(
            self.invite(self.clients[Role.ADMIN], "PERSON@person.test"), 409, code="duplicate"
        )
        self.assert_problem(
            self.invite(self.clients[Role.ADMIN], self.users[Role.BASIC].email),
            409,
            code="already_member",
        )

    def test_a_new_account_is_created_from_the_invitation_verified_and_signed_in(self):
        self.invite(self.clients[Role.ADMIN], "fresh@person.test", "worker", modules=["tasks"])
        token = self.last_token()
        csrf = self.csrf_token()
        response = self.client.post(
            f"/api/v1/auth/invitations/{token}/accept/",
            {"password": OWN_PASSWORD, "first_name": "Fresh"},
            format="json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["role"], "worker")
        self.assertEqual(response.json()["modules"], ["tasks"])
        fresh = User.objects.get(email="fresh@person.test")
        self.assertTrue(fresh.email_verified)
        self.assertEqual(self.client.get("/api/v1/auth/me/").json()["email"], fresh.email)

    def test_creating_an_account_that_exists_asks_to_sign_in(self):
        existing = self.make_user("exists@person.test")
        self.invite(self.clients[Role.ADMIN], existing.email)
        csrf = self.csrf_token()
        response = self.client.post(
            f"/api/v1/auth/invitations/{self.last_token()}/accept/",
            {"password": OWN_PASSWORD},
            format="json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assert_problem(response, 409, code="sign_in_required")
        existing.refresh_from_db()
        self.assertTrue(existing.check_password(DEFAULT_PASSWORD))

    def test_anonymous_accept_needs_the_csrf_token(self):
        self.invite(self.clients[Role.ADMIN], "fresh@person.test")
        response = self.client.post(
            f"/api/v1/auth/invitations/{self.last_token()}/accept/",
            {"password": OWN_PASSWORD},
            format="json",
        )
        self.assert_problem(response, 403)
        self.assertFalse(User.objects.filter(email="fresh@person.test").exists())

    def test_the_invitation_team_is_joined(self):
        team = Team.objects.create(organization=self.org, name="Sales")
        person = verify(self.make_user("person@person.test"))
        self.invite(self.clients[Role.ADMIN], person.email, team=str(team.pk))
        self.assertEqual(self.accept(self.token_client(person), self.last_token()).status_code, 200)
        self.assertTrue(TeamMembership.objects.filter(team=team, user=person).exists())


class InviterPowerTests(InvitationMixin, TenantFixtureMixin, ApiTestCase):
    """Who may invite whom as what."""

    def test_a_manager_cannot_invite_an_admin_or_a_manager(self):
        for role in ("admin", "manager"):
            response = self.invite(self.clients[Role.MANAGER], "x@person.test", role)
            self.assert_problem(response, 403, field="role", code="role_escalation")
        self.assertFalse(Invitation.objects.exists())

    def test_a_manager_cannot_grant_modules_they_lack(self):
        response = self.invite(
            self.clients[Role.MANAGER], "x@person.test", "worker", modules=["finance"]
        )
        self.assert_problem(response, 403, field="modules", code="module_escalation")

    def test_a_manager_invites_only_into_teams_they_lead(self):
        team = Team.objects.create(organization=self.org, name="Not mine")
        response = self.invite(
            self.clients[Role.MANAGER], "x@person.test", "worker", team=str(team.pk)
        )
        self.assert_problem(response, 403, field="team")

    def test_a_team_of_another_organization_is_a_400(self):
        team = Team.objects.create(organization=self.other, name="Theirs")
        response = self.invite(self.clients[Role.ADMIN], "x@person.test", team=str(team.pk))
        self.assert_problem(response, 400, field="team")

    def test_a_manager_resends_and_revokes_only_their_own(self):
        response = self.invite(self.clients[Role.ADMIN], "x@person.test")
        url = f"{self.invitations_url()}{response.json()['id']}/"
        self.assert_problem(self.clients[Role.MANAGER].post(f"{url}resend/"), 403)
        self.assert_problem(self.clients[Role.MANAGER].post(f"{url}revoke/"), 403)
        mine = self.invite(self.clients[Role.MANAGER], "y@person.test")
        url = f"{self.invitations_url()}{mine.json()['id']}/revoke/"
        self.assertEqual(self.clients[Role.MANAGER].post(url).status_code, 200)

    def test_workers_basic_members_and_clients_neither_see_nor_send_invitations(self):
        client_user = self.make_user("portal@person.test")
        Membership.objects.create(
            organization=self.org, user=client_user, role=Role.CLIENT, is_default=True
        )
        callers = [self.clients[Role.WORKER], self.clients[Role.BASIC]]
        callers.append(self.token_client(client_user))
        for caller in callers:
            self.assert_problem(caller.get(self.invitations_url()), 403)
            self.assert_problem(self.invite(caller, "x@person.test"), 403)

    def test_another_organizations_invitations_are_404(self):
        response = self.invite(self.other_client, "x@person.test", organization=self.other)
        invitation_id = response.json()["id"]
        url = f"{self.invitations_url(self.other)}{invitation_id}/"
        self.assert_problem(self.clients[Role.ADMIN].get(url), 404)
        self.assert_problem(self.clients[Role.ADMIN].post(f"{url}revoke/"), 404)
        mine = f"{self.invitations_url()}{invitation_id}/"
        self.assert_problem(self.clients[Role.ADMIN].get(mine), 404)
        self.assert_problem(self.clients[Role.ADMIN].post(f"{mine}resend/"), 404)


class ManagerTeamEscalationTests(TenantFixtureMixin, ApiTestCase):
    """Adding someone to a team a manager leads does not make them the manager's."""

    def setUp(self):
        super().setUp()
        self.team = Team.objects.create(
            organization=self.org, name="Led", lead=self.users[Role.MANAGER]
        )

    def member_url(self, role) -> str:
        membership = Membership.objects.get(organization=self.org, user=self.users[role])
        return f"/api/v1/organizations/{self.org.pk}/members/{membership.pk}/"

    def test_a_lead_cannot_pull_a_member_they_do_not_manage_into_their_team(self):
        manager = self.clients[Role.MANAGER]
        response = manager.post(
            f"/api/v1/teams/{self.team.pk}/members/",
            {"user": str(self.users[Role.WORKER].pk)},
            format="json",
        )
        self.assert_problem(response, 403, code="not_managed")
        self.assertFalse(TeamMembership.objects.filter(team=self.team).exists())
        self.assert_problem(manager.patch(self.member_url(Role.WORKER), {"role": "basic"}), 403)
        self.assert_problem(manager.delete(self.member_url(Role.WORKER)), 403)
        self.assertTrue(
            Membership.objects.filter(organization=self.org, user=self.users[Role.WORKER]).exists()
        )

    def test_an_admin_puts_members_in_the_team_and_then_the_lead_manages_them(self):
        response = self.clients[Role.ADMIN].post(
            f"/api/v1/teams/{self.team.pk}/members/",
            {"user": str(self.users[Role.WORKER].pk)},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        response = self.clients[Role.MANAGER].patch(
            self.member_url(Role.WORKER), {"role": "basic"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_a_lead_cannot_remove_another_manager_an_admin_put_in_their_team(self):
        other = self.make_user("manager2@org.test")
        Membership.objects.create(organization=self.org, user=other, role=Role.MANAGER)
        TeamMembership.objects.create(team=self.team, user=other)
        response = self.clients[Role.MANAGER].delete(
            f"/api/v1/teams/{self.team.pk}/members/{other.pk}/"
        )
        self.assert_problem(response, 403, code="not_managed")


class ClientPolicyTests(TenantFixtureMixin, ApiTestCase):
    """A portal client gets nothing the policy does not give them in the organization."""

    def setUp(self):
        super().setUp()
        self.portal_user = self.make_user("portal@client.test")
        Membership.objects.create(
            organization=self.org, user=self.portal_user, role=Role.CLIENT, is_default=True
        )
        self.portal = self.token_client(self.portal_user)

    def test_a_client_reads_neither_the_organization_nor_its_settings(self):
        base = f"/api/v1/organizations/{self.org.pk}/"
        self.assert_problem(self.portal.get(base), 403)
        self.assert_problem(self.portal.get(f"{base}settings/"), 403)
        self.assert_problem(self.portal.get(f"{base}members/"), 403)
        self.assert_problem(self.portal.get("/api/v1/teams/"), 403)
        self.assertEqual(self.portal.get("/api/v1/organizations/").json()["count"], 0)

    def test_a_client_changes_nothing(self):
        base = f"/api/v1/organizations/{self.org.pk}/"
        self.assert_problem(self.portal.patch(base, {"name": "Mine"}, format="json"), 403)
        self.assert_problem(
            self.portal.patch(f"{base}settings/", {"timezone": "UTC"}, format="json"), 403
        )

    def test_members_still_read_the_settings(self):
        url = f"/api/v1/organizations/{self.org.pk}/settings/"
        self.assertEqual(self.clients[Role.BASIC].get(url).status_code, 200)


class InvitationResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/organizations/{id}/invitations/``: isolation, role matrix, list queries."""

    url = "/api/v1/organizations/{org}/invitations/"
    verbs = ("list", "retrieve", "create")
    list_queries = 3

    def make_object(self, organization, index=0):
        return Invitation.objects.create(
            organization=organization,
            email=f"invitee{index}@person.test",
            role=Role.BASIC,
            token_hash=_invitation_token()[1],
            expires_at=timezone.now() + timedelta(days=7),
            sent_at=timezone.now(),
        )

    def create_data(self, index):
        return {"email": f"new{index}@person.test", "role": "basic"}


class ReclaimedAccountTests(InvitationMixin, TenantFixtureMixin, ApiTestCase):
    """An organization that creates or re-emails an account at an address loses it to its owner."""

    def setUp(self):
        super().setUp()
        response = self.clients[Role.ADMIN].post(
            "/api/v1/users/",
            {"email": "made-up@org.test", "password": DEFAULT_PASSWORD, "role": "worker"},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.account = User.objects.get(email="made-up@org.test")
        self.url = f"/api/v1/users/{self.account.pk}/"

    def test_re_emailing_an_account_leaves_the_new_address_unverified(self):
        verify(self.account)
        response = self.clients[Role.ADMIN].patch(
            self.url, {"email": "someone.else@victim.test"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.account.refresh_from_db()
        self.assertFalse(self.account.email_verified)
        self.invite(self.other_client, "someone.else@victim.test", "admin", self.other)
        response = self.accept(self.token_client(self.account), self.last_token())
        self.assert_problem(response, 403, code="email_not_verified")

    def test_a_self_service_reset_ends_the_organizations_management(self):
        csrf_client = self.client
        csrf = self.csrf_token()
        csrf_client.post(
            "/api/v1/auth/password/reset/", {"email": self.account.email}, HTTP_X_CSRFTOKEN=csrf
        )
        body = mail.outbox[-1].body
        uid = re.search(r"(?m)^uid: (\S+)$", body).group(1)
        token = re.search(r"(?m)^token: (\S+)$", body).group(1)
        response = csrf_client.post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": OWN_PASSWORD},
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assertEqual(response.status_code, 204, response.content)
        admin = self.clients[Role.ADMIN]
        for attempt in (
            admin.post(f"{self.url}reset-password/", {"password": "x-New-passphrase-12"}),
            admin.post(f"{self.url}lock/"),
            admin.patch(self.url, {"email": "elsewhere@org.test"}, format="json"),
        ):
            self.assert_problem(attempt, 403, code="account_not_managed")
        self.account.refresh_from_db()
        self.assertTrue(self.account.check_password(OWN_PASSWORD))

    def test_a_member_leaves_an_organization_they_never_chose(self):
        client = self.token_client(self.account)
        response = client.post(f"/api/v1/organizations/{self.org.pk}/leave/")
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(Membership.objects.filter(user=self.account).exists())
        self.assert_problem(client.get(f"/api/v1/organizations/{self.org.pk}/"), 404)

    def test_the_last_admin_cannot_leave(self):
        response = self.clients[Role.ADMIN].post(f"/api/v1/organizations/{self.org.pk}/leave/")
        self.assert_problem(response, 409, code="last_admin")

    def test_account_writes_are_limited_per_admin(self):
        rates = {"anon": "1000/min", "user": "1000/min", "login": "1000/min"}
        rates["account_admin"] = "3/hour"
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", rates):
            statuses = [
                self.clients[Role.ADMIN]
                .post(
                    "/api/v1/users/",
                    {"email": f"probe{i}@x.test", "password": DEFAULT_PASSWORD, "role": "basic"},
                    format="json",
                )
                .status_code
                for i in range(3)
            ]
        self.assertEqual(statuses, [201, 201, 429])  # setUp made the first of the three
