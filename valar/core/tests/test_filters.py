"""Tests of the shared ``start_date``/``end_date`` filter on a datetime column."""

import datetime

import django_filters
from django.http import QueryDict
from django.test import SimpleTestCase, override_settings
from rest_framework.test import APIRequestFactory

from valar.accounts.models import LoginLog
from valar.core.filters import FilterBackend, form_once
from valar.core.testing import ApiTestCase
from valar.organizations.api import TeamViewSet
from valar.organizations.models import Team
from valar.tasks.models import Task
from valar.tasks.selectors import TaskFilter

LIST_URL = "/api/v1/auth/login-logs/"
UTC = datetime.UTC


class DateRangeFilterTests(ApiTestCase):
    """``start_date`` and ``end_date`` are inclusive whole days; bad ranges are a 400."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)
        moments = {
            "before": datetime.datetime(2025, 3, 9, 23, 59, 59, 999999, tzinfo=UTC),
            "first": datetime.datetime(2025, 3, 10, 0, 0, 0, tzinfo=UTC),
            "middle": datetime.datetime(2025, 3, 11, 12, 0, 0, tzinfo=UTC),
            "last": datetime.datetime(2025, 3, 12, 23, 59, 59, 999999, tzinfo=UTC),
            "after": datetime.datetime(2025, 3, 13, 0, 0, 0, tzinfo=UTC),
        }
        for label, moment in moments.items():
            LoginLog.objects.create(
                user=self.user,
                email=self.user.email,
                created_at=moment,
                successful=True,
                reason=LoginLog.Reason.SUCCESS,
                platform=label,
            )

    def platforms(self, query: str) -> list[str]:
        response = self.api.get(f"{LIST_URL}?{query}")
        self.assertEqual(response.status_code, 200, response.content)
        return sorted(row["platform"] for row in response.json()["results"])

    def test_both_bounds_are_inclusive_whole_days(self):
        self.assertEqual(
            self.platforms("start_date=2025-03-10&end_date=2025-03-12"),
            ["first", "last", "middle"],
        )

    def test_start_date_alone_keeps_rows_from_the_start_of_that_day(self):
        self.assertEqual(self.platforms("start_date=2025-03-12"), ["after", "last"])

    def test_end_date_alone_keeps_rows_until_the_end_of_that_day(self):
        self.assertEqual(self.platforms("end_date=2025-03-10"), ["before", "first"])

    def test_a_one_day_range_keeps_only_that_day(self):
        self.assertEqual(self.platforms("start_date=2025-03-11&end_date=2025-03-11"), ["middle"])

    def test_no_bounds_keep_everything(self):
        self.assertEqual(len(self.platforms("")), 5)

    def test_the_ends_of_the_accepted_range_keep_everything(self):
        self.assertEqual(len(self.platforms("end_date=2200-12-31")), 5)
        self.assertEqual(len(self.platforms("start_date=1900-01-01")), 5)

    def test_the_date_filter_combines_with_the_resources_other_filters(self):
        LoginLog.objects.filter(platform="middle").update(successful=False)
        self.assertEqual(
            self.platforms("start_date=2025-03-10&end_date=2025-03-12&successful=true"),
            ["first", "last"],
        )

    @override_settings(TIME_ZONE="Pacific/Auckland")
    def test_days_are_counted_in_the_servers_time_zone(self):
        # 2025-03-11 12:00 UTC is already 2025-03-12 01:00 in Auckland (UTC+13).
        self.assertEqual(self.platforms("start_date=2025-03-12&end_date=2025-03-12"), ["middle"])

    def test_an_end_date_before_the_start_date_is_a_400_problem(self):
        response = self.api.get(f"{LIST_URL}?start_date=2025-03-12&end_date=2025-03-10")
        body = self.assert_problem(response, 400, field="end_date", code="invalid")
        self.assertEqual(body["errors"]["end_date"], ["end_date must not be before start_date."])

    def test_an_invalid_start_date_is_a_400_problem(self):
        for value in ("2025-13-01", "2025-02-30", "yesterday", "2025-03"):
            with self.subTest(value=value):
                response = self.api.get(f"{LIST_URL}?start_date={value}")
                self.assert_problem(response, 400, field="start_date", code="invalid")

    def test_an_invalid_end_date_is_a_400_problem(self):
        response = self.api.get(f"{LIST_URL}?end_date=2025-03-1x")
        self.assert_problem(response, 400, field="end_date", code="invalid")


def teams_of(request):
    """A queryset that depends on the request (for the test below)."""
    return Team.objects.none()


class RequestTeamFilter(django_filters.FilterSet):
    """A FilterSet whose choices are computed per request."""

    team = django_filters.ModelChoiceFilter(field_name="team", queryset=teams_of)

    class Meta:
        model = Task
        fields: list[str] = []


class FormOncePerProcessTests(SimpleTestCase):
    """FilterSet classes and their form classes are built once per process, not per request."""

    def test_the_form_class_is_built_once_for_every_instance(self):
        filterset_class = form_once(TaskFilter)
        self.assertIs(form_once(TaskFilter), filterset_class)
        first = filterset_class(QueryDict("status=todo"), queryset=Task.objects.none())
        second = filterset_class(QueryDict("status=done"), queryset=Task.objects.none())
        self.assertIs(first.get_form_class(), second.get_form_class())
        self.assertTrue(first.is_valid() and second.is_valid())
        self.assertEqual(first.form.cleaned_data["status"], ["todo"])
        self.assertEqual(second.form.cleaned_data["status"], ["done"])
        # The fields are shared (cleaning leaves them as they were); the values are not.
        self.assertIs(first.form.fields["status"], second.form.fields["status"])
        self.assertIsNot(first.form.cleaned_data, second.form.cleaned_data)

    def test_filters_are_copied_per_instance_from_templates(self):
        """Each instance has its own filters, bound to it, sharing the resolved form fields."""
        filterset_class = form_once(TaskFilter)
        first = filterset_class(QueryDict("overdue=true"), queryset=Task.objects.all())
        second = filterset_class(QueryDict("overdue=false"), queryset=Task.objects.all())
        self.assertIsNot(first.filters["overdue"], second.filters["overdue"])
        self.assertIs(first.filters["overdue"].parent, first)
        self.assertIs(second.filters["overdue"].parent, second)
        # A ``method=`` filter calls its own instance's method, not the template's.
        self.assertIs(first.filters["overdue"].filter.f, first.filters["overdue"])
        self.assertIs(first.filters["status"].field, second.filters["status"].field)
        self.assertIn("NOT", str(second.qs.query))
        self.assertNotEqual(str(first.qs.query), str(second.qs.query))
        fields = dict(vars(first.form.fields["overdue"]))
        self.assertTrue(first.is_valid() and second.is_valid())
        self.assertEqual(vars(first.form.fields["overdue"]), fields)

    def test_the_range_check_of_the_date_filters_survives(self):
        data = QueryDict("start_date=2025-03-12&end_date=2025-03-10")
        filterset = form_once(TaskFilter)(data, queryset=Task.objects.none())
        self.assertFalse(filterset.is_valid())
        self.assertIn("end_date", filterset.errors)

    def test_a_filterset_with_per_request_choices_is_left_as_it_is(self):
        self.assertIs(form_once(RequestTeamFilter), RequestTeamFilter)

    def test_the_class_made_from_filterset_fields_is_kept_per_view(self):
        view = TeamViewSet()
        view.request = APIRequestFactory().get("/api/v1/teams/")
        first = FilterBackend().get_filterset_class(view, Team.objects.none())
        second = FilterBackend().get_filterset_class(view, Team.objects.none())
        self.assertIs(first, second)
        self.assertEqual(list(first.base_filters), ["lead"])
