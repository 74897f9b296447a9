"""Shared fixtures of the screening tests: a DTTOT-shaped list and helpers to load it."""

from django.core.files.uploadedfile import SimpleUploadedFile

from valar.screening import services
from valar.screening.models import ListDocument

API = "/api/v1/screening/"

#: A list shaped as PPATK publishes DTTOT: Indonesian headers, aliases, Indonesian dates, a
#: NIK in the description, a corporation, and row 5 repeating row 2.
DTTOT_CSV = (
    "No,Nama,Deskripsi,Terduga,Kode Densus,Tempat Lahir,Tanggal Lahir,WN,Alamat\n"
    '1,"ABU BAKAR BA\'ASYIR alias ABU BAKAR BASYIR als. USTADZ ABU",'
    '"NIK 3320011708380001, pimpinan",Orang,DK-001,Jombang,17 Agustus 1938,Indonesia,'
    '"Ngruki, Sukoharjo"\n'
    '2,"AMAN ABDURRAHMAN alias OMAN ROCHMAN",,Orang,DK-002,Sumedang,5 Januari 1972,'
    "Indonesia,Nusakambangan\n"
    '3,"JAMAAH ANSHARUT DAULAH (JAD)",organisasi teror,Korporasi,DK-003,,,Indonesia,\n'
    '4,"BAHRUN NAIM alias ANGGI INDAH KUSUMA",,Orang,DK-004,Pekalongan,6 September 1983,'
    "Indonesia,Solo\n"
    '5,"ABU BAKAR BA\'ASYIR alias ABU BAKAR BASYIR als. USTADZ ABU",'
    '"NIK 3320011708380001, pimpinan",Orang,DK-001,Jombang,17 Agustus 1938,Indonesia,'
    '"Ngruki, Sukoharjo"\n'
)


def dttot_upload(name: str = "dttot.csv", content: str = DTTOT_CSV) -> SimpleUploadedFile:
    """The DTTOT-shaped list as an uploaded file."""
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def processed_list(tenant, content: str = DTTOT_CSV) -> ListDocument:
    """Upload and process the list for ``tenant`` in the test's transaction (no job)."""
    document = services.document_upload(
        tenant=tenant, upload=dttot_upload(content=content), data={"name": "DTTOT"}
    )
    services.document_process(document_id=document.pk, script=document.etl_script)
    document.refresh_from_db()
    return document
