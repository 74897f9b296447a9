"""The watch-list ETL: file types, reading, mapping, the parsing helpers and whole runs."""

import io

import openpyxl
from django.test import SimpleTestCase

from valar.core.errors import DomainError
from valar.screening import etl

DTTOT_CSV = (
    "No,Nama,Deskripsi,Terduga,Kode Densus,Tempat Lahir,Tanggal Lahir,WN,Alamat\n"
    '1,"ABU BAKAR BA\'ASYIR alias ABU BAKAR BASYIR als. USTADZ ABU",'
    '"Pemimpin JAD. NIK: 3201 0123 4567 0001",Orang,ID-001,Jombang,17 Agustus 1938,WNI,'
    '"Jl. Merdeka 1, Solo"\n'
    "2,HENDRO a.k.a. HENDRA (ABU HAMZAH),No. paspor B 7654321,Orang,ID-002,,"
    "sekitar 1970,WNI,\n"
    '3,,"Tanpa nama",Orang,ID-003,,,,\n'
    '4,Abu Bakar Ba\'asyir,"Dikenal juga, NIK 3201012345670002",Orang,ID-001,,1938,WNI,\n'
    "5,JAMAAH ANSHARUT DAULAH,Organisasi,Korporasi,ID-004,,,,\n"
    "6,SITI,,Orang,ID-006,,tidak diketahui,WNA,\n"
)

UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>6908555</DATAID>
      <FIRST_NAME>ABU BAKAR</FIRST_NAME>
      <SECOND_NAME>BA'ASYIR</SECOND_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDi.217</REFERENCE_NUMBER>
      <COMMENTS1>Leader of Jemaah Islamiyah.</COMMENTS1>
      <NATIONALITY><VALUE>Indonesia</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abu Bakar Bashir</ALIAS_NAME>
      </INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Ustad Abu</ALIAS_NAME>
      </INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ADDRESS><STREET>Pondok Ngruki</STREET><CITY>Solo</CITY>
        <COUNTRY>Indonesia</COUNTRY></INDIVIDUAL_ADDRESS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1938-08-17</DATE>
      </INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1939</YEAR>
      </INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_PLACE_OF_BIRTH><CITY>Jombang</CITY><COUNTRY>Indonesia</COUNTRY>
      </INDIVIDUAL_PLACE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT>
        <NUMBER>A 123456</NUMBER></INDIVIDUAL_DOCUMENT>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>National Identification Number</TYPE_OF_DOCUMENT>
        <NUMBER>3201-0123-4567-0001</NUMBER></INDIVIDUAL_DOCUMENT>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>110404</DATAID>
      <FIRST_NAME>JEMAAH ISLAMIYAH</FIRST_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDe.092</REFERENCE_NUMBER>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>Jemaa Islamiya</ALIAS_NAME>
      </ENTITY_ALIAS>
      <ENTITY_ADDRESS><COUNTRY>Indonesia</COUNTRY></ENTITY_ADDRESS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""


class FakeUpload(io.BytesIO):
    """An uploaded file: bytes with the size the request declared."""

    def __init__(self, data: bytes, size: int | None = None) -> None:
        """Keep the bytes and the declared size (the bytes' length by default)."""
        super().__init__(data)
        self.size = len(data) if size is None else size


def xlsx_bytes(rows: list[list]) -> bytes:
    """An XLSX workbook of ``rows`` on its first sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class FileTypeTests(SimpleTestCase):
    """A file's type is proven by its bytes; too large and unknown files are refused."""

    def test_signatures(self):
        """ZIP is xlsx, OLE2 is xls, markup is xml, UTF-8 text is csv."""
        self.assertEqual(etl.detect_file_type(b"PK\x03\x04\x14\x00\x06\x00"), "xlsx")
        self.assertEqual(etl.detect_file_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "xls")
        self.assertEqual(etl.detect_file_type(b'\xef\xbb\xbf  <?xml version="1.0"?>'), "xml")
        self.assertEqual(etl.detect_file_type(b"<CONSOLIDATED_LIST>"), "xml")
        self.assertEqual(etl.detect_file_type(b"Nama,Tanggal Lahir\nBA'ASYIR,"), "csv")

    def test_binaries_are_none(self):
        """A PDF, a PNG, text with NUL bytes, non-UTF-8 text and nothing are no list type."""
        self.assertIsNone(etl.detect_file_type(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3"))
        self.assertIsNone(etl.detect_file_type(b"%PDF-1.4\nplain ascii"))
        self.assertIsNone(etl.detect_file_type(b"\x89PNG\r\n\x1a\n"))
        self.assertIsNone(etl.detect_file_type(b"a,b\x00c"))
        self.assertIsNone(etl.detect_file_type(b"Nama\n\xff\xfe\xfa"))
        self.assertIsNone(etl.detect_file_type(b""))

    def test_head_cut_inside_a_character(self):
        """A head that ends in the middle of a UTF-8 sequence is still text."""
        head = "Nama,Tempat\nJosé".encode()[:-1]
        self.assertEqual(etl.detect_file_type(head), "csv")

    def test_check_upload_types(self):
        """check_list_upload returns the type of an XLSX, XLS, XML and CSV upload."""
        self.assertEqual(etl.check_list_upload(FakeUpload(xlsx_bytes([["Nama"]]))), "xlsx")
        xls = FakeUpload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
        self.assertEqual(etl.check_list_upload(xls), "xls")
        self.assertEqual(etl.check_list_upload(FakeUpload(UN_XML.encode())), "xml")
        upload = FakeUpload(DTTOT_CSV.encode())
        self.assertEqual(etl.check_list_upload(upload), "csv")
        self.assertEqual(upload.tell(), 0)

    def test_pdf_named_csv_refused(self):
        """A PDF renamed .csv is a 400 unsupported_file naming the field."""
        upload = FakeUpload(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
        upload.name = "dttot.csv"
        with self.assertRaises(DomainError) as caught:
            etl.check_list_upload(upload, field="upload")
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.code, "unsupported_file")
        self.assertIn("upload", caught.exception.errors)

    def test_too_large_refused(self):
        """A file declared over 50 MB is a 413 too_large, its bytes unread."""
        upload = FakeUpload(b"Nama\nX\n", size=etl.MAX_LIST_BYTES + 1)
        with self.assertRaises(DomainError) as caught:
            etl.check_list_upload(upload)
        self.assertEqual(caught.exception.status, 413)
        self.assertEqual(caught.exception.code, "too_large")

    def test_empty_refused(self):
        """An empty file is a 400 unsupported_file."""
        with self.assertRaises(DomainError) as caught:
            etl.check_list_upload(FakeUpload(b""))
        self.assertEqual(caught.exception.code, "unsupported_file")


class ReadFrameTests(SimpleTestCase):
    """read_frame gives text columns named by the first non-blank row; bad files are 400s."""

    def test_csv_every_column_text(self):
        """Numbers stay text, blank cells are null, the header is the first non-blank row."""
        frame = etl.read_frame(b"\n\nNo,Nama,NIK\n1,ABU,3201012345670001\n2,,\n", "csv")
        self.assertEqual(frame.columns, ["No", "Nama", "NIK"])
        self.assertEqual(frame.row(0), ("1", "ABU", "3201012345670001"))
        self.assertEqual(frame.row(1), ("2", None, None))
        self.assertTrue(all(str(dtype) == "String" for dtype in frame.dtypes))

    def test_csv_semicolon(self):
        """A semicolon-separated CSV is read by its separator."""
        frame = etl.read_frame(b"Nama;Tanggal Lahir\nABU;17 Agustus 1938\n", "csv")
        self.assertEqual(frame.columns, ["Nama", "Tanggal Lahir"])
        self.assertEqual(frame.row(0), ("ABU", "17 Agustus 1938"))

    def test_csv_limit(self):
        """At most ``limit`` rows after the header are read."""
        data = "Nama\n" + "".join(f"N{number}\n" for number in range(50))
        self.assertEqual(etl.read_frame(data.encode(), "csv", limit=5).height, 5)

    def test_xlsx(self):
        """The first sheet of an XLSX workbook, every cell as text."""
        data = xlsx_bytes([["Nama", "Tanggal Lahir", "NIK"], ["ABU", "17-08-1938", 12]])
        frame = etl.read_frame(io.BytesIO(data), "xlsx")
        self.assertEqual(frame.columns, ["Nama", "Tanggal Lahir", "NIK"])
        self.assertEqual(frame.row(0), ("ABU", "17-08-1938", "12"))

    def test_bad_files_are_unsupported(self):
        """Non-UTF-8 CSV, a ZIP that is no workbook, a broken XLS or XML: 400, no exception."""
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "not a workbook")
        cases = [
            (b"Nama\n\xff\xfe", "csv"),
            (buffer.getvalue(), "xlsx"),
            (b"PK\x03\x04garbage", "xlsx"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
            (b"<CONSOLIDATED_LIST><INDIVIDUALS>", "xml"),
            (b"<html><body>no</body></html>", "xml"),
            (b"", "csv"),
        ]
        for data, file_type in cases:
            with self.subTest(file_type=file_type, data=data[:20]):
                with self.assertRaises(DomainError) as caught:
                    etl.read_frame(data, file_type)
                self.assertEqual(caught.exception.status, 400)
                self.assertEqual(caught.exception.code, "unsupported_file")

    def test_xml_doctype_refused(self):
        """An XML list declaring a document type or entities (billion laughs) is refused."""
        bomb = (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
            "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&lol2;</FIRST_NAME>"
            "</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"
        )
        with self.assertRaises(DomainError) as caught:
            etl.read_frame(bomb.encode(), "xml")
        self.assertEqual(caught.exception.code, "unsupported_file")

    def test_xml_flattened(self):
        """The UN XML is one row per individual, then per entity, in the UN columns."""
        frame = etl.read_frame(UN_XML.encode(), "xml")
        self.assertEqual(frame.columns, list(etl.UN_COLUMNS))
        self.assertEqual(frame.height, 2)
        self.assertEqual(frame["NAME"].to_list(), ["ABU BAKAR BA'ASYIR", "JEMAAH ISLAMIYAH"])
        self.assertEqual(frame["TYPE"].to_list(), ["Individual", "Entity"])


class SplitNamesTests(SimpleTestCase):
    """split_names: the primary name, then each alias."""

    def test_alias_words(self):
        """``alias`` and ``als.`` separate names; trimmed, in order."""
        self.assertEqual(
            etl.split_names("ABU BAKAR BA'ASYIR alias ABU BAKAR BASYIR als. USTADZ ABU"),
            ["ABU BAKAR BA'ASYIR", "ABU BAKAR BASYIR", "USTADZ ABU"],
        )

    def test_aka_parentheses_and_symbols(self):
        """``a.k.a.``, ``aka``, parentheses, ``@``, ``;`` and a spaced slash separate names."""
        self.assertEqual(
            etl.split_names("HENDRO a.k.a. HENDRA (ABU HAMZAH) @ HAMZAH; ALI / ALI KAMAL aka AK"),
            ["HENDRO", "HENDRA", "ABU HAMZAH", "HAMZAH", "ALI", "ALI KAMAL", "AK"],
        )

    def test_kept_words_and_duplicates(self):
        """Words containing ``als`` stay, ``S/O`` stays; repeats of any case are dropped."""
        self.assertEqual(
            etl.split_names("NICHOLAS S/O ALSIR ALIAS nicholas s/o alsir als ALSIR"),
            ["NICHOLAS S/O ALSIR", "ALSIR"],
        )

    def test_empty(self):
        """Empty text, separators only and None give no names."""
        self.assertEqual(etl.split_names(""), [])
        self.assertEqual(etl.split_names(" alias ; () "), [])
        self.assertEqual(etl.split_names(None), [])


class ParseDatesTests(SimpleTestCase):
    """parse_dates: Indonesian, English and numeric dates; years alone."""

    def test_forms(self):
        """Each written form gives the ISO date or the year."""
        cases = {
            "17 Agustus 1938": ["1938-08-17"],
            "17 Agt. 1938": ["1938-08-17"],
            "1 Mei 1970": ["1970-05-01"],
            "5 Des 1980": ["1980-12-05"],
            "August 17, 1938": ["1938-08-17"],
            "17-08-1938": ["1938-08-17"],
            "17/08/1938": ["1938-08-17"],
            "1938-08-17": ["1938-08-17"],
            "1938-08-17 00:00:00": ["1938-08-17"],
            "Agustus 1938": ["1938"],
            "1938": ["1938"],
            "sekitar 1970": ["1970"],
            "31-02-1980": ["1980"],
            "tidak diketahui": [],
            "": [],
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(etl.parse_dates(text), expected)

    def test_several(self):
        """Every date of the text, in order and once."""
        self.assertEqual(
            etl.parse_dates("17 Agustus 1938 atau 1939; 17-08-1938"), ["1938-08-17", "1939"]
        )

    def test_excel_serial(self):
        """A bare number is an Excel serial date only when the column is a date column."""
        self.assertEqual(etl.parse_dates("14109", serial_ok=True), ["1938-08-17"])
        self.assertEqual(etl.parse_dates("14109.0", serial_ok=True), ["1938-08-17"])
        self.assertEqual(etl.parse_dates("14109"), [])
        self.assertEqual(etl.parse_dates("1938", serial_ok=True), ["1938"])


class SplitPlaceDateTests(SimpleTestCase):
    """split_place_date: the place and the dates of a "place, date" cell."""

    def test_place_then_date(self):
        """``Jombang, 17 Agustus 1938`` is Jombang and the date."""
        self.assertEqual(
            etl.split_place_date("Jombang, 17 Agustus 1938"), ("Jombang", ["1938-08-17"])
        )
        self.assertEqual(etl.split_place_date("Jombang, 17-08-1938"), ("Jombang", ["1938-08-17"]))

    def test_date_first_and_fillers(self):
        """The date may come first; ``sekitar`` is no place; no date leaves the place."""
        self.assertEqual(etl.split_place_date("17/08/1938, Solo"), ("Solo", ["1938-08-17"]))
        self.assertEqual(etl.split_place_date("sekitar 1970"), ("", ["1970"]))
        self.assertEqual(etl.split_place_date("Lamongan"), ("Lamongan", []))
        self.assertEqual(etl.split_place_date(""), ("", []))


class ExtractIdentifiersTests(SimpleTestCase):
    """extract_identifiers: NIK and passport numbers in free text."""

    def test_nik_forms(self):
        """16 digits, grouped by spaces or dots, once each."""
        text = (
            "NIK: 3201 0123 4567 0001; KTP 3201012345670001, "
            "lama 32.01.01.170838.0002, telp 0812 3456 7890"
        )
        self.assertEqual(
            etl.extract_identifiers(text),
            [
                {"kind": "nik", "value": "3201012345670001"},
                {"kind": "nik", "value": "3201011708380002"},
            ],
        )

    def test_passports(self):
        """Letters and digits after paspor, no. paspor or passport number."""
        text = "No. Paspor: B 7654321. Passport number A1234567, paspor RI X123456; paspor hilang"
        self.assertEqual(
            etl.extract_identifiers(text),
            [
                {"kind": "passport", "value": "B7654321"},
                {"kind": "passport", "value": "A1234567"},
                {"kind": "passport", "value": "X123456"},
            ],
        )

    def test_no_identifiers(self):
        """Longer numbers, short ones and empty text give none."""
        self.assertEqual(etl.extract_identifiers("rekening 12345678901234567890, No 12"), [])
        self.assertEqual(etl.extract_identifiers(""), [])


class MappingAndOptionsTests(SimpleTestCase):
    """detect_mapping matches headers by synonyms; check_options validates the column map."""

    def test_dttot_headers(self):
        """DTTOT's Indonesian headers, any case and spacing."""
        columns = [
            "No",
            " NAMA ",
            "Deskripsi",
            "Terduga",
            "Kode  Densus",
            "Tempat/Tanggal Lahir",
            "Kewarganegaraan",
            "Alamat",
        ]
        self.assertEqual(
            etl.detect_mapping(columns, "dttot"),
            {
                "name": " NAMA ",
                "kind": "Terduga",
                "place_date": "Tempat/Tanggal Lahir",
                "nationality": "Kewarganegaraan",
                "address": "Alamat",
                "description": "Deskripsi",
                "reference": "Kode  Densus",
            },
        )

    def test_un_name_parts(self):
        """A UN CSV without a whole name maps the name to its parts."""
        mapping = etl.detect_mapping(
            ["FIRST_NAME", "SECOND_NAME", "REFERENCE_NUMBER"], "un-consolidated"
        )
        self.assertEqual(mapping["name"], "FIRST_NAME + SECOND_NAME")
        self.assertEqual(mapping["reference"], "REFERENCE_NUMBER")

    def test_column_map_overrides(self):
        """generic-csv's columns option names the columns; detection fills the rest."""
        mapping = etl.detect_mapping(
            ["Full Name", "Other", "Nationality"],
            "generic-csv",
            {"columns": {"name": "other", "aliases": "Full Name"}},
        )
        self.assertEqual(
            mapping, {"name": "Other", "aliases": "Full Name", "nationality": "Nationality"}
        )

    def test_check_options(self):
        """Good options are cleaned; bad ones are 400s naming etl_options."""
        self.assertEqual(
            etl.check_options("generic-csv", {"columns": {"name": " Full Name "}}),
            {"columns": {"name": "Full Name"}},
        )
        self.assertEqual(etl.check_options("dttot", None), {})
        bad = [
            ("generic-csv", {"columns": {"shoe_size": "Size"}}),
            ("generic-csv", {"columns": {"name": 3}}),
            ("generic-csv", {"columns": {"name": ""}}),
            ("generic-csv", {"columns": ["name"]}),
            ("generic-csv", {"sheet": 2}),
            ("generic-csv", "name=Full Name"),
            ("dttot", {"columns": {"name": "Nama"}}),
        ]
        for script, options in bad:
            with self.subTest(script=script, options=options):
                with self.assertRaises(DomainError) as caught:
                    etl.check_options(script, options)
                self.assertEqual(caught.exception.status, 400)
                self.assertIn("etl_options", caught.exception.errors)

    def test_unknown_script(self):
        """An unknown script is a 400 naming etl_script."""
        with self.assertRaises(DomainError) as caught:
            etl.check_options("ofac", {})
        self.assertIn("etl_script", caught.exception.errors)

    def test_scripts(self):
        """Every script has its label and file types."""
        self.assertEqual(set(etl.SCRIPTS), {"dttot", "generic-csv", "un-consolidated"})
        self.assertEqual(etl.SCRIPTS["dttot"].label, "dttot@1")
        self.assertIn("xml", etl.SCRIPTS["un-consolidated"].file_types)
        self.assertIn("columns", etl.SCRIPTS["generic-csv"].options)


class DttotRunTests(SimpleTestCase):
    """A DTTOT-shaped file read by the dttot script."""

    def setUp(self):
        """Run the script over the DTTOT sample."""
        self.progress = []
        self.result = etl.run(
            io.BytesIO(DTTOT_CSV.encode()), "csv", script="dttot", progress=self.progress.append
        )
        self.by_reference = {entry.reference: entry for entry in self.result.entries}

    def test_counts_and_mapping(self):
        """Six rows read, four entries (a merge, a row error), the mapping, progress to 100."""
        self.assertEqual(self.result.row_count, 6)
        self.assertEqual(len(self.result.entries), 4)
        self.assertEqual(self.result.mapping["name"], "Nama")
        self.assertEqual(self.result.mapping["reference"], "Kode Densus")
        self.assertEqual(self.progress[-1], 100)

    def test_aliases_dates_identifiers(self):
        """Names split on alias/als., the date read, NIK from the description, WNI."""
        entry = self.by_reference["ID-001"]
        self.assertEqual(entry.kind, "person")
        self.assertEqual(entry.name, "ABU BAKAR BA'ASYIR")
        self.assertEqual(entry.names, ["ABU BAKAR BA'ASYIR", "ABU BAKAR BASYIR", "USTADZ ABU"])
        self.assertEqual(entry.birth_dates, ["1938-08-17"])
        self.assertEqual(entry.birth_place, "Jombang")
        self.assertEqual(entry.nationality, "Indonesia")
        self.assertEqual(entry.address, "Jl. Merdeka 1, Solo")

    def test_duplicate_merged(self):
        """Rows 2 and 5 (same name once normalised, same code, 1938) are one entry."""
        entry = self.by_reference["ID-001"]
        self.assertEqual(entry.rows, [2, 5])
        self.assertEqual(
            entry.identifiers,
            [
                {"kind": "nik", "value": "3201012345670001"},
                {"kind": "nik", "value": "3201012345670002"},
            ],
        )

    def test_aka_parentheses_passport(self):
        """a.k.a. and parentheses split names; the passport is found; sekitar 1970."""
        entry = self.by_reference["ID-002"]
        self.assertEqual(entry.names, ["HENDRO", "HENDRA", "ABU HAMZAH"])
        self.assertEqual(entry.identifiers, [{"kind": "passport", "value": "B7654321"}])
        self.assertEqual(entry.birth_dates, ["1970"])
        self.assertEqual(entry.rows, [3])

    def test_row_without_name(self):
        """The row without a name is an error with its row number; the run went on."""
        self.assertEqual(self.result.errors, [{"row": 4, "message": "The row has no name."}])

    def test_korporasi(self):
        """Terduga Korporasi is an organization."""
        entry = self.by_reference["ID-004"]
        self.assertEqual(entry.kind, "organization")
        self.assertEqual(entry.name, "JAMAAH ANSHARUT DAULAH")

    def test_unreadable_date_kept(self):
        """A date that cannot be read is kept as text in the description."""
        entry = self.by_reference["ID-006"]
        self.assertEqual(entry.birth_dates, [])
        self.assertIn("tidak diketahui", entry.description)
        self.assertEqual(entry.nationality, "WNA")

    def test_different_dates_not_merged(self):
        """Same name and reference but birth dates that disagree stay two entries."""
        data = "Nama,Tanggal Lahir\nABU,17-08-1938\nABU,01-01-1950\nabu,1938\n"
        result = etl.run(data.encode(), "csv", script="dttot")
        self.assertEqual([entry.rows for entry in result.entries], [[2, 4], [3]])
        self.assertEqual(result.entries[0].birth_dates, ["1938-08-17"])

    def test_xlsx_run(self):
        """A DTTOT workbook: dates stored as dates, a NIK stored as a number, Korporasi."""
        import datetime

        data = xlsx_bytes(
            [
                ["No", "Nama", "Terduga", "Tanggal Lahir", "NIK", "WN"],
                [1, "ABU als. ABI", "Orang", datetime.datetime(1938, 8, 17), 3201012345670001],
                [2, "PT CONTOH", "Korporasi", None, None, None],
                [3, "SITI", "Orang", 14109, None, "WNI"],
            ]
        )
        result = etl.run(io.BytesIO(data), "xlsx", script="dttot")
        first, second, third = result.entries
        self.assertEqual(first.names, ["ABU", "ABI"])
        self.assertEqual(first.birth_dates, ["1938-08-17"])
        self.assertEqual(first.identifiers, [{"kind": "nik", "value": "3201012345670001"}])
        self.assertEqual(second.kind, "organization")
        self.assertEqual(third.birth_dates, ["1938-08-17"])
        self.assertEqual(third.nationality, "Indonesia")
        self.assertEqual([entry.rows for entry in result.entries], [[2], [3], [4]])

    def test_xlsx_title_rows(self):
        """Rows above the header (a title, a blank row) keep the spreadsheet's row numbers."""
        data = xlsx_bytes(
            [
                ["DAFTAR TERDUGA TERORIS DAN ORGANISASI TERORIS"],
                [],
                ["No", "Nama", "Kode Densus"],
                [1, "ABU", "ID-1"],
                [2, None, "ID-2"],
            ]
        )
        result = etl.run(io.BytesIO(data), "xlsx", script="dttot")
        self.assertEqual(result.entries[0].rows, [4])
        self.assertEqual(result.errors, [{"row": 5, "message": "The row has no name."}])

    def test_no_name_column(self):
        """A file without a name column is a 400 invalid_file."""
        with self.assertRaises(DomainError) as caught:
            etl.run(b"Kota,Umur\nSolo,40\n", "csv", script="dttot")
        self.assertEqual(caught.exception.code, "invalid_file")

    def test_wrong_type_for_script(self):
        """The dttot script does not read XML: 400 unsupported_file."""
        with self.assertRaises(DomainError) as caught:
            etl.run(UN_XML.encode(), "xml", script="dttot")
        self.assertEqual(caught.exception.code, "unsupported_file")


class GenericCsvTests(SimpleTestCase):
    """generic-csv with a column map."""

    DATA = (
        "Full Name,AKA,Born,Country,Notes\n"
        "John Smith,Johnny; J. Smith,1970-01-02,Indonesia,Passport no. C1234567\n"
    )

    def test_column_map(self):
        """The named columns are read: name, aliases, birth date, nationality."""
        options = {
            "columns": {
                "name": "Full Name",
                "aliases": "AKA",
                "birth_date": "Born",
                "nationality": "Country",
                "description": "Notes",
            }
        }
        result = etl.run(self.DATA.encode(), "csv", script="generic-csv", options=options)
        (entry,) = result.entries
        self.assertEqual(entry.names, ["John Smith", "Johnny", "J. Smith"])
        self.assertEqual(entry.birth_dates, ["1970-01-02"])
        self.assertEqual(entry.nationality, "Indonesia")
        self.assertEqual(entry.identifiers, [{"kind": "passport", "value": "C1234567"}])
        self.assertEqual(result.mapping["aliases"], "AKA")

    def test_bad_column_map(self):
        """An unknown field, or a column the file lacks, is a 400 naming etl_options."""
        for options in (
            {"columns": {"nickname": "AKA"}},
            {"columns": {"name": "Nama Lengkap"}},
        ):
            with self.subTest(options=options):
                with self.assertRaises(DomainError) as caught:
                    etl.run(self.DATA.encode(), "csv", script="generic-csv", options=options)
                self.assertEqual(caught.exception.status, 400)
                self.assertIn("etl_options", caught.exception.errors)


class UnConsolidatedTests(SimpleTestCase):
    """The UN consolidated list, as XML and as CSV."""

    def test_xml(self):
        """Individuals and entities, their aliases, dates, documents and references."""
        result = etl.run(io.BytesIO(UN_XML.encode()), "xml", script="un-consolidated")
        self.assertEqual(result.errors, [])
        person, entity = result.entries
        self.assertEqual(person.kind, "person")
        self.assertEqual(person.names, ["ABU BAKAR BA'ASYIR", "Abu Bakar Bashir", "Ustad Abu"])
        self.assertEqual(person.birth_dates, ["1938-08-17", "1939"])
        self.assertEqual(person.birth_place, "Jombang, Indonesia")
        self.assertEqual(person.nationality, "Indonesia")
        self.assertEqual(person.reference, "QDi.217")
        self.assertEqual(
            person.identifiers,
            [
                {"kind": "passport", "value": "A123456"},
                {"kind": "other", "value": "3201012345670001"},
            ],
        )
        self.assertEqual(person.address, "Pondok Ngruki, Solo, Indonesia")
        self.assertEqual(person.description, "Leader of Jemaah Islamiyah.")
        self.assertEqual(entity.kind, "organization")
        self.assertEqual(entity.names, ["JEMAAH ISLAMIYAH", "Jemaa Islamiya"])
        self.assertEqual(entity.reference, "QDe.092")
        self.assertEqual(entity.rows, [3])

    def test_csv_with_name_parts(self):
        """A CSV with the UN's columns: name parts joined, aliases on semicolons."""
        data = (
            "FIRST_NAME,SECOND_NAME,TYPE,REFERENCE_NUMBER,ALIASES,DATE_OF_BIRTH\n"
            "ABU,BAKAR,Individual,QDi.217,Abu Bashir; Ustad Abu,1938\n"
            "AL-QAIDA,,Entity,QDe.004,The Base,\n"
        )
        person, entity = etl.run(data.encode(), "csv", script="un-consolidated").entries
        self.assertEqual(person.names, ["ABU BAKAR", "Abu Bashir", "Ustad Abu"])
        self.assertEqual(person.birth_dates, ["1938"])
        self.assertEqual(entity.kind, "organization")


class PreviewTests(SimpleTestCase):
    """preview: the first rows and the mapping a run would use."""

    def test_first_rows(self):
        """The first two rows, the total unknown (more rows), the mapping and the script."""
        result = etl.preview(DTTOT_CSV.encode(), "csv", script="dttot", rows=2)
        self.assertEqual(result["script"], "dttot@1")
        self.assertEqual(result["columns"][:2], ["No", "Nama"])
        self.assertEqual(len(result["rows"]), 2)
        self.assertTrue(result["rows"][0][1].startswith("ABU BAKAR BA'ASYIR alias"))
        self.assertEqual(result["rows"][0][0], "1")
        self.assertIsNone(result["total_rows"])
        self.assertEqual(result["mapping"]["name"], "Nama")

    def test_whole_file(self):
        """A file shorter than the preview gives every row, the total and nulls for blanks."""
        result = etl.preview(b"Nama,Alias\nABU,\nABI,X\n", "csv", script="generic-csv")
        self.assertEqual(result["rows"], [["ABU", None], ["ABI", "X"]])
        self.assertEqual(result["total_rows"], 2)
        self.assertEqual(result["mapping"], {"name": "Nama", "aliases": "Alias"})

    def test_xml_preview(self):
        """An XML list previews its flattened rows."""
        result = etl.preview(UN_XML.encode(), "xml", script="un-consolidated", rows=1)
        self.assertEqual(result["columns"], list(etl.UN_COLUMNS))
        self.assertEqual(len(result["rows"]), 1)
        self.assertIsNone(result["total_rows"])
