"""Hostile import files: every one a 400 (never a server error), read in bounded time.

Found by an attack over the real server: workbooks whose XML is not well formed, that point
at a shared string or a sheet that is not there, or that declare entities answered 500; a
5 KB workbook with one row a million rows down cost seconds of CPU; columns past the hundredth
were dropped without a word; an open quote in a CSV was read to the end of the file; a file of
only a header started a job that created nothing.
"""

import io
import time
import zipfile

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase

from valar.core import imports
from valar.core.errors import DomainError
from valar.core.policy import Role
from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.jobs.models import Job

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(**replace: bytes | None) -> bytes:
    """A valid two-row workbook, with the ZIP members in ``replace`` swapped (``None``: gone)."""
    book = openpyxl.Workbook()
    book.active.append(["title", "priority"])
    book.active.append(["Call the bank", "high"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            name = info.filename.replace("/", "_").replace(".", "_")
            data = replace.get(name, source.read(info.filename))
            if data is not None:
                archive.writestr(info.filename, data)
    return out.getvalue()


def sheet(rows: str, head: str = "") -> bytes:
    """A worksheet part with ``rows`` (XML of ``<row>`` elements)."""
    return (f'<?xml version="1.0"?>{head}<worksheet xmlns="{MAIN}"><sheetData>{rows}'
            "</sheetData></worksheet>").encode()  # fmt: skip


def inline(ref: str, text: str) -> str:
    """An inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def read(data: bytes, name: str = "rows.xlsx"):
    """``imports.read_table`` of ``data`` as an upload."""
    return imports.read_table(SimpleUploadedFile(name, data))


class ImportFileReaderTests(SimpleTestCase):
    """``core.imports.read_table`` refuses hostile files with a 400 and stays fast."""

    def assert_refused(self, data: bytes, code: str, name: str = "rows.xlsx") -> DomainError:
        with self.assertRaises(DomainError) as caught:
            read(data, name)
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        self.assertEqual(caught.exception.status, 400)
        return caught.exception

    def test_a_valid_workbook_is_read(self):
        table = read(workbook())
        # A sheet's rows come padded to the columns read; empty header cells name nothing.
        self.assertEqual([name for name in table.header if name], ["title", "priority"])
        self.assertEqual(
            [[cell for cell in row if cell] for row in table.rows], [["Call the bank", "high"]]
        )

    def test_workbooks_that_are_not_well_formed_are_unsupported_files(self):
        cases = {
            "workbook part not XML": {"xl_workbook_xml": b"<<<not xml"},
            "sheet cut short": {
                "xl_worksheets_sheet1_xml": b'<worksheet><sheetData><row><c t="s">'
            },
            "shared string not there": {
                "xl_worksheets_sheet1_xml": sheet('<row r="1"><c r="A1" t="s"><v>99</v></c></row>')
            },
            "sheet not there": {"xl_worksheets_sheet1_xml": None},
            "external entity": {
                "xl_worksheets_sheet1_xml": sheet(
                    f'<row r="1">{inline("A1", "title")}</row>'
                    f'<row r="2">{inline("A2", "&x;")}</row>',
                    head='<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                )
            },
        }
        for label, replace in cases.items():
            with self.subTest(label):
                error = self.assert_refused(workbook(**replace), "unsupported_file")
                self.assertNotIn("root:", error.message)

    def test_a_row_a_million_rows_down_is_refused_quickly(self):
        far = sheet(
            f'<row r="1">{inline("A1", "title")}</row>'
            f'<row r="1048576">{inline("A1048576", "far")}</row>'
        )
        started = time.process_time()
        self.assert_refused(workbook(xl_worksheets_sheet1_xml=far), "too_many_items")
        # Bounded by MAX_SCANNED_ROWS (10,001 rows), not by the row number the file claims:
        # well under a second where reading to the claimed row took 5 s of CPU.
        self.assertLess(time.process_time() - started, 2)

    def test_a_value_past_the_hundredth_column_is_an_invalid_file(self):
        header = ["title", *[""] * 99, "description"]
        csv = (",".join(header) + "\n" + ",".join(["x", *[""] * 99, "y"]) + "\n").encode()
        self.assert_refused(csv, "invalid_file", name="rows.csv")
        book = openpyxl.Workbook()
        book.active.append(header)
        data = io.BytesIO()
        book.save(data)
        self.assert_refused(data.getvalue(), "invalid_file")
        # Empty columns past the hundredth (a spreadsheet's wide dimension) are fine.
        table = read(("title" + "," * 150 + "\nx" + "," * 150 + "\n").encode(), "rows.csv")
        self.assertEqual(table.rows[0][0], "x")

    def test_a_quote_left_open_in_a_csv_is_an_unsupported_file(self):
        self.assert_refused(b'title,priority\n"abc,high\n', "unsupported_file", name="rows.csv")


class ImportWithoutRowsTests(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """A file of only a header starts no job: there is nothing to import."""

    module = "tasks"

    def test_a_header_only_file_is_a_400_and_starts_no_job(self):
        upload = SimpleUploadedFile("rows.csv", b"title,priority\n", content_type="text/csv")
        response = self.clients[Role.ADMIN].post(
            "/api/v1/tasks/import/", {"file": upload}, format="multipart"
        )
        self.assert_problem(response, 400, code="invalid_file", field="file")
        self.assertFalse(Job.objects.exists())
        # A dry run of it says what it read: nothing.
        upload = SimpleUploadedFile("rows.csv", b"title,priority\n", content_type="text/csv")
        response = self.clients[Role.ADMIN].post(
            "/api/v1/tasks/import/", {"file": upload, "dry_run": "true"}, format="multipart"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual((response.json()["total"], response.json()["rows"]), (0, []))
