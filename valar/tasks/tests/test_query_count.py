"""The task list's query count is pinned: it does not grow with the page size or the joins."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.organizations.models import Team
from valar.tasks.models import Task
from valar.tasks.tests import test_task_resource

URL = "/api/v1/tasks/"
#: The count the generic resource test pins for a list of bare tasks.
LIST_QUERIES = test_task_resource.TaskResourceTests.list_queries


class TaskListQueryCountTests(TenantFixtureMixin, ApiTestCase):
    """One list request costs the same number of queries whatever the page size."""

    module = "tasks"

    def setUp(self) -> None:
        """120 tasks, each with an assignee and a team (and an author) whose names are shown."""
        super().setUp()
        teams = [Team.objects.create(organization=self.org, name=f"Team {i}") for i in range(4)]
        members = [self.users[role] for role in (Role.ADMIN, Role.MANAGER, Role.WORKER)]
        today = datetime.date(2030, 1, 1)
        Task.objects.bulk_create(
            [
                Task(
                    organization=self.org,
                    title=f"Task {index}",
                    status=("todo", "in_progress", "done")[index % 3],
                    priority_rank=2,
                    due_date=today + datetime.timedelta(days=index),
                    assignee=members[index % len(members)],
                    team=teams[index % len(teams)],
                    created_by=members[(index + 1) % len(members)],
                )
                for index in range(120)
            ]
        )

    def count_queries(self, query: dict) -> int:
        """The queries of one list request, after one warm-up request with the same client."""
        client = self.clients[Role.MANAGER]
        client.get(URL, query)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, query)
        self.assertEqual(response.status_code, 200, response.content)
        results = response.json()["results"]
        self.assertEqual(len(results), query["page_size"])
        self.assertTrue(all(row["assignee_name"] and row["team_name"] for row in results))
        return len(queries)

    def test_the_query_count_is_the_same_for_pages_of_5_25_and_100(self):
        counts = {size: self.count_queries({"page_size": size}) for size in (5, 25, 100)}
        self.assertEqual(counts, {5: LIST_QUERIES, 25: LIST_QUERIES, 100: LIST_QUERIES})

    def test_filters_search_and_ordering_add_no_query(self):
        query = {
            "page_size": 25,
            "status": ["todo", "in_progress"],
            "ordering": "-priority",
            "search": "Task",
            "assignee": str(self.users[Role.ADMIN].pk),
        }
        self.assertEqual(self.count_queries({**query, "page_size": 5}), LIST_QUERIES)
        self.assertEqual(self.count_queries(query), LIST_QUERIES)
