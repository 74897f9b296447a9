"""Attachments: checked by their bytes, at most 10 MB, unguessable names, deleted with the entry."""

import datetime
import os
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from valar.core.files import MAX_ATTACHMENT_BYTES
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Attachment, Kind, LedgerEntry
from valar.finance.services import entry_create
from valar.finance.tests.support import (
    API,
    HTML,
    JPEG,
    PDF,
    PNG,
    WEBP,
    category,
    entry,
)
from valar.organizations.models import Membership

ATTACHMENTS = f"{API}attachments/"


class AttachmentTests(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """Uploading, downloading and deleting receipts and invoices."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.entry = entry(self.org, category(self.org), created_by=self.users[Role.ADMIN])

    def upload(self, content, name="receipt.pdf", client=None, entry=None, content_type=None):
        """Upload ``content`` as ``name`` to the entry through the API."""
        upload = SimpleUploadedFile(
            name, content, content_type=content_type or "application/octet-stream"
        )
        return (client or self.admin).post(
            ATTACHMENTS,
            {"entry": str((entry or self.entry).pk), "file": upload},
            format="multipart",
        )

    def stored_path(self, attachment_id) -> str:
        """Where the attachment's file lies on disk."""
        return Attachment.objects.get(pk=attachment_id).file.path

    def test_each_accepted_type_is_stored_with_the_content_type_its_bytes_prove(self):
        cases = {
            "invoice.pdf": (PDF, "application/pdf"),
            "receipt.png": (PNG, "image/png"),
            "photo.jpg": (JPEG, "image/jpeg"),
            "scan.webp": (WEBP, "image/webp"),
        }
        for name, (content, expected) in cases.items():
            with self.subTest(name=name):
                response = self.upload(content, name)
                self.assertEqual(response.status_code, 201, response.content)
                body = response.json()
                self.assertEqual(body["content_type"], expected)
                self.assertEqual(body["original_name"], name)
                self.assertEqual(body["size"], len(content))
                self.assertEqual(body["entry"], str(self.entry.pk))
                self.assertEqual(body["created_by"], str(self.users[Role.ADMIN].pk))
                self.assertNotIn("file", body)
                with open(self.stored_path(body["id"]), "rb") as stored:
                    self.assertEqual(stored.read(), content)

    def test_the_content_type_comes_from_the_bytes_not_the_name_or_the_header(self):
        response = self.upload(PNG, "looks-like.pdf", content_type="application/pdf")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["content_type"], "image/png")

    def test_the_stored_name_is_unguessable_and_not_the_uploaded_one(self):
        first = self.upload(PDF, "invoice-2026-01.pdf").json()
        second = self.upload(PDF, "invoice-2026-01.pdf").json()
        names = [Attachment.objects.get(pk=row["id"]).file.name for row in (first, second)]
        self.assertNotEqual(names[0], names[1])
        for name in names:
            self.assertNotIn("invoice", name)
            self.assertTrue(name.startswith(f"attachments/{self.org.pk}/"), name)
            self.assertGreaterEqual(len(os.path.basename(name)), 32)

    def test_a_file_named_pdf_whose_bytes_are_html_is_refused(self):
        response = self.upload(HTML, "invoice.pdf", content_type="application/pdf")
        body = self.assert_problem(response, 400, field="file", code="unsupported_file")
        self.assertIn("PDF, PNG, JPEG and WebP", body["errors"]["file"][0])
        self.assertFalse(Attachment.objects.exists())
        self.assertEqual(os.listdir(self.media_root), [])

    def test_other_types_and_truncated_signatures_are_refused(self):
        cases = {
            "a.gif": b"GIF89a" + b"\x00" * 32,
            "a.zip": b"PK\x03\x04" + b"\x00" * 32,
            "a.webp": b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 32,
            "a.png": b"\x89PNG\r\n",
            "empty.pdf": b"%PD",
        }
        for name, content in cases.items():
            with self.subTest(name=name):
                self.assert_problem(self.upload(content, name), 400, field="file")
        self.assertFalse(Attachment.objects.exists())

    def test_a_file_of_exactly_10_mb_is_accepted(self):
        content = PDF + b"\x00" * (MAX_ATTACHMENT_BYTES - len(PDF))
        response = self.upload(content, "big.pdf")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["size"], 10 * 1024 * 1024)

    def test_a_file_over_10_mb_is_a_413_and_nothing_is_stored(self):
        content = PDF + b"\x00" * (10 * 1024 * 1024 + 1 - len(PDF))
        self.assertEqual(len(content), 10 * 1024 * 1024 + 1)
        response = self.upload(content, "huge.pdf")
        self.assert_problem(response, 413, code="too_large")
        self.assertFalse(Attachment.objects.exists())
        self.assertEqual(os.listdir(self.media_root), [])

    def test_an_entry_of_another_organization_is_a_400_on_entry(self):
        theirs = entry(self.other, category(self.other))
        response = self.upload(PDF, entry=theirs)
        self.assert_problem(response, 400, field="entry")
        self.assertFalse(Attachment.objects.exists())

    def test_a_member_downloads_the_exact_bytes_with_the_original_name(self):
        created = self.upload(PNG, "receipt.png").json()
        self.entry.created_by = self.users[Role.WORKER]
        self.entry.save()  # the file follows its entry: the worker's now, the admin's upload
        for role in (Role.ADMIN, Role.MANAGER, Role.WORKER):
            with self.subTest(role=role):
                response = self.clients[role].get(f"{ATTACHMENTS}{created['id']}/download/")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(b"".join(response.streaming_content), PNG)
                self.assertEqual(response["Content-Type"], "image/png")
                self.assertIn("attachment", response["Content-Disposition"])
                self.assertIn('filename="receipt.png"', response["Content-Disposition"])

    def test_the_download_declares_every_type_it_can_answer_and_honours_accept(self):
        from drf_spectacular.generators import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        operation = schema["paths"]["/api/v1/finance/attachments/{id}/download/"]["get"]
        content = operation["responses"]["200"]["content"]
        self.assertEqual(set(content), {"application/pdf", "image/png", "image/jpeg", "image/webp"})
        for media in content.values():
            self.assertEqual(media["schema"], {"type": "string", "format": "binary"})
        created = self.upload(PNG, "receipt.png").json()
        for accept in ("image/png", "*/*", "image/png, application/problem+json"):
            with self.subTest(accept=accept):
                response = self.admin.get(
                    f"{ATTACHMENTS}{created['id']}/download/", HTTP_ACCEPT=accept
                )
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "image/png")

    def test_another_organization_gets_404_on_the_detail_the_download_and_the_delete(self):
        created = self.upload(PDF).json()
        for url in (f"{ATTACHMENTS}{created['id']}/", f"{ATTACHMENTS}{created['id']}/download/"):
            with self.subTest(url=url):
                self.assert_problem(self.other_client.get(url), 404)
        self.assert_problem(self.other_client.delete(f"{ATTACHMENTS}{created['id']}/"), 404)
        listed = self.other_client.get(ATTACHMENTS).json()["results"]
        self.assertEqual(listed, [])
        self.assertTrue(os.path.exists(self.stored_path(created["id"])))

    def test_anonymous_callers_cannot_download(self):
        created = self.upload(PDF).json()
        response = self.client.get(f"{ATTACHMENTS}{created['id']}/download/")
        self.assert_problem(response, 401)

    def test_the_list_filters_by_entry(self):
        other_entry = entry(self.org, category(self.org, name="Fees"))
        mine = self.upload(PDF).json()
        self.upload(PNG, entry=other_entry)
        rows = self.admin.get(ATTACHMENTS, {"entry": str(self.entry.pk)}).json()["results"]
        self.assertEqual([row["id"] for row in rows], [mine["id"]])

    def test_deleting_the_entry_deletes_its_attachment_rows_and_stored_files(self):
        paths = [self.stored_path(self.upload(content).json()["id"]) for content in (PDF, PNG)]
        kept = self.upload(JPEG, entry=entry(self.org, category(self.org, name="Fees"))).json()
        for path in paths:
            self.assertTrue(os.path.exists(path))
        response = self.admin.delete(f"{API}incomes/{self.entry.pk}/")
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(LedgerEntry.objects.filter(pk=self.entry.pk).exists())
        self.assertEqual(
            [str(pk) for pk in Attachment.objects.values_list("id", flat=True)], [kept["id"]]
        )
        for path in paths:
            self.assertFalse(os.path.exists(path), path)
        self.assertTrue(os.path.exists(self.stored_path(kept["id"])))

    def test_deleting_an_attachment_deletes_its_stored_file(self):
        created = self.upload(PDF).json()
        path = self.stored_path(created["id"])
        response = self.admin.delete(f"{ATTACHMENTS}{created['id']}/")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(Attachment.objects.exists())
        self.assertFalse(os.path.exists(path))

    def test_a_basic_member_attaches_a_receipt_to_their_own_claim_only(self):
        basic_user = self.users[Role.BASIC]
        membership = Membership.objects.get(organization=self.org, user=basic_user)
        claim = entry_create(
            tenant=Tenant(organization=self.org, membership=membership),
            kind=Kind.EXPENSE,
            data={
                "title": "Taxi",
                "amount": Decimal("12.00"),
                "date": datetime.date(2026, 1, 15),
                "category": category(self.org, name="Travel", kind=Kind.EXPENSE),
            },
        )
        basic = self.clients[Role.BASIC]
        response = self.upload(PDF, client=basic, entry=claim)
        self.assertEqual(response.status_code, 201, response.content)
        self.assert_problem(self.upload(PDF, client=basic), 400, field="entry")
        self.assert_problem(self.upload(PDF, client=self.clients[Role.CLIENT], entry=claim), 403)
