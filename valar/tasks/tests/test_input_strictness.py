"""Inputs the tasks API must refuse or answer fully, pinned after review."""

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.tasks.models import Task


class TaskInputStrictnessTests(TenantFixtureMixin, ApiTestCase):
    """Dates only as YYYY-MM-DD, booleans only as true/false, full PATCH answers."""

    module = "tasks"

    def test_due_dates_in_other_iso_forms_are_refused(self):
        client = self.clients[Role.ADMIN]
        for value in ("20301231", "2030-W01-1", "31/12/2030"):
            with self.subTest(value=value):
                response = client.post(
                    "/api/v1/tasks/", {"title": "T", "due_date": value}, format="json"
                )
                self.assert_problem(response, 400, field="due_date")

    def test_overdue_accepts_only_true_or_false(self):
        client = self.clients[Role.ADMIN]
        for value in ("maybe", "1", "yes"):
            with self.subTest(value=value):
                response = client.get("/api/v1/tasks/", {"overdue": value})
                self.assert_problem(response, 400, field="overdue")
        self.assertEqual(client.get("/api/v1/tasks/", {"overdue": "TRUE"}).status_code, 200)

    def test_completed_before_the_last_accepted_day_is_accepted_and_later_is_a_400(self):
        client = self.clients[Role.ADMIN]
        response = client.get("/api/v1/tasks/", {"completed_before": "2200-12-31"})
        self.assertEqual(response.status_code, 200)
        for name in ("completed_before", "completed_after"):
            for value in ("9999-12-31", "0001-01-01", "2201-01-01", "1899-12-31"):
                with self.subTest(name=name, value=value):
                    response = client.get("/api/v1/tasks/", {name: value})
                    self.assert_problem(response, 400, field=name)

    def test_a_patch_answer_shows_every_field_even_without_a_team(self):
        task = Task.objects.create(organization=self.org, title="T")
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/tasks/{task.pk}/", {"title": "U"}, format="json"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.json()["team_name"])
        self.assertIsNone(response.json()["assignee_name"])
