"""Tasks: one path per state change (complete, reopen) and assignment notifications."""

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.notifications.models import Notification
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


class TaskStatePathTests(TenantFixtureMixin, ApiTestCase):
    """A PATCH of the status does what ``complete/`` and ``reopen/`` do, audit rows included."""

    module = "tasks"

    def audit_of(self, send, status: str = "todo") -> list:
        """The audit rows (action, changed fields) that ``send(task)`` writes for a new task."""
        task = Task.objects.create(organization=self.org, title="Work", status=status)
        AuditEvent.objects.all().delete()
        response = send(task)
        self.assertEqual(response.status_code, 200, response.content)
        return [
            (event.action, sorted(event.changes))
            for event in AuditEvent.objects.filter(object_id=str(task.pk)).order_by("created_at")
        ]

    def test_patching_status_done_is_the_completion(self):
        client = self.clients[Role.MANAGER]
        by_action = self.audit_of(lambda task: client.post(f"{URL}{task.pk}/complete/"))
        by_patch = self.audit_of(
            lambda task: client.patch(f"{URL}{task.pk}/", {"status": "done"}, format="json")
        )
        self.assertIn("task.complete", [action for action, _ in by_action])
        self.assertEqual(by_patch, by_action)

    def test_patching_a_done_task_back_to_todo_is_the_reopening(self):
        client = self.clients[Role.MANAGER]
        by_action = self.audit_of(lambda task: client.post(f"{URL}{task.pk}/reopen/"), "done")
        by_patch = self.audit_of(
            lambda task: client.patch(f"{URL}{task.pk}/", {"status": "todo"}, format="json"),
            "done",
        )
        self.assertIn("task.reopen", [action for action, _ in by_action])
        self.assertEqual(by_patch, by_action)

    def test_patching_a_done_task_to_in_progress_reopens_it_then_sets_the_status(self):
        task = Task.objects.create(organization=self.org, title="Again", status="done")
        response = self.clients[Role.MANAGER].patch(
            f"{URL}{task.pk}/", {"status": "in_progress", "title": "Again!"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "in_progress")
        self.assertEqual(response.json()["title"], "Again!")
        self.assertIsNone(response.json()["completed_at"])
        self.assertTrue(AuditEvent.objects.filter(action="task.reopen").exists())


class TaskAssignmentNotificationTests(TenantFixtureMixin, ApiTestCase):
    """A task given to someone else notifies them; taking one oneself notifies nobody."""

    module = "tasks"

    def notes(self) -> list:
        """Every notification as (recipient, kind, title)."""
        return list(Notification.objects.values_list("user__email", "kind", "title"))

    def test_creating_a_task_for_someone_else_notifies_them(self):
        response = self.clients[Role.MANAGER].post(
            URL, {"title": "Call Acme", "assignee": str(self.users[Role.WORKER].pk)}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.notes(), [("worker@org.test", "tasks", "Task assigned: Call Acme")])
        note = Notification.objects.get()
        self.assertEqual(note.organization, self.org)
        self.assertEqual(note.created_by, self.users[Role.MANAGER])
        self.assertEqual(note.link, f"/api/v1/tasks/{response.json()['id']}/")

    def test_assigning_oneself_notifies_nobody(self):
        worker = self.users[Role.WORKER]
        created = self.clients[Role.WORKER].post(
            URL, {"title": "Mine", "assignee": str(worker.pk)}, format="json"
        )
        self.assertEqual(created.status_code, 201, created.content)
        task_url = f"{URL}{created.json()['id']}/"
        self.clients[Role.WORKER].patch(task_url, {"assignee": None}, format="json")
        self.clients[Role.WORKER].patch(task_url, {"assignee": str(worker.pk)}, format="json")
        self.assertEqual(self.notes(), [])

    def test_reassigning_notifies_the_new_assignee_only_when_the_assignee_changes(self):
        task = Task.objects.create(
            organization=self.org, title="Moved", assignee=self.users[Role.WORKER]
        )
        client = self.clients[Role.ADMIN]
        client.patch(f"{URL}{task.pk}/", {"title": "Renamed"}, format="json")
        self.assertEqual(self.notes(), [])
        client.patch(
            f"{URL}{task.pk}/", {"assignee": str(self.users[Role.BASIC].pk)}, format="json"
        )
        self.assertEqual(self.notes(), [("basic@org.test", "tasks", "Task assigned: Renamed")])
