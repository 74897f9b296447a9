"""Tests of ``GET /api/v1/auth/login-logs/`` (+ ``{id}/``, CSV/XLSX export): own rows, dates,
times, queries."""

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from rest_framework.test import APIClient

from valar.accounts.models import LoginLog, User
from valar.core.testing import ApiTestCase

LOGS_URL = "/api/v1/auth/login-logs/"
EXPORT_URL = "/api/v1/auth/login-logs/export/"
COLUMNS = [
    "id",
    "created_at",
    "email",
    "successful",
    "reason",
    "ip_address",
    "user_agent",
    "platform",
]


def at(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)


def make_log(user: User | None, created_at: datetime, **extra) -> LoginLog:
    """Store one sign-in attempt of ``user`` at ``created_at``."""
    fields = {
        "email": user.email if user else "nobody@example.com",
        "successful": True,
        "reason": LoginLog.Reason.SUCCESS,
        "ip_address": "203.0.113.5",
        "user_agent": "Mozilla/5.0",
        "platform": "web",
        **extra,
    }
    return LoginLog.objects.create(user=user, created_at=created_at, **fields)


class LoginLogListTests(ApiTestCase):
    """The caller sees only their own sign-in attempts, newest first, filterable by date."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.other = self.make_user("grace@example.com")
        self.client = self.token_client(self.user)

    def ids(self, response) -> list[str]:
        self.assertEqual(response.status_code, 200, response.content)
        return [row["id"] for row in response.json()["results"]]

    def test_the_list_shows_only_the_callers_own_attempts(self):
        mine = make_log(self.user, at(2026, 1, 10, 9))
        make_log(self.other, at(2026, 1, 10, 10))
        make_log(None, at(2026, 1, 10, 11), email="ada@example.com", successful=False)
        response = self.client.get(LOGS_URL)
        self.assertEqual(self.ids(response), [str(mine.id)])
        self.assertEqual(response.json()["count"], 1)

    def test_each_row_shows_the_attempt_and_its_context(self):
        log = make_log(
            self.user,
            at(2026, 1, 10, 9, 15),
            successful=False,
            reason=LoginLog.Reason.BAD_CREDENTIALS,
            ip_address="198.51.100.9",
            user_agent="ValarMobile/2.1",
            platform="ios",
        )
        row = self.client.get(LOGS_URL).json()["results"][0]
        self.assertEqual(
            row,
            {
                "id": str(log.id),
                "created_at": "2026-01-10T09:15:00.000000Z",
                "email": "ada@example.com",
                "successful": False,
                "reason": "bad_credentials",
                "ip_address": "198.51.100.9",
                "user_agent": "ValarMobile/2.1",
                "platform": "ios",
            },
        )

    def test_the_list_is_newest_first_and_paginated(self):
        oldest = make_log(self.user, at(2026, 1, 1))
        middle = make_log(self.user, at(2026, 1, 2))
        newest = make_log(self.user, at(2026, 1, 3))
        first = self.client.get(LOGS_URL, {"page_size": 2}).json()
        self.assertEqual(first["count"], 3)
        self.assertEqual([row["id"] for row in first["results"]], [str(newest.id), str(middle.id)])
        self.assertIsNone(first["previous"])
        self.assertIn("page=2", first["next"])
        second = self.client.get(LOGS_URL, {"page_size": 2, "page": 2}).json()
        self.assertEqual([row["id"] for row in second["results"]], [str(oldest.id)])
        self.assertIsNone(second["next"])

    def test_start_and_end_date_keep_whole_days_inclusively(self):
        make_log(self.user, at(2026, 1, 9, 23, 59, 59))
        first = make_log(self.user, at(2026, 1, 10, 0, 0))
        middle = make_log(self.user, at(2026, 1, 15, 12, 0))
        last = make_log(self.user, at(2026, 1, 20, 23, 59, 59))
        make_log(self.user, at(2026, 1, 21, 0, 0))
        make_log(self.other, at(2026, 1, 15, 12, 0))
        response = self.client.get(LOGS_URL, {"start_date": "2026-01-10", "end_date": "2026-01-20"})
        self.assertEqual(self.ids(response), [str(last.id), str(middle.id), str(first.id)])

    def test_start_date_alone_keeps_that_day_and_later(self):
        make_log(self.user, at(2026, 1, 9, 12))
        kept = make_log(self.user, at(2026, 1, 10, 0))
        response = self.client.get(LOGS_URL, {"start_date": "2026-01-10"})
        self.assertEqual(self.ids(response), [str(kept.id)])

    def test_end_date_alone_keeps_that_day_and_earlier(self):
        kept = make_log(self.user, at(2026, 1, 10, 23, 59))
        make_log(self.user, at(2026, 1, 11, 0))
        response = self.client.get(LOGS_URL, {"end_date": "2026-01-10"})
        self.assertEqual(self.ids(response), [str(kept.id)])

    def test_an_end_date_before_the_start_date_is_a_400_on_end_date(self):
        response = self.client.get(LOGS_URL, {"start_date": "2026-02-01", "end_date": "2026-01-31"})
        body = self.assert_problem(response, 400, field="end_date", code="invalid")
        self.assertEqual(body["errors"]["end_date"], ["end_date must not be before start_date."])

    def test_a_malformed_date_is_a_400_on_that_field(self):
        response = self.client.get(LOGS_URL, {"start_date": "2026-13-01"})
        body = self.assert_problem(response, 400, field="start_date")
        self.assertEqual(body["errors"]["start_date"], ["Enter a valid date."])

    def test_the_list_filters_by_outcome(self):
        make_log(self.user, at(2026, 1, 10, 9))
        failed = make_log(
            self.user, at(2026, 1, 10, 10), successful=False, reason=LoginLog.Reason.LOCKED_OUT
        )
        response = self.client.get(LOGS_URL, {"successful": "false"})
        self.assertEqual(self.ids(response), [str(failed.id)])

    def test_a_sign_in_through_the_api_appears_in_the_callers_list(self):
        browser = APIClient(enforce_csrf_checks=True)
        self.session_login(self.user, client=browser)
        rows = browser.get(LOGS_URL).json()["results"]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["reason"], "success")
        self.assertTrue(rows[0]["successful"])
        self.assertEqual(rows[0]["ip_address"], "127.0.0.1")

    def test_the_list_takes_the_same_number_of_queries_for_3_and_30_rows(self):
        self.client.get(LOGS_URL)  # the token's first use records last_used_at once
        for hour in range(3):
            make_log(self.user, at(2026, 1, 10, hour))
        with self.assertNumQueries(3):
            response = self.client.get(LOGS_URL, {"page_size": 100})
        self.assertEqual(len(response.json()["results"]), 3)
        for minute in range(27):
            make_log(self.user, at(2026, 1, 11, 0, minute))
        with self.assertNumQueries(3):
            response = self.client.get(LOGS_URL, {"page_size": 100})
        self.assertEqual(len(response.json()["results"]), 30)

    def test_an_anonymous_caller_is_401(self):
        response = APIClient().get(LOGS_URL)
        self.assert_problem(response, 401, code="not_authenticated")


class LoginLogDetailAndTimeTests(ApiTestCase):
    """One attempt by id (the caller's own only), and ``start_time``/``end_time``."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.other = self.make_user("grace@example.com")
        self.client = self.token_client(self.user)

    def ids(self, response) -> list[str]:
        self.assertEqual(response.status_code, 200, response.content)
        return [row["id"] for row in response.json()["results"]]

    def test_the_detail_shows_the_callers_attempt_as_the_list_does(self):
        log = make_log(self.user, at(2026, 1, 10, 9, 15), platform="ios")
        response = self.client.get(f"{LOGS_URL}{log.id}/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), self.client.get(LOGS_URL).json()["results"][0])

    def test_another_users_attempt_is_404(self):
        theirs = make_log(self.other, at(2026, 1, 10, 9))
        unknown = make_log(None, at(2026, 1, 10, 9), email="ada@example.com")
        for log in (theirs, unknown):
            with self.subTest(email=log.email, user=log.user_id):
                self.assert_problem(self.client.get(f"{LOGS_URL}{log.id}/"), 404)

    def test_an_anonymous_caller_cannot_read_an_attempt(self):
        log = make_log(self.user, at(2026, 1, 10, 9))
        self.assert_problem(APIClient().get(f"{LOGS_URL}{log.id}/"), 401)

    def test_start_and_end_time_keep_attempts_inclusively(self):
        make_log(self.user, at(2026, 1, 10, 8, 59, 59))
        first = make_log(self.user, at(2026, 1, 10, 9, 0))
        last = make_log(self.user, at(2026, 1, 10, 17, 30))
        make_log(self.user, at(2026, 1, 10, 17, 30, 1))
        make_log(self.other, at(2026, 1, 10, 12, 0))
        response = self.client.get(
            LOGS_URL, {"start_time": "2026-01-10T09:00:00Z", "end_time": "2026-01-10T17:30:00Z"}
        )
        self.assertEqual(self.ids(response), [str(last.id), str(first.id)])

    def test_times_take_an_offset_and_combine_with_dates(self):
        kept = make_log(self.user, at(2026, 1, 10, 10, 0))
        make_log(self.user, at(2026, 1, 10, 7, 0))
        make_log(self.user, at(2026, 1, 11, 10, 0))
        response = self.client.get(
            LOGS_URL, {"start_time": "2026-01-10T10:00:00+01:00", "end_date": "2026-01-10"}
        )
        self.assertEqual(self.ids(response), [str(kept.id)])

    def test_an_end_time_before_the_start_time_is_a_400_on_end_time(self):
        response = self.client.get(
            LOGS_URL, {"start_time": "2026-01-10T10:00:00Z", "end_time": "2026-01-10T09:00:00Z"}
        )
        body = self.assert_problem(response, 400, field="end_time", code="invalid")
        self.assertEqual(body["errors"]["end_time"], ["end_time must not be before start_time."])

    def test_a_malformed_time_is_a_400_on_that_field(self):
        response = self.client.get(LOGS_URL, {"start_time": "yesterday"})
        self.assert_problem(response, 400, field="start_time")

    def test_the_export_honours_the_time_range(self):
        kept = make_log(self.user, at(2026, 1, 10, 10, 0))
        make_log(self.user, at(2026, 1, 10, 7, 0))
        response = self.client.get(
            EXPORT_URL, {"format": "csv", "start_time": "2026-01-10T09:00:00Z"}
        )
        content = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(content)))
        self.assertEqual([row[0] for row in rows[1:]], [str(kept.id)])


class LoginLogExportTests(ApiTestCase):
    """The caller's sign-in log downloads as CSV or XLSX with the list's filters."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.other = self.make_user("grace@example.com")
        self.client = self.token_client(self.user)
        self.early = make_log(self.user, at(2026, 1, 5, 8))
        self.late = make_log(
            self.user,
            at(2026, 1, 20, 18, 30),
            successful=False,
            reason=LoginLog.Reason.BAD_CREDENTIALS,
            user_agent='=HYPERLINK("http://evil.example")',
            platform="android",
        )
        make_log(self.other, at(2026, 1, 10, 8), user_agent="grace's browser")

    def read_csv(self, response) -> list[list[str]]:
        self.assertEqual(response.status_code, 200)
        content = b"".join(response.streaming_content).decode()
        return list(csv.reader(io.StringIO(content)))

    def test_csv_has_the_list_columns_and_only_the_callers_rows(self):
        response = self.client.get(EXPORT_URL, {"format": "csv"})
        self.assertEqual(response["Content-Type"], "text/csv")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="login-logs.csv"')
        rows = self.read_csv(response)
        self.assertEqual(rows[0], COLUMNS)
        self.assertEqual(
            rows[1:],
            [
                [
                    str(self.late.id),
                    "2026-01-20T18:30:00.000000Z",
                    "ada@example.com",
                    "False",
                    "bad_credentials",
                    "203.0.113.5",
                    '\'=HYPERLINK("http://evil.example")',
                    "android",
                ],
                [
                    str(self.early.id),
                    "2026-01-05T08:00:00.000000Z",
                    "ada@example.com",
                    "True",
                    "success",
                    "203.0.113.5",
                    "Mozilla/5.0",
                    "web",
                ],
            ],
        )

    def test_csv_honours_the_date_range(self):
        response = self.client.get(
            EXPORT_URL, {"format": "csv", "start_date": "2026-01-01", "end_date": "2026-01-10"}
        )
        rows = self.read_csv(response)
        self.assertEqual([row[0] for row in rows[1:]], [str(self.early.id)])

    def test_xlsx_has_the_same_columns_rows_and_escaping(self):
        response = self.client.get(EXPORT_URL, {"format": "xlsx", "start_date": "2026-01-15"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="login-logs.xlsx"')
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(rows[0], COLUMNS)
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1][0], str(self.late.id))
        self.assertEqual(rows[1][3], False)
        self.assertEqual(rows[1][6], '\'=HYPERLINK("http://evil.example")')

    def test_an_unknown_format_is_a_400_on_format(self):
        response = self.client.get(EXPORT_URL, {"format": "pdf"})
        body = self.assert_problem(response, 400, field="format", code="invalid")
        self.assertEqual(body["errors"]["format"], ["Choose one of: csv, xlsx."])

    def test_an_end_date_before_the_start_date_is_a_400_not_an_empty_file(self):
        response = self.client.get(
            EXPORT_URL, {"format": "csv", "start_date": "2026-02-01", "end_date": "2026-01-01"}
        )
        self.assert_problem(response, 400, field="end_date")

    def test_an_anonymous_caller_cannot_export(self):
        response = APIClient().get(EXPORT_URL, {"format": "csv"})
        self.assert_problem(response, 401, code="not_authenticated")
