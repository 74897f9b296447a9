"""``insights/query/``: ad-hoc engine specs over the tasks, leads and deals sources."""

import datetime

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Deal, Lead
from valar.finance.models import Kind
from valar.insights.tests import support
from valar.tasks.models import Task

QUERY = support.INSIGHTS + "query/"
Q1 = {"start_date": "2025-01-01", "end_date": "2025-03-31"}


def d(text: str) -> datetime.date:
    """A date from ``YYYY-MM-DD``."""
    return datetime.date.fromisoformat(text)


def without_time(document: dict) -> dict:
    """A document without its generation instant (two runs differ only there)."""
    return {key: value for key, value in document.items() if key != "generated_at"}


class QueryTests(TenantFixtureMixin, ApiTestCase):
    """Specs run through the endpoint equal the engine's run and the figures computed here."""

    module = "insights"

    def setUp(self) -> None:
        """Tasks, leads and deals spread over the first quarter of 2025."""
        super().setUp()
        self.team = support.team(self.org, "Ops")
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        at = support.instant
        done = Task.Status.DONE
        self.tasks = [
            support.task(
                self.org,
                status=done,
                created_at=at(d("2025-01-03")),
                completed_at=at(d("2025-01-20")),
                due=d("2025-02-01"),
                assignee=worker,
                team=self.team,
                priority=Task.Priority.HIGH,
            ),
            support.task(
                self.org,
                status=done,
                created_at=at(d("2025-01-10")),
                completed_at=at(d("2025-03-02")),
                due=d("2025-03-01"),
                assignee=manager,
            ),
            support.task(
                self.org,
                status=Task.Status.TODO,
                created_at=at(d("2025-02-10")),
                due=d("2025-03-15"),
                assignee=worker,
                team=self.team,
            ),
            support.task(
                self.org,
                status=Task.Status.IN_PROGRESS,
                created_at=at(d("2025-03-31"), 23, 59, 59),
                due=d("2025-04-01"),
            ),
            support.task(self.org, status=done, created_at=at(d("2025-04-01"), 0)),
        ]
        for status, source, value, created in (
            (Lead.Status.NEW, Lead.Source.WEBSITE, "100.00", "2025-01-05"),
            (Lead.Status.CONVERTED, Lead.Source.WEBSITE, "250.50", "2025-02-05"),
            (Lead.Status.QUALIFIED, Lead.Source.REFERRAL, "1000.00", "2025-03-05"),
            (Lead.Status.NEW, Lead.Source.REFERRAL, None, "2025-03-06"),
            (Lead.Status.NEW, Lead.Source.EVENT, "5.00", "2024-12-31"),
        ):
            support.lead(
                self.org,
                status=status,
                source=source,
                estimated_value=value,
                created_at=at(d(created)),
            )
        for status, value, probability, created, closed, expected in (
            (Deal.Status.OPEN, "1234.56", 35, "2025-01-02", None, "2025-04-15"),
            (Deal.Status.OPEN, "99.99", 10, "2025-02-02", None, "2025-03-15"),
            (Deal.Status.OPEN, "10.01", 70, "2025-03-02", None, "2025-03-20"),
            (Deal.Status.WON, "500.00", 100, "2025-01-02", "2025-02-20", "2025-02-28"),
            (Deal.Status.LOST, "80.00", 0, "2025-01-03", "2025-03-01", None),
        ):
            support.deal(
                self.org,
                value,
                status=status,
                probability=probability,
                created_at=at(d(created)),
                closed_at=at(d(closed)) if closed else None,
                expected_close=d(expected) if expected else None,
                team=self.team,
            )
        support.task(self.other, status=done, created_at=at(d("2025-01-03")))
        support.deal(self.other, "777.00", created_at=at(d("2025-01-02")))

    def query(self, spec: dict, role=Role.ADMIN) -> dict:
        """The document of a spec run through the endpoint; checked against the engine."""
        response = self.clients[role].post(QUERY, spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        fresh = run(organization=self.org, spec=spec, use_cache=False)
        self.assertEqual(without_time(body), without_time(fresh))
        return body

    def test_tasks_by_month_of_creation(self):
        body = self.query({"source": "tasks", "measure": "count", "interval": "month", **Q1})
        self.assertEqual(body["labels"], ["2025-01", "2025-02", "2025-03"])
        self.assertEqual(body["series"], [{"name": "tasks", "key": None, "data": [2, 1, 1]}])
        self.assertEqual(body["totals"], {"tasks": 4})
        self.assertIsNone(body["currency"])

    def test_tasks_completed_filtered_by_a_text_status(self):
        spec = {
            "source": "tasks",
            "measure": "count",
            "interval": "month",
            "date_field": "completed_at",
            "filters": {"status": ["done"]},
            **Q1,
        }
        body = self.query(spec)
        self.assertEqual(body["series"][0]["data"], [1, 0, 1])
        self.assertEqual(body["query"]["filters"], {"status": ["done"]})
        self.assertEqual(body["query"]["date_field"], "completed_at")

    def test_tasks_by_due_date_grouped_by_status(self):
        spec = {
            "source": "tasks",
            "measure": "count",
            "date_field": "due_date",
            "group_by": "status",
            **Q1,
        }
        body = self.query(spec)
        self.assertEqual(
            [(s["key"], s["data"]) for s in body["series"]], [("done", [2]), ("todo", [1])]
        )

    def test_tasks_grouped_by_assignee_and_team_and_filtered_by_priority(self):
        body = self.query({"source": "tasks", "measure": "count", "group_by": "assignee", **Q1})
        by_name = {s["name"]: s["data"][0] for s in body["series"]}
        self.assertEqual(by_name, {"manager@org.test": 1, "worker@org.test": 2, "None": 1})
        body = self.query({"source": "tasks", "measure": "count", "group_by": "team", **Q1})
        self.assertEqual(
            [(s["key"], s["data"][0]) for s in body["series"]][0], (str(self.team.pk), 2)
        )
        spec = {"source": "tasks", "measure": "count", "filters": {"priority": "high"}, **Q1}
        self.assertEqual(self.query(spec)["totals"], {"tasks": 1})

    def test_leads_sum_of_estimated_value_by_source(self):
        spec = {"source": "leads", "measure": "sum", "group_by": "source", **Q1}
        body = self.query(spec)
        self.assertEqual(
            [(s["key"], s["data"][0]) for s in body["series"]],
            [("referral", "1000.00"), ("website", "350.50")],
        )
        self.assertEqual(body["currency"], "USD")
        count = self.query({"source": "leads", "measure": "count", **Q1})
        self.assertEqual(count["totals"], {"leads": 4})

    def test_leads_by_conversion_date(self):
        spec = {
            "source": "leads",
            "measure": "count",
            "date_field": "converted_at",
            "filters": {"status": ["converted"]},
            **Q1,
        }
        support.lead(
            self.org, status=Lead.Status.CONVERTED, converted_at=support.instant(d("2025-02-14"))
        )
        self.assertEqual(self.query(spec)["totals"], {"leads": 1})

    def test_deals_by_closing_and_expected_close_dates(self):
        won = {
            "source": "deals",
            "date_field": "closed_at",
            "filters": {"status": ["won"]},
            "interval": "month",
            **Q1,
        }
        self.assertEqual(self.query(won)["series"][0]["data"], ["0.00", "500.00", "0.00"])
        spec = {
            "source": "deals",
            "measure": "count",
            "date_field": "expected_close_date",
            "group_by": "status",
            **Q1,
        }
        body = self.query(spec)
        self.assertEqual(
            [(s["key"], s["data"][0]) for s in body["series"]], [("open", 2), ("won", 1)]
        )
        spec = {"source": "deals", "measure": "sum", "group_by": "team", **Q1}
        body = self.query(spec)
        self.assertEqual(body["series"][0]["name"], "Ops")
        self.assertEqual(body["totals"], {"Ops": "1924.56"})

    def test_a_source_whose_module_the_caller_lacks_is_403(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks"])
        client = self.clients[Role.WORKER]
        for source in ("deals", "leads", "income"):
            with self.subTest(source=source):
                spec = {"source": source, "measure": "count", **Q1}
                self.assert_problem(client.post(QUERY, spec, format="json"), 403)
        spec = {"source": "tasks", "measure": "count", **Q1}
        self.assertEqual(client.post(QUERY, spec, format="json").status_code, 200)

    def test_a_member_without_the_insights_module_is_403(self):
        support.grant(self.org, self.users[Role.WORKER], ["tasks"])
        spec = {"source": "tasks", "measure": "count", **Q1}
        response = self.clients[Role.WORKER].post(QUERY, spec, format="json")
        self.assert_problem(response, 403)

    def test_the_finance_sources_answer_for_an_admin(self):
        income = support.category(self.org, "Sales", Kind.INCOME)
        support.entry(self.org, income, "12.34", d("2025-02-02"))
        body = self.query({"source": "income", **Q1})
        self.assertEqual(body["totals"], {"income": "12.34"})

    def test_invalid_specs_are_400_with_errors_on_their_fields(self):
        client = self.clients[Role.ADMIN]
        cases = [
            ({"source": "nope", **Q1}, "source"),
            ({"source": "tasks", "measure": "sum", **Q1}, "measure"),
            ({"source": "deals", "measure": "median", **Q1}, "measure"),
            ({"source": "tasks", "date_field": "closed_at", **Q1}, "date_field"),
            ({"source": "deals", "date_field": "due_date", **Q1}, "date_field"),
            ({"source": "tasks", "group_by": "stage", **Q1}, "group_by"),
            ({"source": "tasks", "filters": {"team": ["not-an-id"]}, **Q1}, "filters"),
            ({"source": "tasks", "filters": {"colour": ["red"]}, **Q1}, "filters"),
            ({"source": "tasks", "filters": {"status": [{"x": 1}]}, **Q1}, "filters"),
            ({"source": "tasks", "interval": "fortnight", **Q1}, "interval"),
            (
                {"source": "tasks", "start_date": "2025-02-30", "end_date": "2025-03-01"},
                "start_date",
            ),
            ({"source": "tasks", "start_date": "2025-03-01", "end_date": "2025-02-01"}, "end_date"),
            ({"source": "tasks", "colour": "red", **Q1}, "colour"),
        ]
        for spec, field in cases:
            with self.subTest(field=field, spec=spec):
                body = self.assert_problem(
                    client.post(QUERY, spec, format="json"), 400, field=field
                )
                self.assertEqual(body["code"], "invalid_query")

    def test_a_body_that_is_not_an_object_is_400(self):
        response = self.clients[Role.ADMIN].post(QUERY, [1, 2], format="json")
        self.assert_problem(response, 400)
