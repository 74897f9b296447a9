"""Generic resource tests for ``/api/v1/tasks/``: isolation, role matrix, pages, queries."""

from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.tasks.models import Task


class TaskResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """The tasks list and detail endpoints."""

    module = "tasks"
    url = "/api/v1/tasks/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return Task.objects.create(organization=organization, title=f"Task {index}")

    def create_data(self, index):
        return {"title": f"New task {index}"}


class TaskOptionsTests(TenantResourceTestsMixin, ApiTestCase):
    """``OPTIONS /api/v1/tasks/`` says what the caller may do."""

    module = "tasks"
    url = "/api/v1/tasks/"
    list_queries = 3

    def make_object(self, organization, index=0):
        return Task.objects.create(organization=organization, title=f"Task {index}")

    def create_data(self, index):
        return {"title": f"New task {index}"}

    def test_options_lists_the_callers_permissions_and_hides_post_from_basic(self):
        worker = self.clients["worker"].options(self.url).json()
        self.assertEqual(
            worker["permissions"],
            {"view": "all", "create": "all", "change": "own", "delete": "own"},
        )
        self.assertIn("POST", worker["actions"])
        basic = self.clients["basic"].options(self.url).json()
        self.assertEqual(basic["permissions"]["create"], "none")
        self.assertNotIn("POST", basic.get("actions", {}))
