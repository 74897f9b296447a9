"""CSV and XLSX exports of any list, with every cell escaped against formula injection.

Every cell a spreadsheet reads goes through :func:`safe_cell`, the header row included (chart
exports name their columns after series that users name: customers, categories, teams).
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook

EXPORT_FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """Return ``value`` fit for a spreadsheet cell.

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR at
    the start) gets a leading apostrophe; plain negative numbers are left as they are.
    Lists become ``;``-joined text and ``None`` an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = "; ".join(str(item) for item in value)
    if not isinstance(value, str | int | float | Decimal | datetime.date):
        value = str(value)  # UUIDs, dicts and anything else a spreadsheet cannot hold
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row (or the header row) with every cell made safe by :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


class _Echo:
    """A write-only file object that hands back what is written (for streaming CSV)."""

    def write(self, value: str) -> str:
        """Return the written text unchanged."""
        return value


def csv_response(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> StreamingHttpResponse:
    """Stream ``rows`` as a CSV attachment named ``filename``."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(safe_row(headers))
        for row in rows:
            yield writer.writerow(safe_row(row))

    response = StreamingHttpResponse(lines(), content_type=EXPORT_FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> HttpResponse:
    """Build ``rows`` into a one-sheet XLSX attachment named ``filename``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31] or "export")
    sheet.append(safe_row(headers))
    for row in rows:
        sheet.append(safe_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=EXPORT_FORMATS["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def export_response(
    fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> HttpResponse:
    """Answer an export in ``fmt`` (``csv`` or ``xlsx``)."""
    if fmt == "xlsx":
        return xlsx_response(headers, rows, filename)
    return csv_response(headers, rows, filename)
