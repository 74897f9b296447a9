"""Who may do what to a task: the policy table per role, ownership, and other organizations."""

import csv
import io

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Membership
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


def detail(task: Task) -> str:
    """The detail URL of a task."""
    return f"{URL}{task.pk}/"


def exported_titles(response) -> list[str]:
    """The titles of a CSV export, in order."""
    text = b"".join(response.streaming_content).decode()
    return [row["title"] for row in csv.DictReader(io.StringIO(text))]


class TaskPermissionTests(TenantFixtureMixin, ApiTestCase):
    """The role matrix of the task endpoints, including ``complete`` and ``reopen``."""

    module = "tasks"

    def make_task(self, *, created_by=None, assignee=None, status=Task.Status.TODO, **extra):
        """A task of the organization (the admin's, unless said otherwise)."""
        return Task.objects.create(
            organization=self.org,
            title=extra.pop("title", "A task"),
            created_by=created_by or self.users[Role.ADMIN],
            assignee=assignee,
            status=status,
            **extra,
        )

    def test_a_worker_can_create_a_task_and_is_its_author(self):
        response = self.clients[Role.WORKER].post(URL, {"title": "Mine"}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        task = Task.objects.get(pk=response.json()["id"])
        self.assertEqual(task.created_by, self.users[Role.WORKER])

    def test_a_worker_changes_completes_reopens_and_deletes_a_task_assigned_to_them(self):
        client = self.clients[Role.WORKER]
        task = self.make_task(assignee=self.users[Role.WORKER])
        self.assertEqual(client.patch(detail(task), {"title": "Ok"}).status_code, 200)
        self.assertEqual(client.put(detail(task), {"title": "Put"}).status_code, 200)
        self.assertEqual(client.post(f"{detail(task)}complete/").status_code, 200)
        self.assertEqual(client.post(f"{detail(task)}reopen/").status_code, 200)
        self.assertEqual(client.delete(detail(task)).status_code, 204)
        self.assertFalse(Task.objects.filter(pk=task.pk).exists())

    def test_a_worker_changes_completes_reopens_and_deletes_a_task_they_created(self):
        client = self.clients[Role.WORKER]
        task = self.make_task(created_by=self.users[Role.WORKER], assignee=self.users[Role.BASIC])
        self.assertEqual(client.patch(detail(task), {"title": "Ok"}).status_code, 200)
        self.assertEqual(client.post(f"{detail(task)}complete/").status_code, 200)
        self.assertEqual(client.post(f"{detail(task)}reopen/").status_code, 200)
        self.assertEqual(client.delete(detail(task)).status_code, 204)
        self.assertFalse(Task.objects.filter(pk=task.pk).exists())

    def test_a_worker_is_refused_every_change_to_a_task_of_someone_else(self):
        client = self.clients[Role.WORKER]
        open_task = self.make_task(title="Theirs", assignee=self.users[Role.MANAGER])
        done_task = self.make_task(title="Theirs, done", status=Task.Status.DONE)
        attempts = {
            "complete": lambda: client.post(f"{detail(open_task)}complete/"),
            "reopen": lambda: client.post(f"{detail(done_task)}reopen/"),
            "patch": lambda: client.patch(detail(open_task), {"title": "Hijacked"}),
            "put": lambda: client.put(detail(open_task), {"title": "Hijacked"}),
            "delete": lambda: client.delete(detail(open_task)),
        }
        for name, attempt in attempts.items():
            with self.subTest(name):
                self.assert_problem(attempt(), 403)
        open_task.refresh_from_db()
        done_task.refresh_from_db()
        self.assertEqual(open_task.title, "Theirs")
        self.assertEqual(open_task.status, Task.Status.TODO)
        self.assertEqual(done_task.status, Task.Status.DONE)
        self.assertFalse(AuditEvent.objects.filter(action__startswith="task.").exists())

    def test_a_worker_cannot_take_over_a_task_by_assigning_it_to_themselves(self):
        task = self.make_task(assignee=self.users[Role.MANAGER])
        response = self.clients[Role.WORKER].patch(
            detail(task), {"assignee": str(self.users[Role.WORKER].pk)}
        )
        self.assert_problem(response, 403)
        task.refresh_from_db()
        self.assertEqual(task.assignee, self.users[Role.MANAGER])

    def test_a_worker_still_reads_and_exports_tasks_of_others(self):
        client = self.clients[Role.WORKER]
        task = self.make_task(title="Visible")
        self.assertEqual(client.get(detail(task)).status_code, 200)
        self.assertEqual(client.get(URL).json()["count"], 1)
        self.assertEqual(exported_titles(client.get(f"{URL}export/")), ["Visible"])

    def test_a_basic_member_is_refused_creating_completing_and_changing(self):
        client = self.clients[Role.BASIC]
        task = self.make_task(assignee=self.users[Role.BASIC], created_by=self.users[Role.BASIC])
        done_task = self.make_task(assignee=self.users[Role.BASIC], status=Task.Status.DONE)
        self.assert_problem(client.post(URL, {"title": "No"}), 403)
        self.assert_problem(client.post(f"{detail(task)}complete/"), 403)
        self.assert_problem(client.post(f"{detail(done_task)}reopen/"), 403)
        self.assert_problem(client.patch(detail(task), {"title": "No"}), 403)
        self.assert_problem(client.delete(detail(task)), 403)
        self.assertEqual(Task.objects.count(), 2)
        task.refresh_from_db()
        self.assertEqual(task.status, Task.Status.TODO)

    def test_a_basic_member_reads_and_exports(self):
        client = self.clients[Role.BASIC]
        task = self.make_task(title="Readable")
        self.assertEqual(client.get(URL).status_code, 200)
        self.assertEqual(client.get(detail(task)).status_code, 200)
        self.assertEqual(exported_titles(client.get(f"{URL}export/")), ["Readable"])

    def test_managers_and_admins_do_everything_to_any_task(self):
        for role in (Role.MANAGER, Role.ADMIN):
            with self.subTest(role=role):
                client = self.clients[role]
                self.assertEqual(client.post(URL, {"title": "New"}).status_code, 201)
                task = self.make_task(
                    created_by=self.users[Role.WORKER], assignee=self.users[Role.WORKER]
                )
                self.assertEqual(client.patch(detail(task), {"title": "Ok"}).status_code, 200)
                self.assertEqual(client.put(detail(task), {"title": "Put"}).status_code, 200)
                self.assertEqual(client.post(f"{detail(task)}complete/").status_code, 200)
                self.assertEqual(client.post(f"{detail(task)}reopen/").status_code, 200)
                self.assertEqual(client.delete(detail(task)).status_code, 204)

    def test_a_member_without_the_tasks_module_is_refused_even_reading(self):
        user = self.make_user("nomodule@org.test")
        Membership.objects.create(
            organization=self.org, user=user, role=Role.MANAGER, modules=[], is_default=True
        )
        client = self.token_client(user)
        task = self.make_task()
        self.assert_problem(client.get(URL), 403)
        self.assert_problem(client.get(detail(task)), 403)
        self.assert_problem(client.get(f"{URL}export/"), 403)
        self.assert_problem(client.post(f"{detail(task)}complete/"), 403)

    def test_an_anonymous_caller_is_asked_to_authenticate(self):
        task = self.make_task()
        for response in (
            self.client.get(URL),
            self.client.post(f"{detail(task)}complete/"),
            self.client.get(f"{URL}export/"),
        ):
            self.assert_problem(response, 401)

    def test_complete_and_reopen_of_a_task_of_another_organization_are_404(self):
        open_task = self.make_task(title="Ours")
        done_task = self.make_task(title="Ours, done", status=Task.Status.DONE)
        self.assert_problem(self.other_client.post(f"{detail(open_task)}complete/"), 404)
        self.assert_problem(self.other_client.post(f"{detail(done_task)}reopen/"), 404)
        open_task.refresh_from_db()
        done_task.refresh_from_db()
        self.assertEqual(open_task.status, Task.Status.TODO)
        self.assertEqual(done_task.status, Task.Status.DONE)
        self.assertFalse(AuditEvent.objects.filter(action__startswith="task.").exists())

    def test_our_members_get_404_on_a_task_of_another_organization(self):
        theirs = Task.objects.create(organization=self.other, title="Theirs")
        client = self.clients[Role.ADMIN]
        self.assert_problem(client.get(detail(theirs)), 404)
        self.assert_problem(client.post(f"{detail(theirs)}complete/"), 404)
        self.assert_problem(client.patch(detail(theirs), {"title": "No"}), 404)
        self.assert_problem(client.delete(detail(theirs)), 404)
        theirs.refresh_from_db()
        self.assertEqual(theirs.title, "Theirs")

    def test_an_export_never_holds_tasks_of_another_organization(self):
        self.make_task(title="Ours")
        Task.objects.create(organization=self.other, title="Theirs")
        self.assertEqual(exported_titles(self.clients[Role.ADMIN].get(f"{URL}export/")), ["Ours"])
        self.assertEqual(exported_titles(self.other_client.get(f"{URL}export/")), ["Theirs"])
        for query in ({"search": "Ours"}, {"status": "todo"}, {"assignee": "me"}):
            with self.subTest(query=query):
                titles = exported_titles(self.other_client.get(f"{URL}export/", query))
                self.assertNotIn("Ours", titles)

    def test_options_answers_200_for_every_role_but_client(self):
        task = self.make_task()
        for role, client in self.clients.items():
            with self.subTest(role=role):
                expected = 403 if role == Role.CLIENT else 200
                self.assertEqual(client.options(URL).status_code, expected)
                self.assertEqual(client.options(detail(task)).status_code, expected)

    def test_options_on_a_task_offers_put_only_to_those_who_may_change_it(self):
        theirs = self.make_task(assignee=self.users[Role.MANAGER])
        mine = self.make_task(assignee=self.users[Role.WORKER])
        worker = self.clients[Role.WORKER]
        self.assertIn("PUT", worker.options(detail(mine)).json().get("actions", {}))
        self.assertNotIn("PUT", worker.options(detail(theirs)).json().get("actions", {}))
        manager = self.clients[Role.MANAGER].options(detail(theirs)).json()
        self.assertIn("PUT", manager.get("actions", {}))
        basic = self.clients[Role.BASIC].options(detail(mine)).json()
        self.assertNotIn("PUT", basic.get("actions", {}))

    def test_options_on_a_task_of_another_organization_reveals_nothing(self):
        ours = self.make_task()
        answer = self.other_client.options(detail(ours))
        missing = self.other_client.options(f"{URL}00000000-0000-0000-0000-000000000000/")
        self.assertEqual(answer.status_code, 200)
        self.assertNotIn("PUT", answer.json().get("actions", {}))
        self.assertEqual(answer.json(), missing.json())
