"""A task's life through the API: create, complete, reopen, delete; events and versions."""

from valar.audit.models import AuditEvent
from valar.core import versions
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Team
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


def detail(task_id) -> str:
    """The detail URL of a task."""
    return f"{URL}{task_id}/"


class TaskLifecycleTests(TenantFixtureMixin, ApiTestCase):
    """Create → complete → reopen → delete, with completion time kept right."""

    module = "tasks"

    def test_a_task_goes_from_creation_through_completion_and_reopening_to_deletion(self):
        client = self.clients[Role.MANAGER]

        created = client.post(URL, {"title": "Write the report"}, format="json")
        self.assertEqual(created.status_code, 201, created.content)
        body = created.json()
        self.assertEqual(body["status"], "todo")
        self.assertEqual(body["priority"], "medium")
        self.assertIsNone(body["completed_at"])
        self.assertEqual(body["created_by"], str(self.users[Role.MANAGER].pk))
        task = Task.objects.get(pk=body["id"])
        self.assertEqual(task.organization, self.org)
        self.assertEqual(task.created_by, self.users[Role.MANAGER])

        completed = client.post(f"{detail(task.pk)}complete/")
        self.assertEqual(completed.status_code, 200, completed.content)
        self.assertEqual(completed.json()["status"], "done")
        self.assertIsNotNone(completed.json()["completed_at"])
        task.refresh_from_db()
        self.assertEqual(task.status, Task.Status.DONE)
        self.assertIsNotNone(task.completed_at)

        self.assert_problem(client.post(f"{detail(task.pk)}complete/"), 409, code="already_done")

        reopened = client.post(f"{detail(task.pk)}reopen/")
        self.assertEqual(reopened.status_code, 200, reopened.content)
        self.assertEqual(reopened.json()["status"], "todo")
        self.assertIsNone(reopened.json()["completed_at"])
        task.refresh_from_db()
        self.assertEqual(task.status, Task.Status.TODO)
        self.assertIsNone(task.completed_at)

        self.assert_problem(client.post(f"{detail(task.pk)}reopen/"), 409, code="already_open")

        deleted = client.delete(detail(task.pk))
        self.assertEqual(deleted.status_code, 204)
        self.assertFalse(Task.objects.filter(pk=task.pk).exists())
        self.assert_problem(client.get(detail(task.pk)), 404)

    def test_a_second_completion_keeps_the_first_completion_time(self):
        task = Task.objects.create(organization=self.org, title="Once")
        client = self.clients[Role.MANAGER]
        first = client.post(f"{detail(task.pk)}complete/").json()["completed_at"]
        self.assert_problem(client.post(f"{detail(task.pk)}complete/"), 409)
        self.assertEqual(client.get(detail(task.pk)).json()["completed_at"], first)

    def test_a_cancelled_task_can_be_reopened(self):
        task = Task.objects.create(
            organization=self.org, title="Dropped", status=Task.Status.CANCELLED
        )
        response = self.clients[Role.MANAGER].post(f"{detail(task.pk)}reopen/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "todo")

    def test_patching_the_status_to_done_sets_the_completion_time_and_back_clears_it(self):
        task = Task.objects.create(organization=self.org, title="By hand")
        client = self.clients[Role.MANAGER]

        done = client.patch(detail(task.pk), {"status": "done"}, format="json")
        self.assertEqual(done.status_code, 200, done.content)
        self.assertIsNotNone(done.json()["completed_at"])
        task.refresh_from_db()
        self.assertIsNotNone(task.completed_at)

        back = client.patch(detail(task.pk), {"status": "in_progress"}, format="json")
        self.assertEqual(back.status_code, 200, back.content)
        self.assertEqual(back.json()["status"], "in_progress")
        self.assertIsNone(back.json()["completed_at"])
        task.refresh_from_db()
        self.assertIsNone(task.completed_at)

    def test_patching_another_field_of_a_done_task_keeps_its_completion_time(self):
        task = Task.objects.create(organization=self.org, title="Finished")
        client = self.clients[Role.MANAGER]
        client.post(f"{detail(task.pk)}complete/")
        task.refresh_from_db()
        completed_at = task.completed_at

        response = client.patch(detail(task.pk), {"title": "Finished, renamed"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        task.refresh_from_db()
        self.assertEqual(task.completed_at, completed_at)

    def test_creating_a_task_already_done_sets_its_completion_time(self):
        response = self.clients[Role.MANAGER].post(
            URL, {"title": "Done already", "status": "done"}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertIsNotNone(response.json()["completed_at"])

    def test_completing_writes_a_task_complete_event_with_the_actor(self):
        task = Task.objects.create(organization=self.org, title="Audited")
        self.clients[Role.MANAGER].post(f"{detail(task.pk)}complete/")
        event = AuditEvent.objects.get(action="task.complete", object_id=str(task.pk))
        self.assertEqual(event.actor, self.users[Role.MANAGER])
        self.assertEqual(event.organization, self.org)
        self.assertEqual(event.object_type, "tasks.task")

    def test_reopening_writes_a_task_reopen_event_with_the_actor(self):
        task = Task.objects.create(organization=self.org, title="Audited", status="done")
        self.clients[Role.ADMIN].post(f"{detail(task.pk)}reopen/")
        event = AuditEvent.objects.get(action="task.reopen", object_id=str(task.pk))
        self.assertEqual(event.actor, self.users[Role.ADMIN])
        self.assertEqual(event.organization, self.org)

    def test_a_refused_completion_writes_no_event(self):
        task = Task.objects.create(organization=self.org, title="Done", status="done")
        self.clients[Role.MANAGER].post(f"{detail(task.pk)}complete/")
        self.assertFalse(AuditEvent.objects.filter(action="task.complete").exists())

    def test_changing_the_assignee_writes_a_task_reassign_event_with_old_and_new(self):
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        task = Task.objects.create(organization=self.org, title="Moved", assignee=worker)
        response = self.clients[Role.ADMIN].patch(
            detail(task.pk), {"assignee": str(manager.pk)}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        event = AuditEvent.objects.get(action="task.reassign", object_id=str(task.pk))
        self.assertEqual(event.actor, self.users[Role.ADMIN])
        self.assertEqual(event.organization, self.org)
        self.assertEqual(
            event.changes, {"assignee": {"old": str(worker.pk), "new": str(manager.pk)}}
        )

    def test_a_change_that_keeps_the_assignee_writes_no_reassign_event(self):
        worker = self.users[Role.WORKER]
        task = Task.objects.create(organization=self.org, title="Stays", assignee=worker)
        response = self.clients[Role.ADMIN].patch(
            detail(task.pk), {"assignee": str(worker.pk), "title": "Renamed"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertFalse(AuditEvent.objects.filter(action="task.reassign").exists())

    def test_the_answer_to_a_reassignment_names_the_new_assignee_and_team(self):
        manager = self.users[Role.MANAGER]
        manager.first_name, manager.last_name = "Mona", "Manager"
        manager.save(update_fields=["first_name", "last_name"])
        team = Team.objects.create(organization=self.org, name="Ops")
        task = Task.objects.create(
            organization=self.org, title="Moved", assignee=self.users[Role.WORKER]
        )
        response = self.clients[Role.ADMIN].patch(
            detail(task.pk), {"assignee": str(manager.pk), "team": str(team.pk)}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["assignee"], str(manager.pk))
        self.assertEqual(response.json()["assignee_name"], "Mona Manager")
        self.assertEqual(response.json()["team_name"], "Ops")

        cleared = self.clients[Role.ADMIN].patch(
            detail(task.pk), {"assignee": None, "team": None}, format="json"
        )
        self.assertEqual(cleared.status_code, 200, cleared.content)
        for field in ("assignee", "assignee_name", "team"):
            self.assertIsNone(cleared.json()[field], field)

    def test_the_assignee_name_is_the_full_name_or_else_the_email(self):
        names = {
            Role.ADMIN: ("Ada", "Admin"),
            Role.MANAGER: ("Solo", ""),
            Role.WORKER: ("", "Lastonly"),
            Role.BASIC: ("", ""),
        }
        for role, (first, last) in names.items():
            user = self.users[role]
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
            Task.objects.create(organization=self.org, title=f"For {role}", assignee=user)
        rows = self.clients[Role.ADMIN].get(URL).json()["results"]
        got = {row["title"]: row["assignee_name"] for row in rows}
        self.assertEqual(
            got,
            {
                "For admin": "Ada Admin",
                "For manager": "Solo",
                "For worker": "Lastonly",
                "For basic": self.users[Role.BASIC].email,
            },
        )

    def test_list_rows_detail_bodies_and_action_answers_agree_for_an_assigned_task(self):
        team = Team.objects.create(organization=self.org, name="Ops")
        task = Task.objects.create(
            organization=self.org,
            title="Same everywhere",
            assignee=self.users[Role.WORKER],
            team=team,
            due_date="2030-04-05",
            created_by=self.users[Role.ADMIN],
        )
        client = self.clients[Role.MANAGER]
        completed = client.post(f"{detail(task.pk)}complete/").json()
        body = client.get(detail(task.pk)).json()
        [row] = client.get(URL).json()["results"]
        self.assertEqual(completed, body)
        self.assertEqual(row, body)
        self.assertEqual(body["team"], str(team.pk))
        self.assertEqual(body["created_by"], str(self.users[Role.ADMIN].pk))
        self.assertEqual(body["due_date"], "2030-04-05")

    def test_every_write_bumps_the_tasks_source_version(self):
        client = self.clients[Role.MANAGER]
        team = Team.objects.create(organization=self.org, name="Ops")

        def bumped(send):
            before = versions.version(self.org.pk, "tasks")
            with self.captureOnCommitCallbacks(execute=True):
                response = send()
            self.assertLess(response.status_code, 300, response.content)
            self.assertNotEqual(versions.version(self.org.pk, "tasks"), before)
            return response

        task_id = bumped(lambda: client.post(URL, {"title": "Versioned"}, format="json")).json()[
            "id"
        ]
        bumped(lambda: client.patch(detail(task_id), {"title": "Changed"}, format="json"))
        bumped(lambda: client.put(detail(task_id), {"title": "Put", "team": str(team.pk)}))
        bumped(lambda: client.post(f"{detail(task_id)}complete/"))
        bumped(lambda: client.post(f"{detail(task_id)}reopen/"))
        bumped(lambda: client.delete(detail(task_id)))

    def test_a_write_does_not_bump_another_organizations_version(self):
        before = versions.version(self.other.pk, "tasks")
        with self.captureOnCommitCallbacks(execute=True):
            self.clients[Role.MANAGER].post(URL, {"title": "Ours"}, format="json")
        self.assertEqual(versions.version(self.other.pk, "tasks"), before)

    def test_a_read_does_not_bump_the_tasks_source_version(self):
        Task.objects.create(organization=self.org, title="Read me")
        before = versions.version(self.org.pk, "tasks")
        with self.captureOnCommitCallbacks(execute=True):
            self.clients[Role.MANAGER].get(URL)
        self.assertEqual(versions.version(self.org.pk, "tasks"), before)
