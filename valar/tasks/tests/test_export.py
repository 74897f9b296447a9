"""``GET /api/v1/tasks/export/``: CSV and XLSX content, the list's filters, escaped formulas."""

import csv
import datetime
import io

from openpyxl import load_workbook

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Team
from valar.tasks.models import Task

EXPORT_URL = "/api/v1/tasks/export/"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "assignee",
    "assignee_name",
    "team",
    "team_name",
    "completed_at",
    "created_by",
    "created_at",
    "updated_at",
]


def stamp(value: datetime.datetime | None) -> str:
    """A datetime as the API writes it (UTC, microseconds, ``Z``), or an empty cell."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(value) -> str:
    """A value as its cell text (``None`` is an empty cell)."""
    return "" if value is None else str(value)


def expected_row(task: Task) -> list[str]:
    """The export row of a task, built from the database row, not from the API."""
    task = Task.objects.select_related("assignee", "team").get(pk=task.pk)
    return [
        str(task.pk),
        task.title,
        task.description,
        task.status,
        task.priority,
        task.due_date.isoformat() if task.due_date else "",
        text(task.assignee_id),
        task.assignee.full_name if task.assignee else "",
        text(task.team_id),
        task.team.name if task.team else "",
        stamp(task.completed_at),
        text(task.created_by_id),
        stamp(task.created_at),
        stamp(task.updated_at),
    ]


class TaskExportTests(TenantFixtureMixin, ApiTestCase):
    """The export's files hold the organization's filtered tasks, one row each."""

    module = "tasks"

    def setUp(self) -> None:
        """A manager's client and a few tasks of both organizations."""
        super().setUp()
        self.api = self.clients[Role.MANAGER]
        self.team = Team.objects.create(organization=self.org, name="Ops")
        worker = self.users[Role.WORKER]
        worker.first_name, worker.last_name = "Wanda", "Worker"
        worker.save(update_fields=["first_name", "last_name"])
        self.full = Task.objects.create(
            organization=self.org,
            title="Full row",
            description="Every column, filled",
            status=Task.Status.DONE,
            priority=Task.Priority.URGENT,
            due_date=datetime.date(2030, 5, 17),
            assignee=self.users[Role.WORKER],
            team=self.team,
            created_by=self.users[Role.ADMIN],
        )
        Task.objects.filter(pk=self.full.pk).update(
            completed_at=datetime.datetime(2030, 5, 16, 9, 30, 15, 123456, tzinfo=datetime.UTC)
        )
        self.bare = Task.objects.create(organization=self.org, title="Bare row")
        Task.objects.create(organization=self.other, title="Foreign row")

    def csv_rows(self, query: dict | None = None) -> list[list[str]]:
        """The CSV export's rows, header first, after checking it is a CSV attachment."""
        response = self.api.get(EXPORT_URL, {"format": "csv", **(query or {})})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="tasks.csv"')
        content = b"".join(response.streaming_content).decode()
        return list(csv.reader(io.StringIO(content)))

    def xlsx_rows(self, query: dict | None = None) -> list[list]:
        """The XLSX export's rows (cell values), header first, after opening it with openpyxl."""
        response = self.api.get(EXPORT_URL, {"format": "xlsx", **(query or {})})
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(response["Content-Type"], XLSX_TYPE)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="tasks.xlsx"')
        workbook = load_workbook(io.BytesIO(response.content))
        self.assertEqual(workbook.sheetnames, ["tasks"])
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]

    def test_the_csv_has_the_header_row_and_one_row_per_task_of_the_organization(self):
        rows = self.csv_rows()
        self.assertEqual(rows[0], HEADER)
        by_id = {row[0]: row for row in rows[1:]}
        self.assertEqual(len(rows), 3)
        self.assertEqual(by_id[str(self.full.pk)], expected_row(self.full))
        self.assertEqual(by_id[str(self.bare.pk)], expected_row(self.bare))

    def test_the_csv_full_row_holds_the_names_of_the_assignee_and_team(self):
        row = dict(zip(HEADER, self.csv_rows({"search": "Full"})[1], strict=True))
        self.assertEqual(row["assignee"], str(self.users[Role.WORKER].pk))
        self.assertEqual(row["assignee_name"], "Wanda Worker")
        self.assertEqual(row["team_name"], "Ops")
        self.assertEqual(row["due_date"], "2030-05-17")
        self.assertEqual(row["completed_at"], "2030-05-16T09:30:15.123456Z")
        self.assertEqual(row["status"], "done")
        self.assertEqual(row["priority"], "urgent")

    def test_csv_is_the_default_format(self):
        response = self.api.get(EXPORT_URL)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")

    def test_the_xlsx_opens_with_openpyxl_and_holds_the_same_rows_as_the_csv(self):
        Task.objects.create(
            organization=self.org,
            title="Third row",
            description="With a team only",
            priority=Task.Priority.HIGH,
            due_date=datetime.date(2030, 1, 2),
            team=self.team,
        )
        csv_rows = self.csv_rows()
        xlsx_rows = self.xlsx_rows()
        self.assertEqual(len(xlsx_rows), 4)
        self.assertEqual(xlsx_rows[0], HEADER)
        self.assertEqual([[text(value) for value in row] for row in xlsx_rows], csv_rows)

    def test_the_xlsx_full_row_holds_the_same_values_as_the_database(self):
        rows = self.xlsx_rows({"search": "Full"})
        self.assertEqual([text(value) for value in rows[1]], expected_row(self.full))

    def test_the_export_honours_the_lists_filters(self):
        today = datetime.date(2030, 5, 1)
        Task.objects.create(
            organization=self.org, title="Blocked early", status="blocked", due_date=today
        )
        Task.objects.create(organization=self.org, title="Blocked late", status="blocked")
        cases = [
            ({"status": "done"}, ["Full row"]),
            ({"status": "blocked", "end_date": "2030-05-01"}, ["Blocked early"]),
            ({"search": "bare"}, ["Bare row"]),
            ({"assignee": str(self.users[Role.WORKER].pk)}, ["Full row"]),
            ({"team": str(self.team.pk)}, ["Full row"]),
            ({"completed_after": "2030-05-17"}, []),
        ]
        for query, titles in cases:
            with self.subTest(query=query):
                rows = self.csv_rows(query)
                self.assertEqual(rows[0], HEADER)
                self.assertEqual([row[1] for row in rows[1:]], titles)

    def test_the_xlsx_export_honours_the_lists_filters_too(self):
        Task.objects.create(organization=self.org, title="Blocked", status="blocked")
        rows = self.xlsx_rows({"status": "blocked"})
        self.assertEqual([row[1] for row in rows], ["title", "Blocked"])
        self.assertEqual(self.xlsx_rows({"status": "in_progress"}), [HEADER])

    def test_the_export_honours_the_ordering(self):
        for title, day in (("Late", 20), ("Early", 2), ("Middle", 10)):
            Task.objects.create(
                organization=self.org, title=title, due_date=datetime.date(2030, 6, day)
            )
        rows = self.csv_rows({"ordering": "-due_date", "start_date": "2030-06-01"})
        self.assertEqual([row[1] for row in rows[1:]], ["Late", "Middle", "Early"])

    def test_the_export_is_not_paginated(self):
        Task.objects.bulk_create(
            [
                Task(organization=self.org, title=f"Bulk {index}", priority_rank=2)
                for index in range(40)
            ]
        )
        rows = self.csv_rows({"page_size": 5, "search": "Bulk"})
        self.assertEqual(len(rows), 41)

    def test_a_title_starting_with_equals_is_escaped_with_a_leading_apostrophe(self):
        payload = '=HYPERLINK("http://evil.test","x")'
        Task.objects.create(organization=self.org, title=payload, description="@SUM(A1:A2)")
        csv_row = self.csv_rows({"search": "HYPERLINK"})[1]
        self.assertEqual(csv_row[1], "'" + payload)
        self.assertEqual(csv_row[2], "'@SUM(A1:A2)")
        xlsx_row = self.xlsx_rows({"search": "HYPERLINK"})[1]
        self.assertEqual(xlsx_row[1], "'" + payload)
        self.assertEqual(xlsx_row[2], "'@SUM(A1:A2)")

    def test_the_api_still_answers_the_title_unescaped(self):
        task = Task.objects.create(organization=self.org, title="=1+2")
        self.assertEqual(self.api.get(f"/api/v1/tasks/{task.pk}/").json()["title"], "=1+2")

    def test_an_unknown_format_is_a_400_on_the_format_field(self):
        response = self.api.get(EXPORT_URL, {"format": "pdf"})
        self.assert_problem(response, 400, field="format")

    def test_an_invalid_filter_is_a_400_and_not_an_empty_file(self):
        response = self.api.get(EXPORT_URL, {"format": "csv", "assignee": "nobody"})
        self.assert_problem(response, 400, field="assignee")
