"""The ``support`` metrics source through the insights engine: exact figures, tenancy."""

import datetime

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.insights.tests.support import grant
from valar.support.models import Chat

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
