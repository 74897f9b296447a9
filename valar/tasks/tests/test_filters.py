"""The task list's filters, search and orderings, checked against the exact rows returned."""

import datetime

from django.utils import timezone

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Team
from valar.tasks.models import Task

URL = "/api/v1/tasks/"


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0):
    """An aware datetime in the server's time zone."""
    naive = datetime.datetime(year, month, day, hour, minute, second)
    return timezone.make_aware(naive)


class TaskListMixin(TenantFixtureMixin):
    """Helpers to read the titles a list request answers."""

    module = "tasks"

    def titles(self, query: dict | str = "", role: str = Role.MANAGER) -> list[str]:
        """The titles of the list answer, in the order given (one page of up to 100)."""
        client = self.clients[role]
        if isinstance(query, str):
            response = client.get(f"{URL}?{query}&page_size=100")
        else:
            response = client.get(URL, {**query, "page_size": 100})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["count"], len(body["results"]))
        return [row["title"] for row in body["results"]]

    def title_set(self, query: dict | str = "", role: str = Role.MANAGER) -> set[str]:
        """The titles of the list answer, as a set (for filters without an order)."""
        found = self.titles(query, role)
        self.assertEqual(len(found), len(set(found)), "a row came back twice")
        return set(found)


class TaskFilterTests(TaskListMixin, ApiTestCase):
    """Each filter of ``GET /api/v1/tasks/`` on one known set of tasks."""

    def setUp(self) -> None:
        """Seven tasks spread over statuses, priorities, due dates, assignees and teams."""
        super().setUp()
        self.today = timezone.localdate()
        self.ops = Team.objects.create(organization=self.org, name="Ops")
        self.sales = Team.objects.create(organization=self.org, name="Sales")
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]

        def task(title, status, priority, due_in, assignee=None, team=None, description=""):
            due = None if due_in is None else self.today + datetime.timedelta(days=due_in)
            return Task.objects.create(
                organization=self.org,
                title=title,
                description=description,
                status=status,
                priority=priority,
                due_date=due,
                assignee=assignee,
                team=team,
            )

        self.alpha = task("Alpha report", "todo", "low", -3, worker, self.ops, "Quarterly numbers")
        task("Beta", "blocked", "urgent", 5, manager, self.sales, "Send the REPORT to the bank")
        task("Gamma", "done", "high", -10, worker, self.ops)
        task("Delta", "cancelled", "medium", -1, manager)
        task("Epsilon", "in_progress", "medium", 0, None, self.sales)
        task("Zeta", "todo", "high", None)
        task("Eta", "in_progress", "low", -2, worker)
        # Another organization's task matches every filter and must never show.
        Task.objects.create(
            organization=self.other,
            title="Foreign report",
            status="todo",
            priority="low",
            due_date=self.today - datetime.timedelta(days=3),
        )

    def test_without_filters_the_list_holds_every_task_of_the_organization(self):
        self.assertEqual(
            self.title_set(),
            {"Alpha report", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta"},
        )

    def test_status_keeps_tasks_in_that_status(self):
        self.assertEqual(self.title_set({"status": "in_progress"}), {"Epsilon", "Eta"})

    def test_status_is_repeatable_and_keeps_tasks_in_any_of_the_statuses(self):
        self.assertEqual(
            self.title_set("status=todo&status=blocked"), {"Alpha report", "Beta", "Zeta"}
        )

    def test_an_unknown_status_is_a_400(self):
        for query in ("status=finished", "status=todo&status=finished"):
            with self.subTest(query=query):
                response = self.clients[Role.MANAGER].get(f"{URL}?{query}")
                self.assert_problem(response, 400, field="status")

    def test_priority_keeps_tasks_of_that_priority(self):
        self.assertEqual(self.title_set({"priority": "high"}), {"Gamma", "Zeta"})
        self.assertEqual(self.title_set({"priority": "urgent"}), {"Beta"})

    def test_an_unknown_priority_is_a_400(self):
        response = self.clients[Role.MANAGER].get(URL, {"priority": "critical"})
        self.assert_problem(response, 400, field="priority")

    def test_assignee_keeps_tasks_assigned_to_that_user(self):
        worker = self.users[Role.WORKER]
        self.assertEqual(
            self.title_set({"assignee": str(worker.pk)}), {"Alpha report", "Gamma", "Eta"}
        )

    def test_assignee_me_keeps_tasks_assigned_to_the_caller(self):
        self.assertEqual(
            self.title_set({"assignee": "me"}, role=Role.WORKER), {"Alpha report", "Gamma", "Eta"}
        )
        self.assertEqual(self.title_set({"assignee": "me"}, role=Role.MANAGER), {"Beta", "Delta"})
        self.assertEqual(self.title_set({"assignee": "me"}, role=Role.BASIC), set())

    def test_assignee_of_an_unknown_user_keeps_nothing(self):
        self.assertEqual(self.title_set({"assignee": str(self.other_admin.pk)}), set())

    def test_an_assignee_that_is_neither_an_id_nor_me_is_a_400(self):
        for value in ("someone", "ME", "12"):
            with self.subTest(value=value):
                response = self.clients[Role.MANAGER].get(URL, {"assignee": value})
                self.assert_problem(response, 400, field="assignee")

    def test_team_keeps_tasks_of_that_team(self):
        self.assertEqual(self.title_set({"team": str(self.ops.pk)}), {"Alpha report", "Gamma"})
        self.assertEqual(self.title_set({"team": str(self.sales.pk)}), {"Beta", "Epsilon"})

    def test_a_team_that_is_not_an_id_is_a_400(self):
        response = self.clients[Role.MANAGER].get(URL, {"team": "ops"})
        self.assert_problem(response, 400, field="team")

    def test_overdue_true_keeps_open_tasks_due_before_today(self):
        self.assertEqual(self.title_set({"overdue": "true"}), {"Alpha report", "Eta"})

    def test_overdue_false_keeps_everything_else_including_tasks_without_a_due_date(self):
        self.assertEqual(
            self.title_set({"overdue": "false"}), {"Beta", "Gamma", "Delta", "Epsilon", "Zeta"}
        )

    def test_start_and_end_date_keep_tasks_due_in_the_range_inclusive(self):
        query = {
            "start_date": (self.today - datetime.timedelta(days=3)).isoformat(),
            "end_date": self.today.isoformat(),
        }
        self.assertEqual(self.title_set(query), {"Alpha report", "Delta", "Epsilon", "Eta"})

    def test_start_date_alone_keeps_tasks_due_on_or_after_it(self):
        self.assertEqual(
            self.title_set({"start_date": self.today.isoformat()}), {"Beta", "Epsilon"}
        )

    def test_end_date_alone_keeps_tasks_due_on_or_before_it(self):
        end = (self.today - datetime.timedelta(days=3)).isoformat()
        self.assertEqual(self.title_set({"end_date": end}), {"Alpha report", "Gamma"})

    def test_an_end_date_before_the_start_date_is_a_400(self):
        response = self.clients[Role.MANAGER].get(
            URL, {"start_date": "2030-01-02", "end_date": "2030-01-01"}
        )
        self.assert_problem(response, 400, field="end_date")

    def test_a_date_that_is_not_yyyy_mm_dd_is_a_400(self):
        for name in ("start_date", "end_date", "completed_after", "completed_before"):
            with self.subTest(name=name):
                response = self.clients[Role.MANAGER].get(URL, {name: "03/01/2030"})
                self.assert_problem(response, 400, field=name)

    def test_search_matches_the_title_or_the_description_whatever_the_case(self):
        self.assertEqual(self.title_set({"search": "report"}), {"Alpha report", "Beta"})
        self.assertEqual(self.title_set({"search": "QUARTERLY"}), {"Alpha report"})
        self.assertEqual(self.title_set({"search": "bank"}), {"Beta"})
        self.assertEqual(self.title_set({"search": "nowhere"}), set())

    def test_filters_combine(self):
        self.assertEqual(
            self.title_set({"assignee": "me", "overdue": "true", "priority": "low"}, Role.WORKER),
            {"Alpha report", "Eta"},
        )
        self.assertEqual(
            self.title_set(f"status=todo&status=blocked&team={self.sales.pk}&search=report"),
            {"Beta"},
        )


class TaskCompletedFilterTests(TaskListMixin, ApiTestCase):
    """``completed_after`` / ``completed_before``: whole days of the completion time."""

    def setUp(self) -> None:
        """Done tasks completed at known instants, and an open one."""
        super().setUp()
        completions = {
            "March 10": at(2030, 3, 10),
            "March 15 at midnight": at(2030, 3, 15, 0, 0, 0),
            "March 20 at the last second": at(2030, 3, 20, 23, 59, 59),
            "March 21 at midnight": at(2030, 3, 21, 0, 0, 0),
        }
        for title, completed_at in completions.items():
            task = Task.objects.create(organization=self.org, title=title, status="done")
            Task.objects.filter(pk=task.pk).update(completed_at=completed_at)
        Task.objects.create(organization=self.org, title="Open")

    def test_completed_after_keeps_tasks_completed_on_or_after_the_day(self):
        self.assertEqual(
            self.title_set({"completed_after": "2030-03-15"}),
            {"March 15 at midnight", "March 20 at the last second", "March 21 at midnight"},
        )

    def test_completed_before_keeps_tasks_completed_on_or_before_the_day(self):
        self.assertEqual(
            self.title_set({"completed_before": "2030-03-20"}),
            {"March 10", "March 15 at midnight", "March 20 at the last second"},
        )

    def test_completed_after_and_before_together_keep_the_range(self):
        self.assertEqual(
            self.title_set({"completed_after": "2030-03-11", "completed_before": "2030-03-20"}),
            {"March 15 at midnight", "March 20 at the last second"},
        )

    def test_a_single_day_range_keeps_that_day_only(self):
        self.assertEqual(
            self.title_set({"completed_after": "2030-03-21", "completed_before": "2030-03-21"}),
            {"March 21 at midnight"},
        )


class TaskOrderingTests(TaskListMixin, ApiTestCase):
    """``ordering=`` on each allowed field, both ways."""

    def make(self, title: str, **fields) -> Task:
        """A task of the organization."""
        return Task.objects.create(organization=self.org, title=title, **fields)

    def test_due_date_orders_ascending_and_descending(self):
        today = timezone.localdate()
        for title, days in (("In five", 5), ("Ten ago", -10), ("Today", 0), ("Two ago", -2)):
            self.make(title, due_date=today + datetime.timedelta(days=days))
        self.assertEqual(
            self.titles({"ordering": "due_date"}), ["Ten ago", "Two ago", "Today", "In five"]
        )
        self.assertEqual(
            self.titles({"ordering": "-due_date"}), ["In five", "Today", "Two ago", "Ten ago"]
        )

    def test_priority_orders_by_meaning_not_by_alphabet(self):
        for priority in ("high", "low", "urgent", "medium"):
            self.make(f"Priority {priority}", priority=priority)
        self.assertEqual(
            self.titles({"ordering": "priority"}),
            ["Priority low", "Priority medium", "Priority high", "Priority urgent"],
        )
        self.assertEqual(
            self.titles({"ordering": "-priority"}),
            ["Priority urgent", "Priority high", "Priority medium", "Priority low"],
        )

    def test_priority_order_follows_a_priority_changed_through_the_api(self):
        low = self.make("Was low", priority="low")
        self.make("Medium", priority="medium")
        response = self.clients[Role.MANAGER].patch(f"{URL}{low.pk}/", {"priority": "urgent"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.titles({"ordering": "-priority"}), ["Was low", "Medium"])

    def test_priority_then_due_date_breaks_ties_by_the_second_field(self):
        today = timezone.localdate()
        self.make("High later", priority="high", due_date=today + datetime.timedelta(days=9))
        self.make("Low", priority="low", due_date=today)
        self.make("High sooner", priority="high", due_date=today + datetime.timedelta(days=1))
        self.assertEqual(
            self.titles({"ordering": "-priority,due_date"}), ["High sooner", "High later", "Low"]
        )

    def test_created_at_orders_ascending_and_descending_and_newest_first_is_the_default(self):
        stamps = {"Second": at(2030, 1, 2), "First": at(2030, 1, 1), "Third": at(2030, 1, 3)}
        for title, stamp in stamps.items():
            task = self.make(title)
            Task.objects.filter(pk=task.pk).update(created_at=stamp)
        self.assertEqual(self.titles({"ordering": "created_at"}), ["First", "Second", "Third"])
        self.assertEqual(self.titles({"ordering": "-created_at"}), ["Third", "Second", "First"])
        self.assertEqual(self.titles(), ["Third", "Second", "First"])

    def test_updated_at_orders_ascending_and_descending(self):
        created = {"A": at(2030, 1, 1), "B": at(2030, 1, 2), "C": at(2030, 1, 3)}
        updated = {"A": at(2030, 2, 2), "B": at(2030, 2, 3), "C": at(2030, 2, 1)}
        for title in created:
            task = self.make(title)
            Task.objects.filter(pk=task.pk).update(
                created_at=created[title], updated_at=updated[title]
            )
        self.assertEqual(self.titles({"ordering": "updated_at"}), ["C", "A", "B"])
        self.assertEqual(self.titles({"ordering": "-updated_at"}), ["B", "A", "C"])

    def test_status_orders_by_its_stored_value(self):
        for status in ("todo", "done", "blocked", "in_progress", "cancelled"):
            self.make(f"Status {status}", status=status)
        expected = [f"Status {s}" for s in ("blocked", "cancelled", "done", "in_progress", "todo")]
        self.assertEqual(self.titles({"ordering": "status"}), expected)
        self.assertEqual(self.titles({"ordering": "-status"}), expected[::-1])

    def test_a_field_that_is_not_allowed_is_ignored_and_the_default_order_kept(self):
        for index, (title, priority) in enumerate((("B", "urgent"), ("A", "low"), ("C", "high"))):
            task = self.make(title, priority=priority)
            Task.objects.filter(pk=task.pk).update(created_at=at(2030, 1, 1 + index))
        for ordering in ("title", "priority_rank", "assignee__password", "description"):
            with self.subTest(ordering=ordering):
                self.assertEqual(self.titles({"ordering": ordering}), ["C", "A", "B"])
