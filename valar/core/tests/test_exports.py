"""Tests of CSV/XLSX exports: formula escaping, formats, and the list's filters applied."""

import csv
import datetime
import io

from django.test import SimpleTestCase
from openpyxl import load_workbook

from valar.accounts.models import LoginLog
from valar.core.exports import csv_response, safe_cell, xlsx_response
from valar.core.testing import ApiTestCase

EXPORT_URL = "/api/v1/auth/login-logs/export/"


class SafeCellTests(SimpleTestCase):
    """``safe_cell`` escapes what a spreadsheet would run and leaves the rest alone."""

    def test_text_starting_with_a_formula_character_gets_a_leading_apostrophe(self):
        for value in ("=1+2", "+1", "-1+2", "@SUM(A1:A9)", "\t=1", "\r=1", "=", "-", "+", "@"):
            with self.subTest(value=value):
                self.assertEqual(safe_cell(value), "'" + value)

    def test_a_classic_dde_payload_is_escaped(self):
        payload = "=cmd|' /C calc'!A0"
        self.assertEqual(safe_cell(payload), "'" + payload)

    def test_negative_numbers_written_as_text_are_left_alone(self):
        for value in ("-5", "-0", "-12.50", "-1000000"):
            with self.subTest(value=value):
                self.assertEqual(safe_cell(value), value)

    def test_text_that_merely_looks_numeric_after_a_minus_is_still_escaped(self):
        for value in ("-1e3", "-1,5", "-.5", "-1.", "- 1"):
            with self.subTest(value=value):
                self.assertEqual(safe_cell(value), "'" + value)

    def test_numbers_and_booleans_are_left_as_they_are(self):
        for value in (-5, 0, 3.25, -0.5, True, False):
            with self.subTest(value=value):
                self.assertIs(safe_cell(value), value)

    def test_plain_text_is_left_alone_even_with_formula_characters_inside(self):
        for value in ("hello", "a=b", "x+y", "user@example.com", " =1", "", "'quoted"):
            with self.subTest(value=value):
                self.assertEqual(safe_cell(value), value)

    def test_none_becomes_an_empty_cell(self):
        self.assertEqual(safe_cell(None), "")

    def test_lists_and_tuples_are_joined_with_semicolons(self):
        self.assertEqual(safe_cell(["tasks", "crm"]), "tasks; crm")
        self.assertEqual(safe_cell(("a", 1)), "a; 1")
        self.assertEqual(safe_cell([]), "")

    def test_a_joined_list_that_starts_with_a_formula_character_is_escaped(self):
        self.assertEqual(safe_cell(["=1+2", "b"]), "'=1+2; b")

    def test_a_dict_becomes_its_text(self):
        self.assertEqual(safe_cell({"a": 1}), "{'a': 1}")


class HeaderCellTests(SimpleTestCase):
    """The header row is escaped like every other row (issue 12, finding 4)."""

    HEADERS = ["label", '=HYPERLINK("http://evil.example","x")', "+SUM(1)", "@cmd", "Plain"]
    ESCAPED = ["label", '\'=HYPERLINK("http://evil.example","x")', "'+SUM(1)", "'@cmd", "Plain"]

    def test_csv_headers_are_escaped(self):
        response = csv_response(self.HEADERS, [["2025-01", "1", "2", "3", "4"]], "chart")
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0], self.ESCAPED)

    def test_xlsx_headers_are_text_not_formulas(self):
        response = xlsx_response(self.HEADERS, [["2025-01", 1, 2, 3, 4]], "chart")
        sheet = load_workbook(io.BytesIO(response.content)).active
        header = next(sheet.iter_rows())
        self.assertEqual([cell.value for cell in header], self.ESCAPED)
        self.assertEqual({cell.data_type for cell in header}, {"s"})


class LoginLogExportTests(ApiTestCase):
    """``GET /api/v1/auth/login-logs/export/`` as CSV or XLSX, filtered like the list."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)
        self.log(platform="web", successful=True, day=datetime.date(2025, 3, 10))
        self.log(platform="=1+2", successful=False, day=datetime.date(2025, 3, 11))
        self.log(platform="phone", successful=False, day=datetime.date(2025, 3, 20))
        other = self.make_user("other@example.com")
        LoginLog.objects.create(
            user=other,
            email=other.email,
            successful=True,
            reason=LoginLog.Reason.SUCCESS,
            platform="other-user",
        )

    def log(self, *, platform: str, successful: bool, day: datetime.date) -> LoginLog:
        return LoginLog.objects.create(
            user=self.user,
            email=self.user.email,
            created_at=datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC),
            successful=successful,
            reason=LoginLog.Reason.SUCCESS if successful else LoginLog.Reason.BAD_CREDENTIALS,
            ip_address="203.0.113.7",
            user_agent="tests",
            platform=platform,
        )

    def csv_rows(self, query: str = "") -> list[dict[str, str]]:
        response = self.api.get(f"{EXPORT_URL}?format=csv{query}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        self.assertIn('filename="login-logs.csv"', response["Content-Disposition"])
        text = b"".join(response.streaming_content).decode()
        return list(csv.DictReader(io.StringIO(text)))

    def xlsx_rows(self, query: str = "") -> tuple[list[str], list[list]]:
        response = self.api.get(f"{EXPORT_URL}?format=xlsx{query}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        self.assertIn('filename="login-logs.xlsx"', response["Content-Disposition"])
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows())
        headers = [cell.value for cell in rows[0]]
        return headers, [list(row) for row in rows[1:]]

    def test_csv_has_the_list_serializer_fields_as_columns_and_only_the_callers_rows(self):
        rows = self.csv_rows()
        self.assertEqual(
            list(rows[0]),
            [
                "id",
                "created_at",
                "email",
                "successful",
                "reason",
                "ip_address",
                "user_agent",
                "platform",
            ],
        )
        self.assertEqual(sorted(row["platform"] for row in rows), ["'=1+2", "phone", "web"])

    def test_csv_is_the_default_format(self):
        response = self.api.get(EXPORT_URL)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")

    def test_csv_honours_the_lists_filters(self):
        rows = self.csv_rows("&successful=false&end_date=2025-03-15")
        self.assertEqual([row["platform"] for row in rows], ["'=1+2"])

    def test_csv_honours_the_date_range_filter(self):
        rows = self.csv_rows("&start_date=2025-03-11&end_date=2025-03-20")
        self.assertEqual(sorted(row["platform"] for row in rows), ["'=1+2", "phone"])

    def test_xlsx_has_the_same_columns_and_honours_the_filters(self):
        headers, rows = self.xlsx_rows("&successful=false")
        platform = headers.index("platform")
        self.assertEqual(headers[0], "id")
        self.assertEqual(sorted(row[platform].value for row in rows), ["'=1+2", "phone"])

    def test_a_formula_looking_value_comes_out_of_xlsx_as_escaped_text_not_a_formula(self):
        headers, rows = self.xlsx_rows("&start_date=2025-03-11&end_date=2025-03-11")
        self.assertEqual(len(rows), 1)
        cell = rows[0][headers.index("platform")]
        self.assertEqual(cell.value, "'=1+2")
        self.assertEqual(cell.data_type, "s")

    def test_an_unknown_format_is_a_400_problem_on_the_format_field(self):
        response = self.api.get(f"{EXPORT_URL}?format=pdf")
        body = self.assert_problem(response, 400, field="format")
        self.assertEqual(body["errors"]["format"], ["Choose one of: csv, xlsx."])

    def test_an_invalid_filter_is_a_400_problem_and_not_an_empty_file(self):
        response = self.api.get(f"{EXPORT_URL}?format=csv&start_date=not-a-date")
        self.assert_problem(response, 400, field="start_date")

    def test_the_export_needs_a_signed_in_caller(self):
        response = self.client.get(f"{EXPORT_URL}?format=csv")
        self.assert_problem(response, 401)
