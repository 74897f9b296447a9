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

    def test_a_status_change_in_bulk_is_the_complete_or_reopen_event_as_a_patch_is(self):
        open_task = Task.objects.create(organization=self.org, title="Open")
        done_task = Task.objects.create(organization=self.org, title="Done", status="done")
        response = self.bulk(
            {
                "update": [
                    {"id": str(open_task.pk), "status": "done"},
                    {"id": str(done_task.pk), "status": "in_progress"},
                ]
            }
        )
        self.assertEqual(response.status_code, 200, response.content)
        events = AuditEvent.objects.filter(action__in=("task.complete", "task.reopen"))
        self.assertEqual(
            sorted(events.values_list("action", "object_id")),
            sorted([("task.complete", str(open_task.pk)), ("task.reopen", str(done_task.pk))]),
        )
        # The same two changes one by one record the same events.
        single_open = Task.objects.create(organization=self.org, title="Open 2")
        single_done = Task.objects.create(organization=self.org, title="Done 2", status="done")
        client = self.clients["admin"]
        client.patch(f"{self.url}{single_open.pk}/", {"status": "done"}, format="json")
        client.patch(f"{self.url}{single_done.pk}/", {"status": "in_progress"}, format="json")
        self.assertEqual(
            sorted(
                AuditEvent.objects.filter(object_id__in=[str(single_open.pk), str(single_done.pk)])
                .exclude(action__in=("create", "update"))
                .values_list("action", flat=True)
            ),
            ["task.complete", "task.reopen"],
        )

    def test_tasks_given_in_bulk_notify_their_assignees_in_one_write(self):
        from valar.notifications.models import Notification

        worker, manager = self.users["worker"], self.users["manager"]
        admin = self.users["admin"]
        task = Task.objects.create(organization=self.org, title="Existing")
        mine = Task.objects.create(organization=self.org, title="Mine", assignee=worker)
        response = self.bulk(
            {
                "create": [
                    {"title": "For the worker", "assignee": str(worker.pk)},
                    {"title": "For me", "assignee": str(admin.pk)},
                    {"title": "For nobody"},
                ],
                "update": [
                    {"id": str(task.pk), "assignee": str(manager.pk)},
                    {"id": str(mine.pk), "title": "Still the worker's"},
                ],
            }
        )
        self.assertEqual(response.status_code, 200, response.content)
        got = Notification.objects.filter(organization=self.org, kind="tasks")
        self.assertEqual(
            sorted((row.user_id, row.title) for row in got),
            sorted(
                [
                    (worker.pk, "Task assigned: For the worker"),
                    (manager.pk, "Task assigned: Existing"),
                ]
            ),
        )
        self.assertTrue(all(row.created_by_id == admin.pk for row in got))

    def test_an_xlsx_import_reads_typed_cells(self):
        import datetime

        rows = [{"title": "Typed", "due_date": datetime.date(2026, 5, 17), "priority": "high"}]
        self.imported(self.upload(self.xlsx_file(rows)))
        self.assertEqual(
            Task.objects.get(organization=self.org).due_date, datetime.date(2026, 5, 17)
        )
