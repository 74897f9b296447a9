"""Edge inputs found by review: request ids with newlines, locale dates, reset windows."""

from unittest import mock

from rest_framework.throttling import SimpleRateThrottle

from valar.core.testing import ApiTestCase


class InputEdgeTests(ApiTestCase):
    """Inputs that once slipped past the kernel's checks."""

    def test_a_request_id_ending_in_a_newline_is_replaced_not_echoed(self):
        response = self.client.get("/api/v1/health/", HTTP_X_REQUEST_ID="abcd1234\n")
        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(response["X-Request-ID"], "abcd1234\n")
        self.assertRegex(response["X-Request-ID"], r"^[0-9a-f]{32}$")

    def test_dates_in_a_locale_format_are_refused(self):
        client = self.token_client(self.make_user())
        response = client.get("/api/v1/auth/login-logs/", {"start_date": "10/03/2025"})
        self.assert_problem(response, 400, field="start_date")

    def test_the_reset_header_never_exceeds_the_window(self):
        rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "5/min"}
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", rates):
            response = self.client.get("/api/v1/health/")
        self.assertLessEqual(int(response["X-RateLimit-Reset"]), 60)
        self.assertGreaterEqual(int(response["X-RateLimit-Reset"]), 59)


class ExportCellTests(ApiTestCase):
    """Values a serializer hands to an export become cells a spreadsheet can hold."""

    def test_uuids_and_dicts_become_text(self):
        import uuid

        from valar.core.exports import safe_cell

        value = uuid.uuid4()
        self.assertEqual(safe_cell(value), str(value))
        self.assertEqual(safe_cell({"a": 1}), "{'a': 1}")


class RowPlanTests(ApiTestCase):
    """Which serializers the row renderer takes on, and which it leaves to DRF."""

    def test_the_task_list_is_rendered_from_rows(self):
        from valar.core.rows import row_plan
        from valar.organizations.services import organization_create
        from valar.tasks.api import TaskSerializer
        from valar.tasks.models import Task
        from valar.tasks.selectors import task_display, task_list

        organization = organization_create(name="Rows", actor=self.make_user())
        plan = row_plan(TaskSerializer, task_display(task_list(organization=organization)))
        self.assertIsNotNone(plan)
        self.assertIn("assignee_name", plan.paths)
        self.assertIn("team__name", plan.paths)
        self.assertIn("assignee_id", plan.paths)
        # Without the annotation, assignee_name is no column: DRF renders instead.
        self.assertIsNone(row_plan(TaskSerializer, Task.objects.all()))

    def test_a_page_renders_datetimes_in_the_zone_current_at_render_time(self):
        """``render_page`` equals ``render`` per row, in whatever zone is current then."""
        import datetime

        from django.utils import timezone

        from valar.core.rows import row_plan
        from valar.organizations.services import organization_create
        from valar.tasks.api import TaskSerializer
        from valar.tasks.selectors import task_display, task_list

        organization = organization_create(name="Rows", actor=self.make_user())
        plan = row_plan(TaskSerializer, task_display(task_list(organization=organization)))
        row = dict.fromkeys(plan.paths)
        row["created_at"] = datetime.datetime(2025, 3, 1, 23, 30, tzinfo=datetime.UTC)
        utc = plan.render_page([row])
        self.assertEqual(utc, [plan.render(row)])
        with timezone.override("Asia/Tokyo"):
            tokyo = plan.render_page([row])
            self.assertEqual(tokyo, [plan.render(row)])
        self.assertTrue(utc[0]["created_at"].startswith("2025-03-01T23:30"))
        self.assertTrue(tokyo[0]["created_at"].startswith("2025-03-02T08:30"))

    def test_a_nested_serializer_falls_back_to_drf(self):
        from valar.core.rows import row_plan
        from valar.organizations.api import MembershipSerializer
        from valar.organizations.models import Membership

        self.assertIsNone(row_plan(MembershipSerializer, Membership.objects.all()))
