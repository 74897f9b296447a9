"""Shared fixtures of the screening tests: a DTTOT-shaped list and helpers to load it."""

from django.core.files.uploadedfile import SimpleUploadedFile

from valar.screening import services
from valar.screening.models import ListDocument
from valar.screening.services import SAMPLE

API = "/api/v1/screening/"

#: A list shaped as PPATK publishes DTTOT (the demo's too): Indonesian headers, aliases,
#: Indonesian dates, a NIK in the description, a corporation, and row 5 repeating row 2.
DTTOT_CSV = SAMPLE.read_text(encoding="utf-8")


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
