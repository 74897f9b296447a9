"""``POST /api/v1/tasks/bulk/`` and ``import/``: the generic bulk tests, and task rules in bulk."""

from valar.audit.models import AuditEvent
from valar.core.testing import ApiTestCase
from valar.core.testing.bulk import BulkResourceTestsMixin
from valar.organizations.models import Team
from valar.tasks.models import Task


class TaskBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """Tasks in bulk."""

    module = "tasks"
    url = "/api/v1/tasks/"
    update_data = {"title": "Changed", "priority": "urgent"}
    invalid_item = ({"title": ""}, "title")

    def make_object(self, organization, index=0):
        return Task.objects.create(organization=organization, title=f"Task {index}")

    def create_data(self, index):
        return {"title": f"New task {index}", "priority": "high", "due_date": "2026-03-01"}

    def foreign_item(self):
        team = Team.objects.create(organization=self.other, name="Theirs")
        return {"title": "Mine", "team": str(team.pk)}, "team"

    def import_row(self, index):
        return {
            "title": f"Imported {index}",
            "priority": "low",
            "due_date": "2026-04-0" + str(1 + index % 9),
        }

    def test_bulk_keeps_the_task_rules_completion_rank_and_reassignment(self):
        task = Task.objects.create(organization=self.org, title="Open")
        worker = self.users["worker"]
        response = self.bulk(
            {
                "create": [{"title": "Done at once", "status": "done", "priority": "urgent"}],
                "update": [{"id": str(task.pk), "status": "done", "assignee": str(worker.pk)}],
            }
        )
        self.assertEqual(response.status_code, 200, response.content)
        created = Task.objects.get(pk=response.json()["created"][0]["id"])
        self.assertIsNotNone(created.completed_at)
        self.assertEqual(created.priority_rank, Task.PRIORITY_RANK["urgent"])
        task.refresh_from_db()
        self.assertIsNotNone(task.completed_at)
        self.assertEqual(task.assignee, worker)
        self.assertEqual(response.json()["updated"][0]["assignee_name"], worker.email)
        reassign = AuditEvent.objects.get(action="task.reassign", object_id=str(task.pk))
        self.assertEqual(reassign.changes["assignee"]["new"], str(worker.pk))

    def test_an_xlsx_import_reads_typed_cells(self):
        import datetime

        rows = [{"title": "Typed", "due_date": datetime.date(2026, 5, 17), "priority": "high"}]
        self.imported(self.upload(self.xlsx_file(rows)))
        self.assertEqual(
            Task.objects.get(organization=self.org).due_date, datetime.date(2026, 5, 17)
        )
