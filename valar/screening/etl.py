"""ETL of watch lists: an uploaded file's rows turned into screening entries (pure, no models).

A list is a CSV, XLS or XLSX file (Indonesia's DTTOT as PPATK publishes it, or any sheet with
a column map) or the UN Security Council consolidated list (its XML, or a CSV with equivalent
columns). :func:`check_list_upload` proves the file's type by its bytes (a PDF named ``.csv``
is refused); :func:`read_frame` reads it with polars (calamine for spreadsheets), every cell as
text, the header being the first non-blank row; an XML list is flattened to one row per
individual or entity (:data:`UN_COLUMNS`). :func:`detect_mapping` finds which column holds
which entry field from the header (Indonesian and English names); :func:`run` reads every row
into a :class:`ParsedEntry` (names split into the primary name and aliases, dates read from
Indonesian or English text, NIK and passport numbers found in free text) and merges the rows
of one document that describe the same entry. :func:`preview` shows the first rows and the
mapping the run would use.

Row numbers are the file's (a spreadsheet's row, a CSV's record; the header is row 1 when it
is the first row; an XML list's individuals and entities are rows 2, 3... in order). A row
without a name is a row error and the run goes on; a date that cannot be read is kept as text
in the entry's description.
"""

import codecs
import datetime
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import fastexcel
import polars as pl
from rest_framework import status

from valar.core.errors import DomainError
from valar.core.imports import MAX_COLUMNS, MAX_UNPACKED_BYTES
from valar.screening.text import normalize, normalize_identifier

#: The largest list file read.
MAX_LIST_BYTES = 50 * 1024 * 1024
#: How many bytes :func:`check_list_upload` reads to prove a file's type.
HEAD_BYTES = 64 * 1024
#: ``progress`` is called once per this many rows.
PROGRESS_EVERY = 1000

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_NOT_TEXT = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"{\\rtf")


def _unsupported(message: str, field: str = "file") -> DomainError:
    """The 400 of a file that is not a list this module reads."""
    return DomainError(message, code="unsupported_file", errors={field: [message]})


def _invalid(message: str, field: str = "file") -> DomainError:
    """The 400 of a readable file (or options) that do not fit the script."""
    return DomainError(message, code="invalid_file", errors={field: [message]})


# -- the file's type -----------------------------------------------------------------------


def detect_file_type(head: bytes) -> str | None:
    """The type of a file from its first bytes: ``xlsx``, ``xls``, ``xml``, ``csv`` or None.

    ``xlsx``: a ZIP (``PK\\x03\\x04``; :func:`read_frame` checks it holds a workbook);
    ``xls``: an OLE2 compound file; ``xml``: UTF-8 text whose first non-blank character
    (after an optional byte-order mark) is ``<``; ``csv``: any other UTF-8 text without NUL
    bytes. A PDF, an image or any other binary is None. ``head`` may end inside a UTF-8
    sequence.
    """
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE2):
        return "xls"
    if not head or b"\x00" in head or head.startswith(_NOT_TEXT):
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    text = text.lstrip()
    if not text:
        return None
    if text.startswith("<"):
        return "xml"
    if text.startswith(_NOT_TEXT[0].decode()):
        return None
    return "csv"


def check_list_upload(upload, *, field: str = "file") -> str:
    """The type of an uploaded list, proven by its bytes (the upload is left at its start).

    413 ``too_large`` over :data:`MAX_LIST_BYTES`; 400 ``unsupported_file`` for an empty
    file or one that is none of CSV (UTF-8), XLS, XLSX or XML.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_LIST_BYTES:
        message = "The file is larger than 50 MB."
        raise DomainError(
            message,
            code="too_large",
            errors={field: [message]},
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if not head:
        raise _unsupported("The file is empty.", field)
    file_type = detect_file_type(head)
    if file_type is None:
        raise _unsupported("Upload a CSV (UTF-8), XLS, XLSX or XML file.", field)
    return file_type


# -- scripts ---------------------------------------------------------------------------------

#: The entry fields a column can be mapped to, and what each holds.
FIELDS = {
    "name": 'the name, aliases may follow ("X alias Y als. Z")',
    "aliases": "more names (split like the name)",
    "kind": 'person or organisation ("Orang", "Korporasi", "Individual", "Entity")',
    "birth_date": 'birth dates ("17 Agustus 1938", "17-08-1938", "1938")',
    "birth_place": "the place of birth",
    "place_date": 'place and date of birth together ("Jombang, 17 Agustus 1938")',
    "nationality": 'the nationality ("WNI" is Indonesia)',
    "nik": "the NIK (16 digits)",
    "passport": "passport numbers",
    "identifiers": "free text with identity numbers (NIK, passport)",
    "address": "the address",
    "description": "free text; NIK and passport numbers in it are identifiers",
    "reference": "the list's own reference (Kode Densus, UN reference number)",
}

#: Header names of each field (compared lower case, punctuation as spaces).
SYNONYMS = {
    "name": (
        "nama",
        "name",
        "nama lengkap",
        "nama terduga",
        "full name",
        "whole name",
        "nama orang korporasi",
        "nama korporasi",
    ),
    "aliases": ("alias", "aliases", "alias name", "nama alias", "aka", "also known as"),
    "kind": (
        "terduga",
        "jenis",
        "jenis terduga",
        "tipe",
        "type",
        "kind",
        "kategori",
        "category",
        "entity type",
        "subject type",
    ),
    "birth_date": (
        "tanggal lahir",
        "tgl lahir",
        "tanggal lahir tahun",
        "date of birth",
        "dob",
        "birth date",
        "birthdate",
        "lahir",
    ),
    "birth_place": ("tempat lahir", "place of birth", "pob", "birth place", "birthplace"),
    "place_date": (
        "tempat tanggal lahir",
        "tempat tgl lahir",
        "tempat dan tanggal lahir",
        "ttl",
        "tempat tgl lahir umur",
    ),
    "nationality": (
        "wn",
        "kewarganegaraan",
        "warga negara",
        "warganegara",
        "nationality",
        "citizenship",
    ),
    "nik": ("nik", "no nik", "nomor nik", "nomor induk kependudukan", "no ktp", "ktp"),
    "passport": (
        "paspor",
        "no paspor",
        "nomor paspor",
        "passport",
        "passport number",
        "passport no",
    ),
    "identifiers": (
        "identitas",
        "no identitas",
        "nomor identitas",
        "identifiers",
        "identification",
        "documents",
        "document",
        "individual document",
    ),
    "address": ("alamat", "address", "domisili", "alamat domisili"),
    "description": (
        "deskripsi",
        "keterangan",
        "description",
        "remarks",
        "comments",
        "comments1",
        "informasi",
        "other information",
    ),
    "reference": (
        "kode densus",
        "densus",
        "kode",
        "reference",
        "reference number",
        "ref",
        "no referensi",
    ),
}

#: The name parts of the UN list, joined in this order when a file has no whole name column.
UN_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
#: The columns of an XML list flattened by :func:`read_frame`; several values are on lines.
UN_COLUMNS = (
    "DATAID",
    "TYPE",
    "REFERENCE_NUMBER",
    "UN_LIST_TYPE",
    "NAME",
    "ALIASES",
    "DATE_OF_BIRTH",
    "PLACE_OF_BIRTH",
    "NATIONALITY",
    "DOCUMENTS",
    "ADDRESS",
    "COMMENTS1",
)


@dataclass
class Script:
    """An ETL script: which files it reads, the columns it expects and its options."""

    name: str
    version: int
    description: str
    #: The columns the script expects (documentation: the header is matched by synonyms).
    columns: list[str]
    file_types: tuple[str, ...]
    #: Option -> what it holds.
    options: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The script and its version, as an entry's list records it (``dttot@1``)."""
        return f"{self.name}@{self.version}"


SCRIPTS: dict[str, Script] = {
    "dttot": Script(
        name="dttot",
        version=1,
        description=(
            "Indonesia's DTTOT (PPATK): names with aliases (alias, als.), Indonesian dates, "
            "NIK and passport numbers in the description, Kode Densus as the reference."
        ),
        columns=[
            "No",
            "Nama",
            "Deskripsi",
            "Terduga",
            "Kode Densus",
            "Tempat Lahir",
            "Tanggal Lahir",
            "WN",
            "Alamat",
        ],
        file_types=("csv", "xls", "xlsx"),
    ),
    "generic-csv": Script(
        name="generic-csv",
        version=1,
        description=(
            "Any CSV, XLS or XLSX list: columns found by their header, or named in the "
            "columns option."
        ),
        columns=["Name", "Aliases", "Type", "Date of Birth", "Place of Birth", "Nationality"],
        file_types=("csv", "xls", "xlsx"),
        options={
            "columns": (
                'entry field -> the file\'s column, e.g. {"name": "Full Name", '
                f'"aliases": "AKA"}}; fields: {", ".join(FIELDS)}'
            )
        },
    ),
    "un-consolidated": Script(
        name="un-consolidated",
        version=1,
        description=(
            "The UN Security Council consolidated list: its XML (individuals and entities) "
            "or a CSV with equivalent columns."
        ),
        columns=[*UN_COLUMNS, *UN_NAME_PARTS],
        file_types=("xml", "csv", "xls", "xlsx"),
    ),
}


def _script(script: str) -> Script:
    """The script named ``script``; 400 naming ``etl_script`` for an unknown one."""
    try:
        return SCRIPTS[script]
    except (KeyError, TypeError):
        message = f"Unknown ETL script; scripts are {', '.join(SCRIPTS)}."
        raise DomainError(message, code="invalid", errors={"etl_script": [message]}) from None


def check_options(script: str, options) -> dict:
    """``options`` of ``script`` checked and cleaned (None is ``{}``).

    Only ``generic-csv`` has one, ``columns``: entry field (:data:`FIELDS`) -> a column
    name. Anything else (an unknown option or field, a value that is not a non-empty string)
    is a 400 naming ``etl_options``.
    """
    spec = _script(script)
    if options is None:
        return {}

    def refuse(message: str):
        raise DomainError(message, code="invalid", errors={"etl_options": [message]})

    if not isinstance(options, dict):
        refuse("The options are an object.")
    unknown = sorted(str(key) for key in options if key not in spec.options)
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        refuse(f"Unknown options of {spec.name}: {', '.join(unknown)} (options: {allowed}).")
    cleaned: dict = {}
    if "columns" in options:
        columns = options["columns"]
        if not isinstance(columns, dict):
            refuse("columns is an object: entry field -> column name.")
        mapped = {}
        for key, value in columns.items():
            if key not in FIELDS:
                refuse(f"Unknown entry field {key!r} in columns; fields: {', '.join(FIELDS)}.")
            if not isinstance(value, str) or not value.strip():
                refuse(f"The column of {key!r} is a column name (text).")
            mapped[key] = value.strip()
        cleaned["columns"] = mapped
    return cleaned


# -- reading a file --------------------------------------------------------------------------


def _data(file) -> bytes:
    """The whole content of ``file`` (a file-like object from its start, or bytes)."""
    if isinstance(file, bytes | bytearray | memoryview):
        return bytes(file)
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def _unique(header: list[str]) -> list[str]:
    """Column names as polars needs them: not empty (``column_<n>``) and unique (``_2``)."""
    seen: dict[str, int] = {}
    names = []
    for index, name in enumerate(header, start=1):
        name = (name or "").strip() or f"column_{index}"
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base}_{seen[base]}"
        seen.setdefault(name, 1)
        names.append(name)
    return names


def _cell(value) -> str | None:
    """A cell as text, stripped; None when empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass
class _Frame:
    """A read file: the frame (header applied, blank rows kept) and its header's row number."""

    frame: pl.DataFrame
    header_row: int


#: How many rows from the top a header is looked for below a title row.
TITLE_ROWS = 10


def _header(raw: pl.DataFrame) -> tuple[int, list[str]] | None:
    """The header's row number and cells: the first non-blank row, unless that row has one
    cell filled (a title: "DAFTAR TERDUGA TERORIS...") and a row with more follows within
    :data:`TITLE_ROWS` rows; None for a file of blank rows."""
    first = None
    for number, row in enumerate(raw.head(TITLE_ROWS).iter_rows(), start=1):
        cells = [_cell(value) for value in row]
        filled = sum(1 for cell in cells if cell)
        if not filled:
            continue
        header = (number, [cell or "" for cell in cells])
        if filled > 1:
            return header
        first = first or header
    if first:
        return first
    for number, row in enumerate(raw.slice(TITLE_ROWS).iter_rows(), start=TITLE_ROWS + 1):
        if any(_cell(value) for value in row):
            return number, [_cell(value) or "" for value in row]
    return None


def _with_header(raw: pl.DataFrame, limit: int | None) -> _Frame:
    """``raw`` (no header) under its header (:func:`_header`), cells stripped, blanks null."""
    if raw.width > MAX_COLUMNS:
        raw = raw.select(raw.columns[:MAX_COLUMNS])
    found = _header(raw)
    if found is None:
        raise _invalid("The file has no header row.")
    header_row, header = found
    body = raw.slice(header_row, limit)
    names = _unique(header)
    body = body.rename(dict(zip(body.columns, names, strict=True)))
    body = body.with_columns(pl.col(name).cast(pl.String).str.strip_chars() for name in names)
    body = body.with_columns(
        pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name) for name in names
    )
    return _Frame(frame=body, header_row=header_row)


def _read_csv(data: bytes, limit: int | None) -> _Frame:
    """A UTF-8 CSV (comma or semicolon separated), every column text."""
    if b"\x00" in data:
        raise _unsupported("A CSV file is UTF-8 text.")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unsupported("A CSV file is UTF-8 text.") from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    # Leading blank lines are counted here: polars takes the width from the first line.
    stripped = data.lstrip(b"\r\n")
    skipped = data[: len(data) - len(stripped)].count(b"\n")
    first_line = stripped.split(b"\n", 1)[0]
    separator = ","
    if b"," not in first_line and b";" in first_line:
        separator = ";"

    def read(separator: str) -> pl.DataFrame:
        return pl.read_csv(
            io.BytesIO(stripped),
            has_header=False,
            infer_schema=False,
            separator=separator,
            truncate_ragged_lines=True,
            n_rows=None if limit is None else limit + TITLE_ROWS,
        )

    raw = read(separator)
    if separator == "," and raw.width == 1:
        header = next((row[0] for row in raw.iter_rows() if _cell(row[0])), None)
        if header and ";" in header:
            raw = read(";")
    read_frame = _with_header(raw, limit)
    read_frame.header_row += skipped
    return read_frame


def _read_excel(data: bytes, file_type: str, limit: int | None) -> _Frame:
    """The first sheet of an XLS or XLSX workbook (calamine), every column text."""
    if file_type == "xlsx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _unsupported("The XLSX file is not a readable workbook.") from exc
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise _unsupported("The ZIP file is not an XLSX workbook.")
        if unpacked > MAX_UNPACKED_BYTES:
            raise _unsupported("The workbook unpacks to more than 200 MB.")
    elif not data.startswith(_OLE2):
        raise _unsupported("The file is not an XLS workbook.")
    # fastexcel is polars.read_excel's calamine engine; called directly, it keeps the sheet's
    # leading blank rows (``skip_rows=0``), so row numbers are the spreadsheet's.
    reader = fastexcel.read_excel(data)
    sheet = reader.load_sheet(0, header_row=None, skip_rows=0, dtypes="string")
    return _with_header(sheet.to_polars(), limit)


_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _text_of(element, tag: str) -> str:
    """The stripped text of ``element``'s child ``tag`` ("" when missing)."""
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _texts(element, path: str) -> list[str]:
    """The non-empty stripped texts of ``element``'s descendants at ``path``."""
    return [text for node in element.iterfind(path) if (text := (node.text or "").strip())]


def _un_row(element, kind: str) -> dict[str, str | None]:
    """One UN individual or entity flattened to :data:`UN_COLUMNS` (lines for many values)."""
    prefix = "INDIVIDUAL" if kind == "Individual" else "ENTITY"
    name = " ".join(part for tag in UN_NAME_PARTS if (part := _text_of(element, tag)))
    aliases = []
    for alias in element.iterfind(f"{prefix}_ALIAS"):
        if text := _text_of(alias, "ALIAS_NAME"):
            aliases.append(text)
    if original := _text_of(element, "NAME_ORIGINAL_SCRIPT"):
        aliases.append(original)
    dates = []
    for birth in element.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        for tag in ("DATE", "YEAR", "FROM_YEAR", "TO_YEAR"):
            if text := _text_of(birth, tag):
                dates.append(text)
    places = []
    for place in element.iterfind("INDIVIDUAL_PLACE_OF_BIRTH"):
        parts = [_text_of(place, tag) for tag in ("CITY", "STATE_PROVINCE", "COUNTRY")]
        if text := ", ".join(part for part in parts if part):
            places.append(text)
    documents = []
    for document in element.iterfind("INDIVIDUAL_DOCUMENT"):
        if number := _text_of(document, "NUMBER"):
            documents.append(f"{_text_of(document, 'TYPE_OF_DOCUMENT') or 'Other'}: {number}")
    addresses = []
    for address in element.iterfind(f"{prefix}_ADDRESS"):
        parts = [
            _text_of(address, tag)
            for tag in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY", "NOTE")
        ]
        if text := ", ".join(part for part in parts if part):
            addresses.append(text)
    values = {
        "DATAID": _text_of(element, "DATAID"),
        "TYPE": kind,
        "REFERENCE_NUMBER": _text_of(element, "REFERENCE_NUMBER"),
        "UN_LIST_TYPE": _text_of(element, "UN_LIST_TYPE"),
        "NAME": name,
        "ALIASES": "\n".join(aliases),
        "DATE_OF_BIRTH": "\n".join(dates),
        "PLACE_OF_BIRTH": "\n".join(places),
        "NATIONALITY": "\n".join(_texts(element, "NATIONALITY/VALUE")),
        "DOCUMENTS": "\n".join(documents),
        "ADDRESS": "\n".join(addresses),
        "COMMENTS1": _text_of(element, "COMMENTS1"),
    }
    return {key: value or None for key, value in values.items()}


def _read_xml(data: bytes, limit: int | None) -> _Frame:
    """The UN consolidated list's XML as one row per individual, then per entity.

    A document type or entity declaration is refused before anything is parsed (entity
    expansion, external entities); the text must be UTF-8.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unsupported("An XML list is UTF-8 text.") from exc
    if _DOCTYPE.search(text):
        raise _unsupported("An XML list may not declare a document type or entities.")
    # Parsing text (not bytes) makes expat read it as UTF-8 whatever the declaration says.
    parser = ET.XMLPullParser(events=("start", "end"))
    rows: dict[str, list] = {column: [] for column in UN_COLUMNS}
    depth = 0
    root = None
    count = 0
    try:
        for start in range(0, len(text), 1 << 20):
            parser.feed(text[start : start + (1 << 20)])
            for event, element in parser.read_events():
                if event == "start":
                    depth += 1
                    if root is None:
                        root = element
                        if element.tag != "CONSOLIDATED_LIST":
                            raise _unsupported("The XML file is not the UN consolidated list.")
                    continue
                depth -= 1
                if depth == 2 and element.tag in ("INDIVIDUAL", "ENTITY"):
                    if limit is None or count < limit:
                        kind = "Individual" if element.tag == "INDIVIDUAL" else "Entity"
                        for column, value in _un_row(element, kind).items():
                            rows[column].append(value)
                        count += 1
                    element.clear()
                elif depth == 1:
                    # INDIVIDUALS / ENTITIES read: drop the cleared children.
                    root.remove(element)
        parser.close()
    except ET.ParseError as exc:
        raise _unsupported("The XML file is not well formed.") from exc
    if root is None:
        raise _unsupported("The XML file is empty.")
    frame = pl.DataFrame(rows, schema={column: pl.String for column in UN_COLUMNS})
    return _Frame(frame=frame, header_row=1)


def _read(file, file_type: str, limit: int | None) -> _Frame:
    """The file read by its type; any failure is a 400 ``unsupported_file``."""
    data = _data(file)
    if len(data) > MAX_LIST_BYTES:
        raise DomainError(
            "The file is larger than 50 MB.",
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if not data:
        raise _unsupported("The file is empty.")
    try:
        if file_type == "csv":
            return _read_csv(data, limit)
        if file_type in ("xls", "xlsx"):
            return _read_excel(data, file_type, limit)
        if file_type == "xml":
            return _read_xml(data, limit)
    except DomainError:
        raise
    except Exception as exc:  # polars, calamine, zipfile: the file's fault, never a 500
        raise _unsupported(f"The {file_type.upper()} file cannot be read.") from exc
    raise _unsupported("Upload a CSV (UTF-8), XLS, XLSX or XML file.")


def read_frame(file, file_type: str, *, limit: int | None = None) -> pl.DataFrame:
    """The file's rows as a frame of text columns, named by the header (first non-blank row;
    a title row above it, one cell filled, is skipped).

    CSV: UTF-8, comma separated (or semicolon, when that is what the header uses); XLS and
    XLSX: the first sheet (calamine, through fastexcel); XML: the UN consolidated list, one
    row per individual or entity (:data:`UN_COLUMNS`). Blank cells are null; blank rows are
    kept (they keep row numbers); at most ``limit`` rows after the header are read. A file
    that cannot be read is a 400 ``unsupported_file``.
    """
    return _read(file, file_type, limit).frame


# -- parsing helpers -------------------------------------------------------------------------

_ALIAS_SEPARATORS = re.compile(
    r"""\b(?:alias|als)\b\.?:?        # alias, als., ALS
      | (?<![0-9A-Za-z])a\.k\.a\.?(?![0-9A-Za-z])   # a.k.a.
      | \baka\b\.?:?
      | \bd/h\b                       # dahulu: formerly
      | [@;|\n\r]
      | \s/\s                         # a slash between names, with spaces around it
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NAME_TRIM = " \t,.:;-–—'\"“”‘’()[]"


def _name_key(name: str) -> str:
    """A name as compared for duplicates: case-folded, spaces collapsed."""
    return " ".join(name.split()).casefold()


def _dedupe_names(names: list[str]) -> list[str]:
    """``names`` without the ones already seen (compared case-insensitively), in order."""
    seen = set()
    kept = []
    for name in names:
        key = _name_key(name)
        if key and key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


def split_names(text: str) -> list[str]:
    """A name cell's names: the primary name first, then its aliases, deduplicated.

    Aliases follow ``alias``, ``als.``/``als``, ``a.k.a.``/``aka``, ``d/h``, ``@``, ``;``,
    ``|``, a line break or a slash with spaces around it (``ABU / ABI``; ``S/O`` is kept),
    or are written in parentheses (``ABU BAKAR (USTADZ ABU)``). Names are trimmed of spaces
    and punctuation, empty ones dropped, repeats (any case) dropped:
    ``"ABU BAKAR BA'ASYIR alias ABU BAKAR BASYIR als. USTADZ ABU"`` ->
    ``["ABU BAKAR BA'ASYIR", "ABU BAKAR BASYIR", "USTADZ ABU"]``.
    """
    if not text:
        return []
    # A parenthesis (open, closed or alone) separates names: "X (Y)" is X then Y.
    text = str(text).replace("(", ";").replace(")", ";")
    names = []
    for piece in _ALIAS_SEPARATORS.split(text):
        name = " ".join(piece.split()).strip(_NAME_TRIM)
        if name:
            names.append(name)
    return _dedupe_names(names)


_MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "pebruari": 2,
    "february": 2,
    "feb": 2,
    "peb": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "aug": 8,
    "agust": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nopember": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "december": 12,
    "des": 12,
    "dec": 12,
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
_DATES = re.compile(
    rf"""(?<![0-9])(?:
        (?P<iso_y>\d{{4}})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}})
            (?:[T\s]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?
      | (?P<num_d>\d{{1,2}})\s*(?P<sep>[-/.])\s*(?P<num_m>\d{{1,2}})\s*(?P=sep)\s*(?P<num_y>\d{{4}})
      | (?P<txt_d>\d{{1,2}})[\s\-.]*(?P<txt_m>{_MONTH})[\s\-.,]*(?P<txt_y>\d{{4}})
      | (?P<eng_m>{_MONTH})\s+(?P<eng_d>\d{{1,2}}),?\s+(?P<eng_y>\d{{4}})
      | (?P<my_m>{_MONTH})[\s\-.,]*(?P<my_y>{_YEAR})
      | (?P<year>{_YEAR})
    )(?![0-9])""",
    re.IGNORECASE | re.VERBOSE,
)
_SERIAL = re.compile(r"\s*(\d{1,5})(?:\.0+)?\s*")
#: Excel's day zero (its serial 60 is the 29 February 1900 that never was; later serials
#: count from here).
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def _iso(year: str, month, day) -> str:
    """``YYYY-MM-DD``, or ``YYYY`` alone when the day or month is not a date."""
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return year


def _date_matches(text: str) -> list[tuple[int, int, str]]:
    """Each date in ``text``: its span and its value (``YYYY-MM-DD`` or ``YYYY``)."""
    found = []
    for match in _DATES.finditer(text):
        groups = match.groupdict()
        if groups["iso_y"]:
            value = _iso(groups["iso_y"], groups["iso_m"], groups["iso_d"])
        elif groups["num_y"]:
            value = _iso(groups["num_y"], groups["num_m"], groups["num_d"])
        elif groups["txt_y"]:
            month = _MONTHS[groups["txt_m"].rstrip(".").lower()]
            value = _iso(groups["txt_y"], month, groups["txt_d"])
        elif groups["eng_y"]:
            month = _MONTHS[groups["eng_m"].rstrip(".").lower()]
            value = _iso(groups["eng_y"], month, groups["eng_d"])
        elif groups["my_y"]:
            value = groups["my_y"]
        else:
            value = groups["year"]
        if not 1800 <= int(value[:4]) <= 2100:
            continue
        found.append((match.start(), match.end(), value))
    return found


def parse_dates(text: str, *, serial_ok: bool = False) -> list[str]:
    """Every date in ``text``, in order, deduplicated: ``YYYY-MM-DD`` or a year ``YYYY``.

    Reads ``17 Agustus 1938``, ``17 Agt. 1938``, ``August 17, 1938``, ``17-08-1938``,
    ``17/08/1938``, ``17.08.1938``, ``1938-08-17`` (a time after it ignored), ``Agustus
    1938`` and ``sekitar 1970`` (a year). A day that is not in its month keeps the year.
    With ``serial_ok`` (a spreadsheet's date column) a cell that is only a number is an Excel
    serial date (``14110`` -> ``1938-08-17``).
    """
    if not text:
        return []
    text = str(text)
    if serial_ok and (match := _SERIAL.fullmatch(text)):
        serial = int(match.group(1))
        if 1 <= serial <= 80000 and not 1800 <= serial <= 2100:
            return [(_EXCEL_EPOCH + datetime.timedelta(days=serial)).isoformat()]
    values = []
    for _, _, value in _date_matches(text):
        if value not in values:
            values.append(value)
    return values


_PLACE_FILLER = re.compile(
    r"\b(?:sekitar|kira-kira|kurang lebih|tahun|thn|tanggal|tgl|lahir|di|pada|circa|ca|"
    r"about|approximately|approx|born|in|on)\b\.?",
    re.IGNORECASE,
)


def split_place_date(text: str) -> tuple[str, list[str]]:
    """A place and date of birth written together: the place and the dates.

    ``"Jombang, 17 Agustus 1938"`` -> ``("Jombang", ["1938-08-17"])``; the date may come
    first (``"17-08-1938, Jombang"``); without a date the whole text is the place, without
    a place it is ``""``. Filler words (``sekitar``, ``tahun``, ``lahir di``...) are left out.
    """
    if not text:
        return "", []
    text = str(text)
    matches = _date_matches(text)
    rest = text
    for start, end, _ in reversed(matches):
        rest = rest[:start] + " , " + rest[end:]
    rest = _PLACE_FILLER.sub(" ", rest) if matches else rest
    parts = [" ".join(part.split()).strip(" -/.") for part in re.split(r"[,;/\n]", rest)]
    place = ", ".join(part for part in parts if part)
    dates = []
    for _, _, value in matches:
        if value not in dates:
            dates.append(value)
    return place, dates


_NIK = re.compile(
    r"""(?<![0-9])(?:
        \d{16}
      | \d{4}(?P<s1>[\s.\-])\d{4}(?P=s1)\d{4}(?P=s1)\d{4}
      | \d{6}(?P<s2>[\s.\-])\d{6}(?P=s2)\d{4}
      | \d{2}(?P<s3>[\s.\-])\d{2}(?P=s3)\d{2}(?P=s3)\d{6}(?P=s3)\d{4}
    )(?![0-9])""",
    re.VERBOSE,
)
_PASSPORT = re.compile(
    r"""(?:\bpas+port|\bpaspor)\b
        [^0-9A-Za-z]*
        (?:(?:no|nomor|nomer|number|num|nr|ri|indonesia|republik)\b[^0-9A-Za-z]*){0,3}
        (?P<value>[A-Za-z]{1,2}[\s\-]?\d{5,8}|[A-Za-z0-9]{6,9})(?![0-9A-Za-z])""",
    re.IGNORECASE | re.VERBOSE,
)


def _add_identifier(found: list[dict], kind: str, value: str) -> None:
    """Add ``{"kind", "value"}`` (value normalised) unless it is empty or already there."""
    value = normalize_identifier(value)
    if value and not any(item["kind"] == kind and item["value"] == value for item in found):
        found.append({"kind": kind, "value": value})


def extract_identifiers(text: str) -> list[dict]:
    """The NIK and passport numbers in free text, as ``{"kind", "value"}``, deduplicated.

    A NIK is 16 digits, also written in groups (``3201 0123 4567 0001``, ``320101.170838.0001``,
    ``32.01.01.170838.0001``), with or without ``NIK:`` before it; a passport number (6 to 9
    letters and digits, at least one digit) follows ``paspor``, ``passport`` or ``no.
    paspor``. Values are normalised (:func:`valar.screening.text.normalize_identifier`).
    """
    if not text:
        return []
    text = str(text)
    found: list[dict] = []
    for match in _NIK.finditer(text):
        _add_identifier(found, "nik", match.group(0))
    for match in _PASSPORT.finditer(text):
        value = normalize_identifier(match.group("value"))
        if 6 <= len(value) <= 9 and any(char.isdigit() for char in value):
            _add_identifier(found, "passport", value)
    return found


# -- mapping ---------------------------------------------------------------------------------


def _header_key(name: str) -> str:
    """A header as compared: lower case, punctuation and underscores as single spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(name).casefold()).split())


_SYNONYM_FIELDS = {synonym: key for key, names in SYNONYMS.items() for synonym in names}


def detect_mapping(columns: list[str], script: str, options: dict | None = None) -> dict[str, str]:
    """Entry field -> the column holding it, from the header (case and spaces ignored).

    Headers are matched with :data:`SYNONYMS` (``Nama``/``Name``, ``Tanggal Lahir``/``Date of
    Birth``, ``Kode Densus``/``Reference Number``...); the first column matching a field
    holds it. ``un-consolidated`` without a whole name column maps ``name`` to its name parts
    joined by `` + `` (``FIRST_NAME + SECOND_NAME``). ``options["columns"]`` (checked by
    :func:`check_options`) overrides detection; a column named there that the file does not
    have is a 400 naming ``etl_options``.
    """
    spec = _script(script)
    options = check_options(spec.name, options)
    mapping: dict[str, str] = {}
    for column in columns:
        key = _SYNONYM_FIELDS.get(_header_key(column))
        if key and key not in mapping:
            mapping[key] = column
    if spec.name == "un-consolidated" and "name" not in mapping:
        by_key = {_header_key(column): column for column in columns}
        parts = [by_key[key] for tag in UN_NAME_PARTS if (key := _header_key(tag)) in by_key]
        if parts:
            mapping["name"] = " + ".join(parts)
    chosen = options.get("columns", {})
    if chosen:
        by_key = {_header_key(column): column for column in columns}
        missing = [column for column in chosen.values() if _header_key(column) not in by_key]
        if missing:
            message = f"The file has no column {', '.join(map(repr, missing))}."
            raise _invalid(message, "etl_options")
        for key, column in chosen.items():
            # A column mapped by the options is no longer what detection thought it was.
            for other, detected in list(mapping.items()):
                if detected == by_key[_header_key(column)] and other not in chosen:
                    del mapping[other]
            mapping[key] = by_key[_header_key(column)]
    return {key: mapping[key] for key in FIELDS if key in mapping}


# -- entries ---------------------------------------------------------------------------------


@dataclass
class ParsedEntry:
    """One listed person or organisation as read from the file (the model's fields)."""

    kind: str = "person"
    name: str = ""
    #: The primary name first, then the aliases (deduplicated, any case).
    names: list[str] = field(default_factory=list)
    #: ``YYYY-MM-DD`` or ``YYYY``.
    birth_dates: list[str] = field(default_factory=list)
    birth_place: str = ""
    nationality: str = ""
    #: ``{"kind": "nik" | "passport" | "other", "value": ...}``.
    identifiers: list[dict] = field(default_factory=list)
    address: str = ""
    description: str = ""
    reference: str = ""
    #: The source rows (the header is row 1); several once duplicates are merged.
    rows: list[int] = field(default_factory=list)


@dataclass
class EtlResult:
    """What a run read: the entries, the data rows read, each row's error, the mapping used."""

    entries: list[ParsedEntry]
    row_count: int
    #: ``{"row": n, "message": "..."}``.
    errors: list[dict]
    #: Entry field -> source column.
    mapping: dict[str, str]


_ORGANIZATION_WORDS = frozenset(
    {
        "korporasi",
        "organisasi",
        "organization",
        "organisation",
        "entity",
        "entitas",
        "badan",
        "perusahaan",
        "company",
        "kelompok",
        "group",
        "yayasan",
    }
)
_INDONESIA = frozenset({"wni", "warga negara indonesia", "indonesian", "indonesia", "ri"})


def _kind(value: str | None) -> str:
    """``organization`` when the type says so (``Korporasi``, ``Entity``...), else person."""
    words = set(_header_key(value or "").split())
    return "organization" if words & _ORGANIZATION_WORDS else "person"


def _nationality(value: str | None) -> str:
    """The nationality as written, ``WNI`` (and ``Warga Negara Indonesia``) as Indonesia."""
    value = " ".join((value or "").split())
    if _header_key(value) in _INDONESIA:
        return "Indonesia"
    return value


def _documents(text: str, parsed: ParsedEntry) -> None:
    """UN documents (``Passport: X`` lines) into ``parsed.identifiers``."""
    for line in text.splitlines():
        kind_text, _, number = line.rpartition(":")
        if not kind_text:
            parsed.identifiers.extend(
                item for item in extract_identifiers(line) if item not in parsed.identifiers
            )
            continue
        kind = "passport" if "passport" in kind_text.casefold() else "other"
        _add_identifier(parsed.identifiers, kind, number)


def _append(text: str, more: str) -> str:
    """``text`` with ``more`` on a new line (unless it is already there)."""
    if not more or more in text:
        return text
    return f"{text}\n{more}" if text else more


def _parse_row(
    values: dict[str, str | None], script: Script, mapping: dict[str, str], spreadsheet: bool
) -> ParsedEntry | None:
    """One row's entry (None when it has no name)."""

    def get(key: str) -> str:
        column = mapping.get(key)
        if not column:
            return ""
        if column in values:
            return values[column] or ""
        # The UN name parts joined.
        return " ".join(
            value for part in column.split(" + ") if (value := (values.get(part) or ""))
        )

    names = split_names(get("name"))
    if not names:
        return None
    parsed = ParsedEntry(name=names[0], reference=get("reference"))
    aliases = get("aliases")
    if script.name == "un-consolidated":
        names += [" ".join(name.split()) for name in re.split(r"[;\n|]", aliases)]
    else:
        names += split_names(aliases)
    parsed.names = _dedupe_names([name for name in names if name])
    parsed.kind = _kind(get("kind"))
    parsed.nationality = ", ".join(
        _nationality(value) for value in re.split(r"[\n;]", get("nationality")) if value.strip()
    )
    parsed.address = get("address")
    parsed.description = get("description")
    place = get("birth_place").replace("\n", "; ")
    for key in ("place_date", "birth_date"):
        raw = get(key)
        if not raw:
            continue
        if key == "place_date" or not mapping.get("birth_place"):
            found_place, dates = split_place_date(raw)
            if found_place and not place and not any(char.isdigit() for char in found_place):
                place = found_place
        else:
            dates = []
        dates = parse_dates(raw, serial_ok=spreadsheet and key == "birth_date") or dates
        if not dates:
            parsed.description = _append(parsed.description, f"Birth date as written: {raw}")
        for value in dates:
            if value not in parsed.birth_dates:
                parsed.birth_dates.append(value)
    parsed.birth_place = place
    for value in re.split(r"[\n;,/]", get("nik")):
        if value.strip():
            found = extract_identifiers(value)
            if found:
                parsed.identifiers.extend(item for item in found if item not in parsed.identifiers)
            else:
                _add_identifier(parsed.identifiers, "nik", value)
    for value in re.split(r"[\n;,/]", get("passport")):
        if value.strip():
            _add_identifier(parsed.identifiers, "passport", value)
    if script.name == "un-consolidated":
        _documents(get("identifiers"), parsed)
    else:
        for item in extract_identifiers(get("identifiers")):
            if item not in parsed.identifiers:
                parsed.identifiers.append(item)
    for item in extract_identifiers(parsed.description):
        if item not in parsed.identifiers:
            parsed.identifiers.append(item)
    return parsed


def _dates_compatible(first: list[str], second: list[str]) -> bool:
    """Whether two entries' birth dates may be one person's: one has none, or they share a
    date (a year agrees with a date of that year)."""
    if not first or not second:
        return True
    for one in first:
        for other in second:
            if one == other or ((len(one) == 4 or len(other) == 4) and one[:4] == other[:4]):
                return True
    return False


def _merge(into: ParsedEntry, other: ParsedEntry) -> None:
    """``other`` (a duplicate row) merged into ``into``: the union of its lists (a year is
    dropped when a date of that year is known), first non-empty texts, both rows."""
    into.names = _dedupe_names(into.names + other.names)
    for value in other.birth_dates:
        if value not in into.birth_dates:
            into.birth_dates.append(value)
    # A year says less than a date of that year: only the date is kept.
    into.birth_dates = [
        value
        for value in into.birth_dates
        if len(value) > 4 or not any(len(o) > 4 and o[:4] == value for o in into.birth_dates)
    ]
    for item in other.identifiers:
        if item not in into.identifiers:
            into.identifiers.append(item)
    into.birth_place = into.birth_place or other.birth_place
    into.nationality = into.nationality or other.nationality
    into.address = into.address or other.address
    into.description = _append(into.description, other.description)
    if other.kind == "organization":
        into.kind = "organization"
    into.rows.extend(other.rows)


def _prepare(file, file_type: str, script: str, options, limit: int | None):
    """The script, its options, the read file and the mapping."""
    spec = _script(script)
    options = check_options(spec.name, options)
    if file_type not in spec.file_types:
        raise _unsupported(
            f"The {spec.name} script reads {', '.join(spec.file_types)} files, not {file_type}."
        )
    read = _read(file, file_type, limit)
    mapping = detect_mapping(read.frame.columns, spec.name, options)
    return spec, read, mapping


def preview(
    file, file_type: str, *, script: str, options: dict | None = None, rows: int = 20
) -> dict:
    """The first ``rows`` non-blank data rows and the mapping a run would use.

    ``{"columns", "rows" (cells as text or null), "total_rows" (null when the file has more
    than was read), "mapping", "script" ("dttot@1")}``.
    """
    rows = max(int(rows), 0)
    spec, read, mapping = _prepare(file, file_type, script, options, rows + 1)
    shown = []
    total = 0
    for row in read.frame.iter_rows():
        if not any(row):
            continue
        total += 1
        if len(shown) < rows:
            shown.append(list(row))
    return {
        "columns": read.frame.columns,
        "rows": shown,
        "total_rows": total if read.frame.height <= rows else None,
        "mapping": mapping,
        "script": spec.label,
    }


def run(
    file,
    file_type: str,
    *,
    script: str,
    options: dict | None = None,
    progress: Callable[[int], object] | None = None,
) -> EtlResult:
    """Every row of the file read into entries by ``script``, duplicates merged.

    A row without a name is an error (``{"row", "message"}``) and the run goes on. Rows of
    one document with the same normalised primary name and reference and compatible birth
    dates are one entry (its ``rows`` lists each). ``progress(percent)`` is called every
    :data:`PROGRESS_EVERY` rows and at the end. 400 when the file cannot be read, has no name
    column or does not fit the script.
    """
    spec, read, mapping = _prepare(file, file_type, script, options, None)
    if "name" not in mapping:
        message = (
            "The file has no name column (Nama, Name); name it in the columns option "
            "of generic-csv."
        )
        raise _invalid(message)
    spreadsheet = file_type in ("xls", "xlsx")
    columns = read.frame.columns
    total = read.frame.height
    groups: dict[tuple[str, str], list[ParsedEntry]] = {}
    entries: list[ParsedEntry] = []
    errors: list[dict] = []
    row_count = 0
    for index, row in enumerate(read.frame.iter_rows()):
        if progress and index and index % PROGRESS_EVERY == 0:
            progress(index * 100 // total)
        if not any(row):
            continue
        row_count += 1
        number = read.header_row + 1 + index
        parsed = _parse_row(dict(zip(columns, row, strict=True)), spec, mapping, spreadsheet)
        if parsed is None:
            errors.append({"row": number, "message": "The row has no name."})
            continue
        parsed.rows = [number]
        key = (normalize(parsed.name), parsed.reference.casefold())
        same = groups.setdefault(key, [])
        for entry in same:
            if _dates_compatible(entry.birth_dates, parsed.birth_dates):
                _merge(entry, parsed)
                break
        else:
            same.append(parsed)
            entries.append(parsed)
    if progress:
        progress(100)
    return EtlResult(entries=entries, row_count=row_count, errors=errors, mapping=mapping)
