"""The ``support`` metrics source and ``support/summary/``: exact figures, tenancy, roles."""

import datetime

from django.utils import timezone

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.insights.tests.support import grant
from valar.support.models import Chat

URL = "/api/v1/support/summary/"
MARCH = {"start_date": "2025-03-01", "end_date": "2025-03-31"}
UTC = datetime.UTC


def at(day: str, hour: int = 12, minute: int = 0, second: float = 0) -> datetime.datetime:
    """An instant in UTC (the organizations' zone) on ``day`` (``YYYY-MM-DD``)."""
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)
    return moment + datetime.timedelta(seconds=second)


def chat(organization, *, created_at, status=Chat.Status.OPEN, **times) -> Chat:
    """A chat of ``organization`` with its timestamps written as given (``.update()``).

    ``times`` may name ``assignee``, ``priority``, ``first_response_at`` and ``closed_at``.
    """
    opener = organization.memberships.get(role=Role.ADMIN).user
    fields = {name: times.pop(name) for name in ("assignee", "priority") if name in times}
    made = Chat.objects.create(
        organization=organization, created_by=opener, subject="Help", status=status, **fields
    )
    Chat.objects.filter(pk=made.pk).update(created_at=created_at, **times)
    made.refresh_from_db()
    return made


class SupportFiguresMixin(TenantFixtureMixin):
    """Chats around March 2025 with known times, and one in the other organization.

    In March: 5 opened (2 open, 1 pending, 2 closed now), 3 closed (one opened in February),
    3 first answered. Seconds: first responses 90 (from 90.7), 301 and 45; resolutions 7,200,
    172,800 and 518,400.
    """

    module = "support"

    def setUp(self) -> None:
        """The chats (see the class)."""
        super().setUp()
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        closed = Chat.Status.CLOSED
        chat(
            self.org,
            created_at=at("2025-03-02", 10),
            first_response_at=at("2025-03-02", 10, second=90.7),
            closed_at=at("2025-03-02", 12),
            status=closed,
            assignee=worker,
            priority=Chat.Priority.HIGH,
        )
        chat(
            self.org,
            created_at=at("2025-03-05", 9),
            first_response_at=at("2025-03-05", 9, second=301),
            assignee=worker,
        )
        chat(
            self.org,
            created_at=at("2025-03-10", 8),
            first_response_at=at("2025-03-10", 8, second=45),
            closed_at=at("2025-03-12", 8),
            status=closed,
            assignee=manager,
        )
        chat(self.org, created_at=at("2025-03-20"), status=Chat.Status.PENDING)
        # Opened and answered in February, closed in March.
        chat(
            self.org,
            created_at=at("2025-02-25"),
            first_response_at=at("2025-02-25", second=60),
            closed_at=at("2025-03-03"),
            status=closed,
            assignee=manager,
        )
        # Opened in March, answered in April.
        chat(
            self.org,
            created_at=at("2025-03-30"),
            first_response_at=at("2025-04-01"),
            assignee=worker,
        )
        chat(
            self.other,
            created_at=at("2025-03-05"),
            first_response_at=at("2025-03-05", second=10),
            closed_at=at("2025-03-06"),
            status=closed,
        )


def timing(count: int, average=None, p50=None, p90=None) -> dict:
    """A duration's figures as the summary shows them."""
    return {"count": count, "average_seconds": average, "p50_seconds": p50, "p90_seconds": p90}


class SummaryTests(SupportFiguresMixin, ApiTestCase):
    """``support/summary/`` figures, computed by hand from the chats above."""

    def summary(self, role=Role.ADMIN, **params) -> dict:
        """The summary for March 2025 (and ``params``) as ``role``; must be a 200."""
        response = self.clients[role].get(URL, {**MARCH, **params})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_exact_figures_of_the_period(self):
        body = self.summary()
        self.assertEqual(
            (body["start_date"], body["end_date"], body["interval"]),
            ("2025-03-01", "2025-03-31", "month"),
        )
        self.assertEqual(body["opened"], 5)
        self.assertEqual(body["closed"], 3)
        self.assertEqual(body["by_status"], {"open": 2, "pending": 1, "closed": 2})
        # (90 + 301 + 45) / 3 and (7,200 + 172,800 + 518,400) / 3.
        self.assertEqual(body["first_response"], timing(3, 145.33, 90, 301))
        self.assertEqual(body["resolution"], timing(3, 232800.0, 172800, 518400))
        self.assertEqual(body["labels"], ["2025-03"])
        self.assertEqual(
            body["series"],
            [
                {"name": "opened", "key": None, "data": [5]},
                {"name": "closed", "key": None, "data": [3]},
            ],
        )

    def test_figures_by_assignee_unassigned_last(self):
        manager, worker = self.users[Role.MANAGER], self.users[Role.WORKER]
        self.assertEqual(
            self.summary()["by_assignee"],
            [
                {
                    "assignee": str(manager.pk),
                    "email": manager.email,
                    "opened": 1,
                    "closed": 2,
                    "first_response": timing(1, 45.0, 45, 45),
                    "resolution": timing(2, 345600.0, 172800, 518400),
                },
                {
                    "assignee": str(worker.pk),
                    "email": worker.email,
                    "opened": 3,
                    "closed": 1,
                    "first_response": timing(2, 195.5, 90, 301),
                    "resolution": timing(1, 7200.0, 7200, 7200),
                },
                {
                    "assignee": None,
                    "email": None,
                    "opened": 1,
                    "closed": 0,
                    "first_response": timing(0),
                    "resolution": timing(0),
                },
            ],
        )

    def test_series_follow_the_interval(self):
        body = self.summary(interval="week", start_date="2025-03-01", end_date="2025-03-14")
        self.assertEqual(body["labels"], ["2025-02-24", "2025-03-03", "2025-03-10"])
        self.assertEqual(
            [(s["name"], s["data"]) for s in body["series"]],
            [("opened", [1, 1, 1]), ("closed", [1, 1, 1])],
        )

    def test_an_empty_period_has_zeros_and_no_means(self):
        body = self.summary(start_date="2024-01-01", end_date="2024-01-31")
        self.assertEqual((body["opened"], body["closed"], body["by_assignee"]), (0, 0, []))
        self.assertEqual(body["first_response"], timing(0))
        self.assertEqual(body["by_status"], {"open": 0, "pending": 0, "closed": 0})

    def test_another_organizations_chats_are_never_counted(self):
        self.assertEqual(self.summary()["closed"], 3)
        response = self.other_client.get(URL, MARCH)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual((body["opened"], body["closed"]), (1, 1))
        self.assertEqual(body["first_response"], timing(1, 10.0, 10, 10))
        self.assertEqual([row["assignee"] for row in body["by_assignee"]], [None])
        # The other organization's admin naming this one is refused, never served its figures.
        response = self.other_client.get(URL, MARCH, HTTP_X_ORGANIZATION=str(self.org.pk))
        self.assertEqual(response.status_code, 403, response.content)

    def test_agents_read_it_members_who_read_their_own_chats_do_not(self):
        expected = {
            Role.ADMIN: 200,
            Role.MANAGER: 200,
            Role.WORKER: 200,
            Role.BASIC: 403,
            Role.CLIENT: 403,
        }
        got = {role: self.clients[role].get(URL, MARCH).status_code for role in expected}
        self.assertEqual(got, expected)
        grant(self.org, self.users[Role.WORKER], [])
        self.assertEqual(self.token_client(self.users[Role.WORKER]).get(URL).status_code, 403)
        self.assertEqual(self.client.get(URL).status_code, 401)

    def test_bad_parameters_are_400(self):
        client = self.clients[Role.ADMIN]
        for params, field in (
            ({"interval": "hour"}, "interval"),
            ({"start_date": "2025-03-02", "end_date": "2025-03-01"}, "end_date"),
            ({"start_date": "2025-13-01"}, "start_date"),
            ({"start_date": "2015-01-01", "end_date": "2025-01-01"}, "end_date"),
        ):
            with self.subTest(params=params):
                self.assert_problem(client.get(URL, params), 400, field=field)

    def test_query_count_is_pinned(self):
        client = self.clients[Role.ADMIN]
        client.get(URL, {"start_date": "2024-01-01", "end_date": "2024-01-31"})
        # The token, then one GROUP BY per figure: by status, by agent (opened, closed,
        # resolution seconds, answered, response seconds), the two series, and one
        # window-function query per duration for its percentiles.
        with self.assertNumQueries(11):
            client.get(URL, MARCH)
        # Cached under the source's version: no GROUP BY (nor percentile query) again.
        with self.assertNumQueries(1):
            client.get(URL, MARCH)

    def test_every_write_of_a_chat_moves_the_figures_on(self):
        client = self.clients[Role.WORKER]
        today = timezone.localdate().isoformat()
        period = {"start_date": today, "end_date": today}
        self.assertEqual(self.summary(Role.WORKER, **period)["opened"], 0)
        basic = self.clients[Role.BASIC]
        opened = basic.post("/api/v1/support/chats/", {"subject": "Hi"}, format="json").json()
        self.assertEqual(self.summary(Role.WORKER, **period)["opened"], 1)
        path = f"/api/v1/support/chats/{opened['id']}/"
        # The opener's own message is no response; an agent's is (an UPDATE, bumped by hand).
        basic.post(f"{path}messages/", {"text": "Anyone?"}, format="json")
        self.assertEqual(self.summary(Role.WORKER, **period)["first_response"]["count"], 0)
        client.post(f"{path}messages/", {"text": "Here"}, format="json")
        self.assertEqual(self.summary(Role.WORKER, **period)["first_response"]["count"], 1)
        client.post(f"{path}close/")
        self.assertEqual(self.summary(Role.WORKER, **period)["resolution"]["count"], 1)
        client.post(f"{path}reopen/")
        self.assertEqual(self.summary(Role.WORKER, **period)["closed"], 0)
        self.clients[Role.ADMIN].delete(path)
        self.assertEqual(self.summary(Role.WORKER, **period)["opened"], 0)


class SourceTests(SupportFiguresMixin, ApiTestCase):
    """The ``support`` source through the insights engine (``insights/query/``)."""

    def query(self, spec: dict, role=Role.ADMIN) -> dict:
        """The document of ``spec`` from ``insights/query/``, equal to the engine's own run."""
        spec = {"source": "support", **MARCH, **spec}
        response = self.clients[role].post("/api/v1/insights/query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        fresh = run(organization=self.org, spec=spec, use_cache=False)
        self.assertEqual(
            {k: v for k, v in body.items() if k != "generated_at"},
            {k: v for k, v in fresh.items() if k != "generated_at"},
        )
        return body

    def test_insights_queries_the_support_source(self):
        body = self.query({"measure": "count", "interval": "month", "group_by": "status"})
        self.assertEqual(body["totals"], {"closed": 2, "open": 2, "pending": 1})
        self.assertIsNone(body["currency"])

    def test_seconds_are_whole_sums_by_the_date_chosen(self):
        body = self.query({"measure": "response_seconds", "date_field": "first_response_at"})
        self.assertEqual(body["totals"], {"support": 90 + 301 + 45})
        self.assertIsInstance(body["totals"]["support"], int)  # not 436.0
        body = self.query(
            {"measure": "resolution_seconds", "date_field": "closed_at", "interval": "week"}
        )
        # Weeks from Monday: 2025-02-24 (c1 on 03-02), 03-03 (the February chat), 03-10.
        self.assertEqual(body["series"][0]["data"], [7200, 518400, 172800, 0, 0, 0])
        self.assertEqual(body["totals"], {"support": 698400})

    def test_counts_of_answered_and_closed_chats_by_opening(self):
        by_priority = self.query({"measure": "answered", "group_by": "priority"})["totals"]
        self.assertEqual(by_priority, {"high": 1, "normal": 3})
        self.assertEqual(self.query({"measure": "closed"})["totals"], {"support": 2})
        filtered = self.query(
            {"measure": "count", "filters": {"assignee": str(self.users[Role.WORKER].pk)}}
        )
        self.assertEqual(filtered["totals"], {"support": 3})

    def test_members_who_read_their_own_chats_count_only_those(self):
        # A basic member reads their own chats (``view: own``): the pending chat is theirs.
        basic = self.users[Role.BASIC]
        Chat.objects.filter(organization=self.org, status=Chat.Status.PENDING).update(
            created_by=basic
        )
        grant(self.org, basic, ["support", "insights"])
        spec = {"source": "support", "measure": "count", **MARCH}
        response = self.token_client(basic).post("/api/v1/insights/query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["totals"], {"support": 1})
        self.assertEqual(response.json()["query"]["owner"], str(basic.pk))

    def test_a_member_without_the_module_may_not_query_it(self):
        grant(self.org, self.users[Role.WORKER], ["insights"])
        client = self.token_client(self.users[Role.WORKER])
        response = client.post(
            "/api/v1/insights/query/",
            {"source": "support", "measure": "count", **MARCH},
            format="json",
        )
        self.assertEqual(response.status_code, 403, response.content)
