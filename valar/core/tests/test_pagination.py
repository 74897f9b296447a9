"""Tests of pagination: ``count/next/previous/results``, 25 rows by default, 100 at most."""

import datetime
from urllib.parse import parse_qs, urlparse

from django.utils import timezone

from valar.accounts.models import LoginLog
from valar.core.pagination import StandardPagination
from valar.core.testing import ApiTestCase

LIST_URL = "/api/v1/auth/login-logs/"


class PaginationTests(ApiTestCase):
    """Lists built on ``BaseViewSet`` answer pages of the caller's rows."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)

    def add_logs(self, count: int) -> None:
        start = timezone.now() - datetime.timedelta(days=1)
        LoginLog.objects.bulk_create(
            LoginLog(
                user=self.user,
                email=self.user.email,
                created_at=start + datetime.timedelta(seconds=index),
                successful=True,
                reason=LoginLog.Reason.SUCCESS,
                platform=f"p{index:03d}",
            )
            for index in range(count)
        )

    def page(self, query: str = "") -> dict:
        response = self.api.get(f"{LIST_URL}{query}")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    @staticmethod
    def query_of(url: str) -> dict[str, list[str]]:
        return parse_qs(urlparse(url).query)

    def test_the_pagination_class_declares_25_by_default_and_100_at_most(self):
        self.assertEqual(StandardPagination().page_size, 25)
        self.assertEqual(StandardPagination.max_page_size, 100)
        self.assertEqual(StandardPagination.page_size_query_param, "page_size")

    def test_an_empty_list_has_the_envelope_with_no_links(self):
        self.assertEqual(self.page(), {"count": 0, "next": None, "previous": None, "results": []})

    def test_the_first_page_has_25_rows_a_count_and_a_next_link(self):
        self.add_logs(30)
        body = self.page()
        self.assertEqual(list(body), ["count", "next", "previous", "results"])
        self.assertEqual(body["count"], 30)
        self.assertEqual(len(body["results"]), 25)
        self.assertIsNone(body["previous"])
        self.assertEqual(self.query_of(body["next"])["page"], ["2"])

    def test_the_last_page_has_the_rest_and_a_previous_link(self):
        self.add_logs(30)
        body = self.page("?page=2")
        self.assertEqual(body["count"], 30)
        self.assertEqual(len(body["results"]), 5)
        self.assertIsNone(body["next"])
        self.assertIsNotNone(body["previous"])
        first_page = {row["id"] for row in self.page()["results"]}
        self.assertFalse(first_page & {row["id"] for row in body["results"]})

    def test_page_size_is_honoured_and_kept_in_the_links(self):
        self.add_logs(12)
        body = self.page("?page_size=5&page=2")
        self.assertEqual(len(body["results"]), 5)
        self.assertEqual(self.query_of(body["next"]), {"page": ["3"], "page_size": ["5"]})
        self.assertEqual(self.query_of(body["previous"]).get("page_size"), ["5"])

    def test_page_size_is_capped_at_100(self):
        self.add_logs(120)
        body = self.page("?page_size=1000")
        self.assertEqual(body["count"], 120)
        self.assertEqual(len(body["results"]), 100)

    def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400_problem(self):
        self.add_logs(30)
        for value in ("0", "-3", "abc", "true", "", "2.5"):
            with self.subTest(page_size=value):
                response = self.api.get(f"{LIST_URL}?page_size={value}")
                self.assert_problem(response, 400, code="invalid")
                self.assertIn("page_size", response.json()["errors"])

    def test_the_schema_declares_page_and_page_size_from_1(self):
        pagination = StandardPagination()
        parameters = {p["name"]: p for p in pagination.get_schema_operation_parameters(None)}
        self.assertEqual(parameters["page"]["schema"], {"type": "integer", "minimum": 1})
        self.assertEqual(parameters["page_size"]["schema"], {"type": "integer", "minimum": 1})
        self.assertIn("read as 100", parameters["page_size"]["description"])

    def test_a_page_past_the_end_is_a_404_problem(self):
        self.add_logs(3)
        response = self.api.get(f"{LIST_URL}?page=2")
        self.assert_problem(response, 404, code="not_found")

    def test_a_page_that_is_not_a_number_is_a_404_problem(self):
        response = self.api.get(f"{LIST_URL}?page=abc")
        self.assert_problem(response, 404, code="not_found")

    def test_an_empty_page_is_not_the_first_page_but_a_404_problem(self):
        self.add_logs(3)
        response = self.api.get(f"{LIST_URL}?page=")
        self.assert_problem(response, 404, code="not_found")

    def test_page_last_answers_the_last_page(self):
        self.add_logs(30)
        self.assertEqual(len(self.page("?page=last")["results"]), 5)

    def test_the_rows_are_only_the_callers(self):
        self.add_logs(2)
        other = self.make_user("other@example.com")
        LoginLog.objects.create(
            user=other, email=other.email, successful=True, reason=LoginLog.Reason.SUCCESS
        )
        self.assertEqual(self.page()["count"], 2)

    def test_another_list_resource_uses_the_same_envelope(self):
        body = self.api.get("/api/v1/auth/tokens/").json()
        self.assertEqual(list(body), ["count", "next", "previous", "results"])
        self.assertEqual(body["count"], 1)
        self.assertEqual(body["results"][0]["name"], "test")
