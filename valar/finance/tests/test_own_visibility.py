"""Finance ``view: own`` (seeds 001 and 002): workers and basic members see their own entries.

Lists, details, exports, filters, attachments, category counts and the summary are narrowed
by the same policy path; another member's entry is a 404 for them; managers and admins see
every entry; ``OPTIONS`` and ``auth/me/permissions/`` report ``own``.
"""

import csv
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from valar.core.policy import Role
from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Attachment, Kind
from valar.finance.tests.support import API, PDF, category, entry

TRANSACTIONS = f"{API}transactions/"
INCOMES = f"{API}incomes/"
ATTACHMENTS = f"{API}attachments/"
SUMMARY = f"{API}summary/"
PERIOD = {"start_date": "2026-01-01", "end_date": "2026-01-31"}


class OwnEntriesTestCase(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """The worker's two entries, the admin's two, and one of the manager's, in January 2026."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.worker = self.clients[Role.WORKER]
        self.sales = category(self.org, name="Sales")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)
        worker, admin = self.users[Role.WORKER], self.users[Role.ADMIN]
        self.mine = entry(self.org, self.sales, "12.34", "2026-01-05", created_by=worker)
        self.my_rent = entry(self.org, self.rent, "2.30", "2026-01-06", created_by=worker)
        self.admins = entry(self.org, self.sales, "1000.01", "2026-01-07", created_by=admin)
        entry(self.org, self.rent, "400.05", "2026-01-08", created_by=admin)
        entry(self.org, self.sales, "0.99", "2026-01-09", created_by=self.users[Role.MANAGER])

    def ids(self, client, url=TRANSACTIONS, **params) -> set[str]:
        """The ids ``client`` is listed at ``url``."""
        response = client.get(url, {"page_size": 100, **params})
        self.assertEqual(response.status_code, 200, response.content)
        return {row["id"] for row in response.json()["results"]}


class OwnListTests(OwnEntriesTestCase):
    """Lists, details, exports and filters."""

    def test_a_worker_lists_only_their_own_entries_and_managers_and_admins_all(self):
        self.assertEqual(self.ids(self.worker), {str(self.mine.pk), str(self.my_rent.pk)})
        self.assertEqual(self.ids(self.worker, INCOMES), {str(self.mine.pk)})
        for role in (Role.MANAGER, Role.ADMIN):
            with self.subTest(role=role):
                self.assertEqual(len(self.ids(self.clients[role])), 5)
        count = self.worker.get(TRANSACTIONS).json()["count"]
        self.assertEqual(count, 2)

    def test_filters_cannot_widen_what_a_worker_sees(self):
        admin = str(self.users[Role.ADMIN].pk)
        self.assertEqual(self.ids(self.worker, created_by=admin), set())
        self.assertEqual(
            self.ids(self.worker, search="Entry"), {str(self.mine.pk), str(self.my_rent.pk)}
        )

    def test_another_members_entry_is_a_404_on_every_verb(self):
        url = f"{INCOMES}{self.admins.pk}/"
        for response in (
            self.worker.get(url),
            self.worker.patch(url, {"title": "Mine now"}, format="json"),
            self.worker.put(url, {"title": "x", "amount": "1.00", "date": "2026-01-01"}),
            self.worker.delete(url),
        ):
            with self.subTest(method=response.request["REQUEST_METHOD"]):
                self.assert_problem(response, 404)
        # OPTIONS answers exactly as for an id that does not exist (no PUT offered).
        missing = self.worker.options(f"{INCOMES}00000000-0000-0000-0000-000000000000/")
        answer = self.worker.options(url)
        self.assertEqual(answer.json(), missing.json())
        self.assertNotIn("PUT", answer.json().get("actions", {}))
        self.admins.refresh_from_db()
        self.assertEqual((self.admins.title, self.admins.amount), ("Entry", Decimal("1000.01")))
        self.assertEqual(self.worker.get(f"{INCOMES}{self.mine.pk}/").status_code, 200)
        manager = self.clients[Role.MANAGER]
        self.assertEqual(manager.get(url).status_code, 200)

    def test_the_export_holds_only_the_workers_own_entries(self):
        response = self.worker.get(f"{TRANSACTIONS}export/", {"format": "csv"})
        self.assertEqual(response.status_code, 200)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        self.assertEqual({row["id"] for row in rows}, {str(self.mine.pk), str(self.my_rent.pk)})
        self.assertEqual(
            sorted(Decimal(row["amount"]) for row in rows), [Decimal("2.30"), Decimal("12.34")]
        )

    def test_a_basic_member_sees_only_what_they_own_too(self):
        basic = self.clients[Role.BASIC]
        self.assertEqual(self.ids(basic), set())
        theirs = entry(
            self.org, self.sales, "7.00", "2026-01-10", created_by=self.users[Role.BASIC]
        )
        self.assertEqual(self.ids(basic), {str(theirs.pk)})

    def test_categories_are_shared_but_count_only_the_callers_entries(self):
        rows = self.worker.get(f"{API}categories/").json()["results"]
        counts = {row["name"]: row["entry_count"] for row in rows}
        self.assertEqual(counts, {"Sales": 1, "Rent": 1})
        rows = self.clients[Role.ADMIN].get(f"{API}categories/").json()["results"]
        self.assertEqual({row["name"]: row["entry_count"] for row in rows}, {"Sales": 3, "Rent": 2})
        admins_category = f"{API}categories/{self.sales.pk}/"
        self.assertEqual(self.worker.get(admins_category).status_code, 200)


class OwnCategoryDeletionTests(OwnEntriesTestCase):
    """Moving entries out of a deleted category changes them: only one's own, for a worker."""

    def test_a_worker_cannot_move_other_members_entries_by_deleting_their_category(self):
        worker = self.users[Role.WORKER]
        theirs = category(self.org, name="Worker's", created_by=worker)
        self.admins.category = theirs
        self.admins.save()
        self.mine.category = theirs
        self.mine.save()
        url = f"{API}categories/{theirs.pk}/?reassign_to={self.sales.pk}"
        self.assert_problem(self.worker.delete(url), 409, code="in_use")
        self.admins.refresh_from_db()
        self.assertEqual(self.admins.category, theirs)
        self.admins.category = self.sales
        self.admins.save()
        self.assertEqual(self.worker.delete(url).status_code, 204)
        self.mine.refresh_from_db()
        self.assertEqual(self.mine.category, self.sales)


class OwnAttachmentTests(OwnEntriesTestCase):
    """An attachment follows its entry, whoever uploaded it."""

    def upload(self, client, owner_entry):
        """Upload a PDF to ``owner_entry`` as ``client``."""
        upload = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")
        return client.post(
            ATTACHMENTS, {"entry": str(owner_entry.pk), "file": upload}, format="multipart"
        )

    def test_a_worker_sees_files_of_their_entries_only(self):
        admin = self.clients[Role.ADMIN]
        on_mine = self.upload(admin, self.mine).json()["id"]
        on_admins = self.upload(admin, self.admins).json()["id"]
        self.assertEqual(self.ids(self.worker, ATTACHMENTS), {on_mine})
        self.assertEqual(self.ids(admin, ATTACHMENTS), {on_mine, on_admins})
        for suffix in ("", "download/"):
            with self.subTest(suffix=suffix):
                self.assert_problem(self.worker.get(f"{ATTACHMENTS}{on_admins}/{suffix}"), 404)
                self.assertEqual(
                    self.worker.get(f"{ATTACHMENTS}{on_mine}/{suffix}").status_code, 200
                )
        self.assert_problem(self.worker.delete(f"{ATTACHMENTS}{on_admins}/"), 404)
        self.assertEqual(self.worker.delete(f"{ATTACHMENTS}{on_mine}/").status_code, 204)
        self.assertEqual(list(Attachment.objects.values_list("pk", flat=True)).__len__(), 1)

    def test_a_worker_cannot_attach_a_file_to_an_entry_they_cannot_see(self):
        response = self.upload(self.worker, self.admins)
        self.assert_problem(response, 400, field="entry")
        self.assertFalse(Attachment.objects.exists())
        self.assertEqual(self.upload(self.worker, self.mine).status_code, 201)


class OwnSummaryTests(OwnEntriesTestCase):
    """The summary of an own-viewer sums their entries only; the cache keeps them apart."""

    def summary(self, role, **params):
        """The summary body for ``role`` over January 2026."""
        response = self.clients[role].get(SUMMARY, {**PERIOD, **params})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_totals_are_exact_sums_of_the_callers_own_entries(self):
        # The admin reads first, so a cache keyed without the caller would answer the worker.
        everyone = self.summary(Role.ADMIN)["totals"]
        self.assertEqual(
            (everyone["income"], everyone["expense"], everyone["profit"]),
            (
                f"{Decimal('12.34') + Decimal('1000.01') + Decimal('0.99'):.2f}",
                f"{Decimal('2.30') + Decimal('400.05'):.2f}",
                "610.99",
            ),
        )
        own = self.summary(Role.WORKER)["totals"]
        self.assertEqual(
            (own["income"], own["expense"], own["profit"], own["margin"]),
            ("12.34", "2.30", "10.04", f"{Decimal('10.04') / Decimal('12.34') * 100:.2f}"),
        )
        self.assertEqual(self.summary(Role.ADMIN)["totals"], everyone)
        self.assertEqual(self.summary(Role.BASIC)["totals"]["income"], "0.00")

    def test_the_series_and_groups_hold_only_the_callers_entries(self):
        body = self.summary(Role.WORKER, group_by="created_by", interval="month")
        names = {series["name"] for series in body["series"]}
        email = self.users[Role.WORKER].email
        self.assertEqual(names, {f"income: {email}", f"expense: {email}"})
        body = self.summary(Role.WORKER, interval="month")
        data = {series["name"]: series["data"] for series in body["series"]}
        self.assertEqual(data, {"income": ["12.34"], "expense": ["2.30"], "profit": ["10.04"]})


class OwnPermissionsReportTests(OwnEntriesTestCase):
    """``OPTIONS`` and ``auth/me/permissions/`` say ``own`` where the table does."""

    def test_options_reports_own_for_view(self):
        expected = {
            Role.ADMIN: {"view": "all", "create": "all", "change": "all", "delete": "all"},
            Role.MANAGER: {"view": "all", "create": "all", "change": "all", "delete": "all"},
            Role.WORKER: {"view": "own", "create": "all", "change": "own", "delete": "own"},
            Role.BASIC: {"view": "own", "create": "none", "change": "none", "delete": "none"},
        }
        # Expense claims: everyone records their own, managers and admins anyone's and
        # approve them.
        named = {
            Role.ADMIN: {"claim": "all", "approve": "all"},
            Role.MANAGER: {"claim": "all", "approve": "all"},
            Role.WORKER: {"claim": "own", "approve": "none"},
            Role.BASIC: {"claim": "own", "approve": "none"},
        }
        for role, permissions in expected.items():
            permissions = {**permissions, **named[role]}
            with self.subTest(role=role):
                response = self.clients[role].options(TRANSACTIONS)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()["permissions"], permissions)
        self.assert_problem(self.clients[Role.CLIENT].options(TRANSACTIONS), 403)

    def test_my_permissions_report_own_for_view(self):
        for role, view in (
            (Role.WORKER, "own"),
            (Role.BASIC, "own"),
            (Role.MANAGER, "all"),
            (Role.CLIENT, "none"),
        ):
            with self.subTest(role=role):
                body = self.clients[role].get("/api/v1/auth/me/permissions/").json()
                self.assertEqual(body["permissions"]["finance"]["view"], view)
