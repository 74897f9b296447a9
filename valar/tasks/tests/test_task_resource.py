"""Generic resource tests for ``/api/v1/tasks/``: isolation, role matrix, pages, queries."""

from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.tasks.models import Task


class TaskResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """The tasks list and detail endpoints."""

    module = "tasks"
    url = "/api/v1/tasks/"
    update_data = {"title": "Changed"}
    list_queries = 4

    def make_object(self, organization, index=0):
        return Task.objects.create(organization=organization, title=f"Task {index}")

    def create_data(self, index):
        return {"title": f"New task {index}"}
