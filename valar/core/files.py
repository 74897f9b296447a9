"""Uploaded files: the one set of rules every attachment follows (finance receipts, support
chat files).

A file is at most :data:`MAX_ATTACHMENT_BYTES` (413 ``too_large`` over it) and is a PDF, PNG,
JPEG or WebP file as its first bytes prove (:data:`SIGNATURES`; 400 ``unsupported_file``
otherwise): never what its name or the client's content type says. It is stored under an
unguessable name (:func:`storage_name`), never the uploaded one, which is kept only to be
shown and offered on download.
"""

import uuid

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation

from valar.core.errors import DomainError

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: File signatures accepted for attachments: the bytes decide, never the file's name.
SIGNATURES = (
    ("application/pdf", lambda head: head.startswith(b"%PDF-")),
    ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
)
#: The content types :data:`SIGNATURES` accept.
CONTENT_TYPES = tuple(content_type for content_type, _ in SIGNATURES)


def sniff_content_type(head: bytes) -> str | None:
    """The content type the file's first bytes prove, if it is one we accept."""
    for content_type, matches in SIGNATURES:
        if matches(head):
            return content_type
    return None


def check_upload(upload, *, field: str = "file") -> str:
    """Check an uploaded file against the rules; return the content type its bytes prove.

    413 ``too_large`` over 10 MB; 400 ``unsupported_file`` on ``field`` for anything but a
    PDF, PNG, JPEG or WebP file.
    """
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise DomainError(
            "The file is larger than 10 MB.",
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        message = "Only PDF, PNG, JPEG and WebP files are accepted."
        raise DomainError(message, code="unsupported_file", errors={field: [message]})
    return content_type


def storage_name(folder: str, organization_id) -> str:
    """An unguessable storage name under ``folder`` and the organization, never the upload's."""
    return f"{folder}/{organization_id}/{uuid.uuid4().hex}"


class FileNegotiation(DefaultContentNegotiation):
    """A download answers the file's own type whatever ``Accept`` asks (``image/png``...).

    Errors on the way are rendered by the first renderer (problem details), not refused 406.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        """The negotiated renderer, or the first one instead of a 406."""
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


def download_responses() -> dict:
    """The OpenAPI responses of a download: the file, as one of the accepted types."""
    return {
        (200, content_type): OpenApiResponse(
            OpenApiTypes.BINARY, description="The file, as the type it was stored as"
        )
        for content_type in CONTENT_TYPES
    }


def download(file, name: str, content_type: str) -> FileResponse:
    """A stored file as a download under its original name and proven type."""
    return FileResponse(
        file.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )


def delete_stored_files(model, field: str = "file") -> None:
    """Remove the stored file of every deleted ``model`` row (a ``post_delete`` receiver,
    so a row deleted with its parent loses its file too); call it once, from ``ready()``."""
    from django.db.models.signals import post_delete

    def delete_file(sender, instance, **kwargs) -> None:
        """Remove the deleted row's file, if it has one."""
        stored = getattr(instance, field)
        if stored:
            stored.delete(save=False)

    post_delete.connect(
        delete_file, sender=model, weak=False, dispatch_uid=f"files.{model._meta.label}"
    )
