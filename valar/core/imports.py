"""Imports: a CSV or XLSX file of new rows, created through the bulk create path.

:func:`read_table` proves the file's type by its bytes (an XLSX is a ZIP holding a workbook;
a CSV is UTF-8 text), reads the first sheet with openpyxl or the CSV with the standard
library, and gives the header and the rows as text. :func:`import_file` is the whole use case
in one function that takes the organization, the user and the file, so that a background job
can run it as it is: each row becomes a form-like item (text, parsed as a form's fields are)
for :func:`valar.core.bulk.plan` / :func:`valar.core.bulk.bulk_write`, with the same
validation, rules and errors as ``POST .../bulk/`` ``create``. A dry run checks every row
and writes nothing.

:func:`start_import` is what ``POST .../import/`` does when it writes: it checks every row at
once (a bad file or row is a 400 naming each, nothing stored), keeps the file in the storage
and starts the job ``imports.file`` (``valar.core.tasks``), which imports it again in one
transaction (the rows are checked again: what changed since is seen) and removes the file
once the job has finished or was cancelled.
"""

import csv
import datetime
import io
import math
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.storage import default_storage
from django.db import models
from django.http import QueryDict
from rest_framework import exceptions, status

from valar.core import bulk
from valar.core.errors import DomainError
from valar.core.policy import Access, decide
from valar.core.tenancy import Tenant

#: The largest file an import reads.
MAX_IMPORT_BYTES = 20 * 1024 * 1024
#: The most columns a file may have (a resource has far fewer fields); more is a 400.
MAX_COLUMNS = 100
#: The most rows read, blank ones included: a workbook can claim a row a million rows down,
#: and openpyxl would produce every empty row before it (seconds of CPU from a 5 KB file).
MAX_SCANNED_ROWS = 10 * bulk.MAX_ITEMS + 1
#: What a workbook that is not well formed makes its reader raise (openpyxl, zipfile, the
#: XML parser: ``ParseError`` is a ``SyntaxError``; a shared string or sheet that is not there
#: is a ``LookupError``): the file's fault, a 400, never a server error.
BAD_WORKBOOK = (
    zipfile.BadZipFile,
    LookupError,
    OSError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    EOFError,
)
#: A workbook whose parts would unpack to more than this is refused before it is read.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The spreadsheet row of the first data row (the header is row 1).
FIRST_ROW = 2
#: The job that writes an import (``valar.core.tasks``).
IMPORT_JOB = "imports.file"
#: Where the storage keeps a file until its import job has run.
STORAGE_DIRECTORY = "imports"


def _unsupported(message: str = "Upload a CSV (UTF-8) or an XLSX file.") -> DomainError:
    """The error of a file that is neither a readable CSV nor a readable XLSX workbook."""
    return DomainError(message, code="unsupported_file", errors={"file": [message]})


def _invalid(message: str) -> DomainError:
    """The error of a readable file whose header does not fit the resource."""
    return DomainError(message, code="invalid_file", errors={"file": [message]})


@dataclass
class Table:
    """A file's header and its data rows as text (``None`` for an empty cell)."""

    header: list[str]
    rows: list[list[str | None]]
    #: The spreadsheet row number of each data row (blank rows are skipped).
    numbers: list[int] = field(default_factory=list)


def _text(value) -> str | None:
    """A cell's value as the text a form would carry (``None`` when empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        # A spreadsheet stores numbers as binary floats: the shortest text that reads back as
        # the same float is what was typed ("12.34", not the float's 50 exact digits).
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if value == int(value) else format(Decimal(repr(value)), "f")
    text = str(value).strip()
    return text or None


def _rows(values, limit: int):
    """Up to ``limit`` + 1 non-blank rows after the header, with their row numbers.

    400 ``invalid_file`` for a row with a value beyond :data:`MAX_COLUMNS` columns and
    ``too_many_items`` past :data:`MAX_SCANNED_ROWS` rows, blank ones included.
    """
    header: list[str] | None = None
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    for number, row in enumerate(values, start=1):
        if number > MAX_SCANNED_ROWS:
            message = f"At most {MAX_SCANNED_ROWS - 1:,} rows, blank ones included."
            raise DomainError(message, code="too_many_items", errors={"file": [message]})
        cells = [_text(cell) for cell in row]
        if any(cells[MAX_COLUMNS:]):
            raise _invalid(f"At most {MAX_COLUMNS} columns.")
        cells = cells[:MAX_COLUMNS]
        if not any(cells):
            continue
        if header is None:
            header = [cell or "" for cell in cells]
            continue
        rows.append(cells)
        numbers.append(number)
        if len(rows) > limit:
            break
    if header is None:
        raise _invalid("The file has no header row.")
    return Table(header=header, rows=rows, numbers=numbers)


def _read_xlsx(upload, limit: int) -> Table:
    """The first sheet of an XLSX workbook, read with openpyxl in read-only mode."""
    import openpyxl

    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise _unsupported()
        if unpacked > MAX_UNPACKED_BYTES:
            raise _unsupported("The workbook unpacks to more than 200 MB.")
        upload.seek(0)
        workbook = openpyxl.load_workbook(upload, read_only=True, data_only=True)
    except BAD_WORKBOOK as exc:
        raise _unsupported() from exc
    try:
        if not workbook.worksheets:
            raise _unsupported("The workbook has no sheet.")
        sheet = workbook.worksheets[0]
        # One column more than allowed, so that a value beyond the limit is seen and refused.
        return _rows(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), limit)
    except BAD_WORKBOOK as exc:
        raise _unsupported() from exc
    finally:
        workbook.close()


def _read_csv(upload, limit: int) -> Table:
    """A CSV file: UTF-8 text (a byte-order mark allowed), comma-separated, quoted as usual."""
    data = upload.read()
    if b"\x00" in data:
        raise _unsupported()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unsupported() from exc
    try:
        # strict: a quote left open is an error of the file, not a cell read to the end.
        return _rows(csv.reader(io.StringIO(text, newline=""), strict=True), limit)
    except csv.Error as exc:
        raise _unsupported() from exc


def read_table(upload, *, limit: int = bulk.MAX_ITEMS) -> Table:
    """The header and rows of an uploaded CSV or XLSX file, its type proven by its bytes.

    413 over :data:`MAX_IMPORT_BYTES`; 400 ``unsupported_file`` for anything else (a PDF
    named ``.csv`` included). At most ``limit`` + 1 data rows are read.
    """
    if upload.size > MAX_IMPORT_BYTES:
        raise DomainError(
            "The file is larger than 20 MB.",
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if not upload.size:
        raise _unsupported("The file is empty.")
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head == b"PK\x03\x04":
        return _read_xlsx(upload, limit)
    return _read_csv(upload, limit)


def _items(resource: bulk.BulkResource, table: Table) -> list[QueryDict]:
    """The rows as form-like items of the resource's writable fields (empty cells left out).

    A column that is a read-only field (an export's ``id``, ``created_at``...) is skipped, so
    an export can be imported again; a column that is no field at all is an error.
    """
    header = [name.strip() for name in table.header]
    unknown = [name for name in header if name and name not in resource.known_fields]
    if unknown:
        raise _invalid(
            f"Unknown columns: {', '.join(unknown[:10])}. "
            f"Columns are the fields: {', '.join(resource.writable_fields)}."
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise _invalid(f"Columns given more than once: {', '.join(repeated)}.")
    writable = set(resource.writable_fields)
    items = []
    for cells in table.rows:
        item = QueryDict(mutable=True)
        for name, value in zip(header, cells, strict=False):
            if name in writable and value is not None:
                item[name] = value
        items.append(item)
    return items


@dataclass
class ImportResult:
    """What an import did or would do: each row's number, built row and errors."""

    dry_run: bool
    numbers: list[int]
    rows: list[models.Model | None]
    errors: dict[int, dict[str, list[str]]]
    created: list[models.Model]

    @property
    def total(self) -> int:
        """Data rows read."""
        return len(self.numbers)

    @property
    def valid(self) -> int:
        """Rows without errors."""
        return self.total - len(self.errors)


def import_file(
    *,
    organization,
    user,
    resource: bulk.BulkResource | str,
    upload,
    dry_run: bool,
    context: dict | None = None,
) -> ImportResult:
    """Import ``upload`` into ``resource`` as ``user`` in ``organization``, all rows or none.

    The user must be a member allowed to create in the resource's module (its policy action
    ``policy_actions["create"]``; checked here too, so a job that runs later checks it
    again). A dry run checks every row and writes nothing; otherwise every row is created in
    one transaction, or none (400 with each bad row's errors under ``row.<n>``, ``n`` the
    spreadsheet row, the header being row 1).
    """
    from valar.organizations.models import Membership

    if isinstance(resource, str):
        resource = bulk.RESOURCES[resource]
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization=organization, user=user)
        .first()
    )
    if membership is None:
        raise exceptions.PermissionDenied("You are not a member of this organization.")
    module = resource.module
    access = decide(
        role=membership.role,
        modules=membership.modules,
        module=module,
        action=resource.policy_actions["create"],
    )
    if access == Access.NONE:
        raise exceptions.PermissionDenied()
    tenant = Tenant(organization=membership.organization, membership=membership)
    table = read_table(upload)
    if len(table.rows) > bulk.MAX_ITEMS:
        raise DomainError(
            f"At most {bulk.MAX_ITEMS:,} rows in one import.",
            code="too_many_items",
            errors={"file": [f"At most {bulk.MAX_ITEMS:,} rows in one import."]},
        )
    items = _items(resource, table)
    arguments = {
        "tenant": tenant,
        "resource": resource,
        "rows": resource.model._default_manager.none(),
        "create": items,
        "update": [],
        "delete": [],
        "access": {"create": access, "update": Access.NONE, "delete": Access.NONE},
        "context": context,
    }
    if dry_run:
        checked = bulk.plan(**arguments)
        created: list[models.Model] = []
    else:
        numbers = table.numbers
        checked = bulk.bulk_write(
            **arguments, item_key=lambda operation, index: f"row.{numbers[index]}"
        )
        created = checked.created
    return ImportResult(
        dry_run=dry_run,
        numbers=table.numbers,
        rows=checked.create_rows,
        errors={table.numbers[index]: errors for (_, index), errors in checked.errors.items()},
        created=created,
    )


def row_errors(result: ImportResult) -> dict[str, list[str]]:
    """An import's row errors as a problem's ``errors``: ``row.<n>.<field>`` (``row.<n>``)."""
    flat: dict[str, list[str]] = {}
    for number in sorted(result.errors):
        for name, messages in result.errors[number].items():
            key = f"row.{number}" if name == "non_field_errors" else f"row.{number}.{name}"
            flat.setdefault(key, []).extend(messages)
    return flat


def start_import(*, organization, user, resource: bulk.BulkResource, upload, context=None):
    """Check every row of ``upload`` now, keep the file and start the job that imports it.

    A file that cannot be read or a bad row is the same 400 a dry run reports (nothing is
    stored, no job starts). Returns the ``queued`` job (``valar.jobs``); its result says what
    was created.
    """
    from valar.jobs.services import job_start

    checked = import_file(
        organization=organization,
        user=user,
        resource=resource,
        upload=upload,
        dry_run=True,
        context=context,
    )
    if checked.errors:
        raise bulk.BulkError(
            "Nothing was written: some rows are invalid; see errors.",
            errors=row_errors(checked),
        )
    if not checked.total:
        raise _invalid("The file has no data rows.")
    upload.seek(0)
    name = default_storage.save(f"{STORAGE_DIRECTORY}/{organization.pk}/{uuid.uuid4().hex}", upload)
    return job_start(
        organization=organization,
        user=user,
        kind=IMPORT_JOB,
        resource=resource.name,
        file=name,
        filename=str(getattr(upload, "name", "") or "")[:200],
    )


def run_import(*, job, resource: str, file: str) -> dict:
    """The import job's work: import the kept ``file`` as the member who started ``job``.

    Every row is created in the job's transaction, or none: rows that became invalid since
    the request checked them fail the job with each one named in its error.
    """
    with default_storage.open(file, "rb") as upload:
        try:
            result = import_file(
                organization=job.organization,
                user=job.started_by,
                resource=resource,
                upload=upload,
                dry_run=False,
            )
        except bulk.BulkError as exc:
            details = "; ".join(
                f"{key}: {' '.join(messages)}" for key, messages in exc.errors.items()
            )
            raise DomainError(f"Nothing was written: {details}", code="invalid_rows") from exc
    return {
        "resource": resource,
        "total": result.total,
        "created": len(result.created),
        "ids": [str(row.pk) for row in result.created],
    }


def discard_file(file: str) -> None:
    """Remove an import's kept file (its job has finished or was cancelled)."""
    if file and file.startswith(f"{STORAGE_DIRECTORY}/"):
        default_storage.delete(file)
