"""Who may manage whom: every escalation path is refused, the last admin stays."""

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Membership, Team, TeamMembership


class MembershipRuleTests(TenantFixtureMixin, ApiTestCase):
    """Escalation paths through ``organizations/{id}/members/``."""

    def members_url(self, membership=None) -> str:
        base = f"/api/v1/organizations/{self.org.pk}/members/"
        return f"{base}{membership.pk}/" if membership else base

    def membership(self, role) -> Membership:
        return Membership.objects.get(organization=self.org, user=self.users[role])

    def test_worker_cannot_promote_themself(self):
        response = self.clients[Role.WORKER].patch(
            self.members_url(self.membership(Role.WORKER)), {"role": "admin"}, format="json"
        )
        self.assert_problem(response, 403)
        self.assertEqual(self.membership(Role.WORKER).role, Role.WORKER)

    def test_manager_cannot_change_a_member_outside_the_teams_they_lead(self):
        response = self.clients[Role.MANAGER].patch(
            self.members_url(self.membership(Role.BASIC)), {"job_title": "X"}, format="json"
        )
        self.assert_problem(response, 403)

    def test_manager_changes_a_member_of_a_team_they_lead(self):
        team = Team.objects.create(organization=self.org, name="T", lead=self.users[Role.MANAGER])
        TeamMembership.objects.create(team=team, user=self.users[Role.BASIC])
        response = self.clients[Role.MANAGER].patch(
            self.members_url(self.membership(Role.BASIC)), {"role": "worker"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.membership(Role.BASIC).role, Role.WORKER)

    def test_manager_cannot_change_another_manager(self):
        other = self.make_user("manager2@org.test")
        membership = Membership.objects.create(
            organization=self.org, user=other, role=Role.MANAGER, is_default=True
        )
        response = self.clients[Role.MANAGER].patch(
            self.members_url(membership), {"role": "basic"}, format="json"
        )
        self.assert_problem(response, 403)

    def test_the_last_admin_cannot_be_demoted(self):
        response = self.clients[Role.ADMIN].patch(
            self.members_url(self.membership(Role.ADMIN)), {"role": "manager"}, format="json"
        )
        self.assert_problem(response, 409, code="last_admin")
        self.assertEqual(self.membership(Role.ADMIN).role, Role.ADMIN)

    def test_the_last_admin_cannot_be_removed(self):
        response = self.clients[Role.ADMIN].delete(self.members_url(self.membership(Role.ADMIN)))
        self.assert_problem(response, 409, code="last_admin")

    def test_an_admin_can_be_demoted_when_another_admin_remains(self):
        self.clients[Role.ADMIN].patch(
            self.members_url(self.membership(Role.MANAGER)), {"role": "admin"}, format="json"
        )
        response = self.clients[Role.ADMIN].patch(
            self.members_url(self.membership(Role.ADMIN)), {"role": "manager"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_members_cannot_be_added_without_an_invitation(self):
        newcomer = self.make_user("newcomer@org.test")
        response = self.clients[Role.ADMIN].post(
            self.members_url(), {"email": newcomer.email, "role": "admin"}, format="json"
        )
        self.assertIn(response.status_code, (403, 405))
        self.assertFalse(Membership.objects.filter(user=newcomer).exists())


class TenancyTests(TenantFixtureMixin, ApiTestCase):
    """The ``X-Organization`` header, foreign keys across organizations, and my permissions."""

    def test_the_header_selects_an_organization_by_slug_or_id(self):
        Membership.objects.create(
            organization=self.other, user=self.users[Role.BASIC], role=Role.MANAGER
        )
        client = self.clients[Role.BASIC]
        for reference in (self.other.slug, str(self.other.pk)):
            body = client.get("/api/v1/auth/me/permissions/", HTTP_X_ORGANIZATION=reference).json()
            self.assertEqual(body["organization"], str(self.other.pk))
            self.assertEqual(body["role"], "manager")
        body = client.get("/api/v1/auth/me/permissions/").json()
        self.assertEqual(body["organization"], str(self.org.pk))

    def test_a_non_member_naming_an_organization_gets_403(self):
        response = self.clients[Role.WORKER].get(
            "/api/v1/teams/", HTTP_X_ORGANIZATION=self.other.slug
        )
        self.assert_problem(response, 403)

    def test_a_foreign_key_to_another_organization_is_a_400(self):
        response = self.clients[Role.ADMIN].post(
            "/api/v1/teams/", {"name": "T", "lead": str(self.other_admin.pk)}, format="json"
        )
        self.assert_problem(response, 400, field="lead")

    def test_adding_a_user_of_another_organization_to_a_team_is_a_400(self):
        team = Team.objects.create(organization=self.org, name="T")
        response = self.clients[Role.ADMIN].post(
            f"/api/v1/teams/{team.pk}/members/", {"user": str(self.other_admin.pk)}, format="json"
        )
        self.assert_problem(response, 400, field="user")

    def test_team_members_are_added_listed_and_removed(self):
        team = Team.objects.create(organization=self.org, name="T", lead=self.users[Role.MANAGER])
        home = Team.objects.create(organization=self.org, name="H", lead=self.users[Role.MANAGER])
        url = f"/api/v1/teams/{team.pk}/members/"
        client = self.clients[Role.MANAGER]
        user = self.users[Role.WORKER]
        TeamMembership.objects.create(team=home, user=user)  # already managed by the manager
        self.assertEqual(client.post(url, {"user": str(user.pk)}, format="json").status_code, 201)
        self.assert_problem(client.post(url, {"user": str(user.pk)}, format="json"), 409)
        listed = client.get(url).json()
        self.assertEqual([row["email"] for row in listed["results"]], [user.email])
        self.assertEqual(client.delete(f"{url}{user.pk}/").status_code, 204)
        self.assertFalse(TeamMembership.objects.filter(team=team).exists())

    def test_a_teams_filter_sent_to_its_members_does_not_hide_the_team(self):
        """``teams/{id}/members/?search=`` is not the teams list's search: ignored, not a 404."""
        team = Team.objects.create(organization=self.org, name="T")
        TeamMembership.objects.create(team=team, user=self.users[Role.WORKER])
        response = self.clients[Role.ADMIN].get(
            f"/api/v1/teams/{team.pk}/members/", {"search": "no such team", "lead": str(team.pk)}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["count"], 1)

    def test_my_permissions_come_from_the_policy_table(self):
        body = self.clients[Role.WORKER].get("/api/v1/auth/me/permissions/").json()
        self.assertEqual(body["role"], "worker")
        self.assertEqual(body["permissions"]["organization"]["change"], "none")
        self.assertEqual(body["permissions"]["organization"]["view"], "all")
        self.assertEqual(body["permissions"]["finance"]["view"], "none")
        admin = self.clients[Role.ADMIN].get("/api/v1/auth/me/permissions/").json()
        self.assertEqual(admin["permissions"]["finance"]["delete"], "all")

    def test_a_user_without_organization_gets_403_on_tenant_endpoints(self):
        loner = self.make_user("loner@org.test")
        self.assert_problem(self.token_client(loner).get("/api/v1/teams/"), 403)

    def test_organizations_lists_only_the_callers(self):
        body = self.clients[Role.BASIC].get("/api/v1/organizations/").json()
        self.assertEqual([row["id"] for row in body["results"]], [str(self.org.pk)])
        self.assert_problem(
            self.clients[Role.BASIC].get(f"/api/v1/organizations/{self.other.pk}/"), 404
        )

    def test_only_admins_change_the_organization_and_its_settings(self):
        url = f"/api/v1/organizations/{self.org.pk}/"
        self.assert_problem(self.clients[Role.MANAGER].patch(url, {"name": "X"}), 403)
        response = self.clients[Role.ADMIN].patch(url, {"name": "Renamed"}, format="json")
        self.assertEqual(response.json()["name"], "Renamed")
        settings_url = f"{url}settings/"
        self.assertEqual(self.clients[Role.BASIC].get(settings_url).status_code, 200)
        self.assert_problem(
            self.clients[Role.MANAGER].patch(settings_url, {"timezone": "UTC"}, format="json"),
            403,
        )
        response = self.clients[Role.ADMIN].patch(
            settings_url, {"base_currency": "EUR", "timezone": "Europe/Madrid"}, format="json"
        )
        self.assertEqual(response.json()["base_currency"], "EUR")
        self.assert_problem(
            self.clients[Role.ADMIN].patch(settings_url, {"timezone": "Mars/Base"}, format="json"),
            400,
            field="timezone",
        )

    def test_register_with_an_organization_name_makes_the_user_its_admin(self):
        token = self.csrf_token()
        response = self.client.post(
            "/api/v1/auth/register/",
            {
                "email": "founder@new.test",
                "password": "founders-Long-passphrase-9",
                "organization_name": "New Co",
            },
            format="json",
            HTTP_X_CSRFTOKEN=token,
        )
        self.assertEqual(response.status_code, 202, response.content)
        membership = Membership.objects.get(user__email="founder@new.test")
        self.assertEqual(membership.role, Role.ADMIN)
        self.assertEqual(membership.organization.name, "New Co")
        self.assertTrue(membership.is_default)

    def test_the_api_root_lists_the_apps_and_their_endpoints(self):
        body = self.client.get("/api/v1/").json()
        self.assertIn("/api/v1/teams/", body["apps"]["teams"])
        self.assertIn("/api/v1/auth/login/", body["apps"]["auth"])


class TeamPowerTests(TenantFixtureMixin, ApiTestCase):
    """Managers cannot build themselves a team of anyone to manage them."""

    def test_a_manager_cannot_make_themself_a_teams_lead(self):
        team = Team.objects.create(
            organization=self.org, name="T", created_by=self.users[Role.MANAGER]
        )
        response = self.clients[Role.MANAGER].patch(
            f"/api/v1/teams/{team.pk}/", {"lead": str(self.users[Role.MANAGER].pk)}, format="json"
        )
        self.assert_problem(response, 403, field="lead")
        response = self.clients[Role.MANAGER].post(
            "/api/v1/teams/",
            {"name": "Mine", "lead": str(self.users[Role.MANAGER].pk)},
            format="json",
        )
        self.assert_problem(response, 403, field="lead")

    def test_a_manager_cannot_add_members_to_a_team_they_do_not_lead(self):
        team = Team.objects.create(organization=self.org, name="T")
        response = self.clients[Role.MANAGER].post(
            f"/api/v1/teams/{team.pk}/members/",
            {"user": str(self.users[Role.BASIC].pk)},
            format="json",
        )
        self.assert_problem(response, 403)
        self.assertFalse(TeamMembership.objects.filter(team=team).exists())


class CachedMembershipTests(TenantFixtureMixin, ApiTestCase):
    """The cached membership never outlives a change of role, modules or membership."""

    def test_a_role_change_applies_to_the_next_request(self):
        client = self.clients[Role.WORKER]
        self.assert_problem(client.post("/api/v1/teams/", {"name": "A"}, format="json"), 403)
        membership = Membership.objects.get(organization=self.org, user=self.users[Role.WORKER])
        self.clients[Role.ADMIN].patch(
            f"/api/v1/organizations/{self.org.pk}/members/{membership.pk}/",
            {"role": "manager"},
            format="json",
        )
        response = client.post("/api/v1/teams/", {"name": "A"}, format="json")
        self.assertEqual(response.status_code, 201, response.content)

    def test_a_removed_member_loses_access_at_once(self):
        client = self.clients[Role.BASIC]
        self.assertEqual(client.get("/api/v1/teams/").status_code, 200)
        membership = Membership.objects.get(organization=self.org, user=self.users[Role.BASIC])
        self.clients[Role.ADMIN].delete(
            f"/api/v1/organizations/{self.org.pk}/members/{membership.pk}/"
        )
        self.assert_problem(client.get("/api/v1/teams/"), 403)


class OrganizationReferenceTests(TenantFixtureMixin, ApiTestCase):
    """References that are neither an id nor a slug are simply not the caller's."""

    def test_a_garbled_organization_in_the_url_is_404(self):
        response = self.clients[Role.ADMIN].get("/api/v1/organizations/%C3%94%1A%08x/settings/")
        self.assert_problem(response, 404)

    def test_a_garbled_organization_header_is_403(self):
        response = self.clients[Role.ADMIN].get("/api/v1/teams/", HTTP_X_ORGANIZATION="Ô\x1a x")
        self.assert_problem(response, 403)
