"""Every way a task body can be wrong is a 400 problem naming the field; extras are ignored."""

import uuid

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Team
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


class TaskValidationTests(TenantFixtureMixin, ApiTestCase):
    """The task body's rules, on create and on change."""

    module = "tasks"

    def setUp(self) -> None:
        """A manager's client (full access) so that only the body can be at fault."""
        super().setUp()
        self.client = self.clients[Role.MANAGER]

    def assert_refused(self, body: dict, field: str, *, task: Task | None = None) -> None:
        """Check ``body`` is a 400 on ``field`` (on create, or on a PATCH of ``task``)."""
        if task is None:
            count = Task.objects.count()
            response = self.client.post(URL, body, format="json")
        else:
            response = self.client.patch(f"{URL}{task.pk}/", body, format="json")
        problem = self.assert_problem(response, 400, field=field, code="invalid")
        self.assertTrue(problem["errors"][field], problem)
        if task is None:
            self.assertEqual(Task.objects.count(), count)

    def test_a_missing_title_is_refused(self):
        self.assert_refused({"description": "No title"}, "title")

    def test_a_blank_title_is_refused(self):
        self.assert_refused({"title": ""}, "title")

    def test_a_title_over_200_characters_is_refused(self):
        self.assert_refused({"title": "x" * 201}, "title")

    def test_a_title_of_exactly_200_characters_is_accepted(self):
        response = self.client.post(URL, {"title": "x" * 200}, format="json")
        self.assertEqual(response.status_code, 201, response.content)

    def test_an_unknown_status_is_refused(self):
        self.assert_refused({"title": "T", "status": "finished"}, "status")

    def test_an_unknown_priority_is_refused(self):
        self.assert_refused({"title": "T", "priority": "critical"}, "priority")

    def test_a_due_date_in_another_format_is_refused(self):
        for value in ("31/12/2030", "2030-13-01", "2030-02-30", "next week", "12"):
            with self.subTest(value=value):
                self.assert_refused({"title": "T", "due_date": value}, "due_date")

    def test_an_assignee_of_another_organization_is_refused(self):
        self.assert_refused({"title": "T", "assignee": str(self.other_admin.pk)}, "assignee")

    def test_an_assignee_who_belongs_to_no_organization_is_refused(self):
        loner = self.make_user("loner@nowhere.test")
        self.assert_refused({"title": "T", "assignee": str(loner.pk)}, "assignee")

    def test_an_assignee_that_does_not_exist_or_is_not_an_id_is_refused(self):
        for value in (str(uuid.uuid4()), "not-an-id", 42):
            with self.subTest(value=value):
                self.assert_refused({"title": "T", "assignee": value}, "assignee")

    def test_a_team_of_another_organization_is_refused(self):
        theirs = Team.objects.create(organization=self.other, name="Theirs")
        self.assert_refused({"title": "T", "team": str(theirs.pk)}, "team")

    def test_reassigning_to_someone_outside_the_organization_is_refused(self):
        task = Task.objects.create(
            organization=self.org, title="Ours", assignee=self.users[Role.WORKER]
        )
        self.assert_refused({"assignee": str(self.other_admin.pk)}, "assignee", task=task)
        task.refresh_from_db()
        self.assertEqual(task.assignee, self.users[Role.WORKER])

    def test_moving_a_task_to_a_team_of_another_organization_is_refused(self):
        task = Task.objects.create(organization=self.org, title="Ours")
        theirs = Team.objects.create(organization=self.other, name="Theirs")
        self.assert_refused({"team": str(theirs.pk)}, "team", task=task)
        task.refresh_from_db()
        self.assertIsNone(task.team)

    def test_a_change_with_a_title_over_200_characters_is_refused(self):
        task = Task.objects.create(organization=self.org, title="Short")
        self.assert_refused({"title": "y" * 201}, "title", task=task)
        task.refresh_from_db()
        self.assertEqual(task.title, "Short")

    def test_a_member_and_a_team_of_the_organization_are_accepted(self):
        team = Team.objects.create(organization=self.org, name="Ours")
        response = self.client.post(
            URL,
            {
                "title": "T",
                "assignee": str(self.users[Role.BASIC].pk),
                "team": str(team.pk),
                "due_date": "2030-12-31",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        task = Task.objects.get(pk=response.json()["id"])
        self.assertEqual(task.assignee, self.users[Role.BASIC])
        self.assertEqual(task.team, team)
        self.assertEqual(task.due_date.isoformat(), "2030-12-31")

    def test_id_completed_at_and_created_by_in_the_body_are_ignored_on_create(self):
        chosen_id = uuid.uuid4()
        response = self.client.post(
            URL,
            {
                "id": str(chosen_id),
                "title": "Mass assignment",
                "completed_at": "2020-01-01T00:00:00Z",
                "created_by": str(self.users[Role.BASIC].pk),
                "organization": str(self.other.pk),
                "created_at": "2020-01-01T00:00:00Z",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        task = Task.objects.get(pk=response.json()["id"])
        self.assertNotEqual(task.pk, chosen_id)
        self.assertIsNone(task.completed_at)
        self.assertEqual(task.created_by, self.users[Role.MANAGER])
        self.assertEqual(task.organization, self.org)
        self.assertNotEqual(task.created_at.year, 2020)

    def test_id_completed_at_and_created_by_in_the_body_are_ignored_on_change(self):
        task = Task.objects.create(
            organization=self.org, title="Mine", created_by=self.users[Role.WORKER]
        )
        original_id = task.pk
        response = self.client.patch(
            f"{URL}{task.pk}/",
            {
                "id": str(uuid.uuid4()),
                "completed_at": "2020-01-01T00:00:00Z",
                "created_by": str(self.users[Role.BASIC].pk),
                "organization": str(self.other.pk),
            },
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        task = Task.objects.get(pk=original_id)
        self.assertIsNone(task.completed_at)
        self.assertEqual(task.created_by, self.users[Role.WORKER])
        self.assertEqual(task.organization, self.org)
