"""Expense claims: receipt details, ``submitted -> approved | rejected``, and the figures.

A worker's or basic member's expense is a claim ``submitted`` for approval; a manager's or
admin's is approved on entry, as income always is. Managers and admins approve or reject
claims (never their own); only approved entries count in finance figures by default.
"""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.bulk import BulkResourceTestsMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Customer
from valar.finance.models import ApprovalStatus, Kind, LedgerEntry
from valar.finance.services import DECISION_FIELDS
from valar.finance.tests.support import API, category, entry
from valar.finance.tests.test_resources import expense_category
from valar.notifications.models import Notification

EXPENSES = f"{API}expenses/"
INCOMES = f"{API}incomes/"
TRANSACTIONS = f"{API}transactions/"
SUMMARY = f"{API}summary/"


class ClaimTestCase(TenantFixtureMixin, ApiTestCase):
    """An organization with an income and an expense category."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.sales = category(self.org, name="Sales")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)

    def body(self, **extra):
        """A valid expense body."""
        return {
            "title": "Taxi",
            "amount": "50.00",
            "date": "2026-01-15",
            "category": str(self.rent.pk),
            **extra,
        }

    def claim(self, role: str = Role.WORKER, **extra) -> dict:
        """Record an expense as ``role``; the created body."""
        response = self.clients[role].post(EXPENSES, self.body(**extra), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def approve(self, entry_id, role: str = Role.MANAGER):
        """POST ``approve/`` as ``role``."""
        return self.clients[role].post(f"{EXPENSES}{entry_id}/approve/", format="json")

    def reject(self, entry_id, role: str = Role.MANAGER, **body):
        """POST ``reject/`` as ``role``."""
        return self.clients[role].post(f"{EXPENSES}{entry_id}/reject/", body, format="json")


class RecordingTests(ClaimTestCase):
    """Who records what, and in which state it starts."""

    def test_a_workers_and_a_basic_members_expense_is_a_submitted_claim(self):
        for role in (Role.WORKER, Role.BASIC):
            with self.subTest(role=role):
                body = self.claim(role, receipt_number="REC-001", tax_amount="5.00")
                self.assertEqual(body["approval_status"], "submitted")
                self.assertEqual(
                    (body["receipt_number"], body["tax_amount"], body["is_billable"]),
                    ("REC-001", "5.00", False),
                )
                self.assertIsNone(body["decided_by"])
                self.assertEqual(body["created_by"], str(self.users[role].pk))

    def test_a_managers_and_an_admins_expense_and_any_income_are_approved_on_entry(self):
        for role in (Role.MANAGER, Role.ADMIN):
            with self.subTest(role=role):
                self.assertEqual(self.claim(role)["approval_status"], "approved")
        income = {**self.body(category=str(self.sales.pk))}
        response = self.clients[Role.WORKER].post(INCOMES, income, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["approval_status"], "approved")

    def test_the_approval_fields_are_read_only(self):
        body = self.claim(
            approval_status="approved", rejection_reason="x", decided_by=str(self.users["admin"].pk)
        )
        self.assertEqual((body["approval_status"], body["rejection_reason"]), ("submitted", ""))
        self.assertIsNone(body["decided_by"])

    def test_a_basic_member_claims_expenses_but_never_records_income(self):
        basic = self.clients[Role.BASIC]
        income = self.body(category=str(self.sales.pk))
        self.assert_problem(basic.post(INCOMES, income, format="json"), 403)
        self.assert_problem(
            basic.post(TRANSACTIONS, {**income, "kind": "income"}, format="json"), 403
        )
        self.assert_problem(basic.post(f"{INCOMES}bulk/", {"create": [income]}, format="json"), 403)
        self.assertFalse(LedgerEntry.objects.filter(kind=Kind.INCOME).exists())
        response = basic.post(f"{EXPENSES}bulk/", {"create": [self.body()]}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["created"][0]["approval_status"], "submitted")

    def test_tax_amount_is_between_zero_and_the_amount_and_only_expenses_are_billable(self):
        admin = self.clients[Role.ADMIN]
        for tax in ("50.01", "-1.00"):
            with self.subTest(tax=tax):
                response = admin.post(EXPENSES, self.body(tax_amount=tax), format="json")
                self.assert_problem(response, 400, field="tax_amount")
        self.assertEqual(self.claim(Role.ADMIN, tax_amount="50.00")["tax_amount"], "50.00")
        income = self.body(category=str(self.sales.pk), is_billable=True)
        self.assert_problem(admin.post(INCOMES, income, format="json"), 400, field="is_billable")
        self.assertTrue(self.claim(Role.ADMIN, is_billable=True)["is_billable"])


class DecisionTests(ClaimTestCase):
    """``approve/`` and ``reject/``: who, from which state, audited and notified."""

    def test_a_manager_approves_a_submitted_claim_audited_and_the_submitter_notified(self):
        claim = self.claim()
        response = self.approve(claim["id"])
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["approval_status"], "approved")
        self.assertEqual(body["decided_by"], str(self.users[Role.MANAGER].pk))
        self.assertIsNotNone(body["decided_at"])
        self.assertTrue(
            AuditEvent.objects.filter(action="expense.approve", object_id=claim["id"]).exists()
        )
        notice = Notification.objects.get(link=f"/api/v1/finance/expenses/{claim['id']}/")
        self.assertEqual((notice.user_id, notice.kind), (self.users[Role.WORKER].pk, "finance"))
        self.assertIn("approved", notice.title)

    def test_a_rejection_needs_a_reason_and_is_audited_and_notified(self):
        claim = self.claim(Role.BASIC)
        for body in ({}, {"reason": ""}, {"reason": "   "}):
            with self.subTest(body=body):
                self.assert_problem(self.reject(claim["id"], **body), 400, field="reason")
        response = self.reject(claim["id"], Role.ADMIN, reason="No receipt attached.")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(
            (body["approval_status"], body["rejection_reason"], body["decided_by"]),
            ("rejected", "No receipt attached.", str(self.users[Role.ADMIN].pk)),
        )
        event = AuditEvent.objects.get(action="expense.reject", object_id=claim["id"])
        self.assertEqual(event.changes, {"reason": "No receipt attached."})
        notice = Notification.objects.get(user=self.users[Role.BASIC])
        self.assertIn("No receipt attached.", notice.body)

    def test_only_a_submitted_claim_is_decided_others_are_409(self):
        approved = self.claim()
        self.assertEqual(self.approve(approved["id"]).status_code, 200)
        rejected = self.claim()
        self.assertEqual(self.reject(rejected["id"], reason="Duplicate").status_code, 200)
        own_entry = self.claim(Role.ADMIN)
        for entry_id, status in (
            (approved["id"], "approved"),
            (rejected["id"], "rejected"),
            (own_entry["id"], "approved"),
        ):
            for decide in (self.approve, lambda pk: self.reject(pk, reason="Late")):
                with self.subTest(status=status):
                    problem = self.assert_problem(decide(entry_id), 409, code="invalid_transition")
                    self.assertIn(f"The claim is {status}", problem["detail"])
                    self.assertIn("submitted -> approved | rejected", problem["detail"])
        self.assertEqual(LedgerEntry.objects.get(pk=rejected["id"]).rejection_reason, "Duplicate")

    def test_the_submitter_never_decides_their_own_claim(self):
        claim = self.claim(Role.WORKER)
        # The manager submitted it (as a worker, before a promotion): still theirs alone.
        LedgerEntry.objects.filter(pk=claim["id"]).update(created_by=self.users[Role.MANAGER])
        for decide in (self.approve, lambda pk: self.reject(pk, reason="Mine")):
            with self.subTest(decide=decide):
                problem = self.assert_problem(decide(claim["id"]), 403, code="own_claim")
                self.assertIn("your own expense claim", problem["detail"])
        self.assertEqual(
            LedgerEntry.objects.get(pk=claim["id"]).approval_status, ApprovalStatus.SUBMITTED
        )
        self.assertEqual(self.approve(claim["id"], Role.ADMIN).status_code, 200)

    def test_workers_and_basic_members_may_not_decide_claims(self):
        claim = self.claim(Role.BASIC)
        other = self.claim(Role.WORKER)
        for role, target in ((Role.WORKER, claim), (Role.BASIC, other), (Role.WORKER, other)):
            with self.subTest(role=role):
                self.assert_problem(self.approve(target["id"], role), 403)
                self.assert_problem(self.reject(target["id"], role, reason="No"), 403)

    def test_another_organizations_claim_and_an_income_are_404(self):
        claim = self.claim()
        for response in (
            self.other_client.post(f"{EXPENSES}{claim['id']}/approve/"),
            self.other_client.post(f"{EXPENSES}{claim['id']}/reject/", {"reason": "x"}),
        ):
            self.assert_problem(response, 404)
        income = entry(self.org, self.sales)
        self.assert_problem(self.approve(income.pk), 404)
        self.assertEqual(
            LedgerEntry.objects.get(pk=claim["id"]).approval_status, ApprovalStatus.SUBMITTED
        )

    def test_approving_takes_a_pinned_number_of_queries(self):
        claims = [self.claim() for _ in range(2)]
        self.approve(claims[0]["id"])  # warm up: token stamp, caches
        with CaptureQueriesContext(connection) as queries:
            response = self.approve(claims[1]["id"])
        self.assertEqual(response.status_code, 200, response.content)
        # token, claim, user, claim locked, update, 2 audit rows, notification (member check,
        # row, e-mail job), the answer's row, savepoints
        self.assertEqual(len(queries), 15)


class ChangeTests(ClaimTestCase):
    """Changing a claim: its submitter's change sends it (back) for approval."""

    def patch(self, entry_id, role: str, **body):
        """PATCH a claim as ``role``; its body."""
        response = self.clients[role].patch(f"{EXPENSES}{entry_id}/", body, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_the_submitters_change_keeps_a_submitted_claim_and_resubmits_a_decided_one(self):
        submitted = self.claim(Role.BASIC)
        self.assertEqual(
            self.patch(submitted["id"], Role.BASIC, title="Cab")["approval_status"], "submitted"
        )
        rejected = self.claim(Role.WORKER)
        self.reject(rejected["id"], reason="Wrong amount")
        body = self.patch(rejected["id"], Role.WORKER, amount="45.00")
        self.assertEqual(
            (body["approval_status"], body["rejection_reason"], body["decided_by"]),
            ("submitted", "", None),
        )
        approved = self.claim(Role.WORKER)
        self.approve(approved["id"])
        self.assertEqual(
            self.patch(approved["id"], Role.WORKER, amount="500.00")["approval_status"],
            "submitted",
        )

    def test_a_managers_change_keeps_the_status(self):
        claim = self.claim(Role.WORKER)
        self.assertEqual(
            self.patch(claim["id"], Role.MANAGER, title="Fixed")["approval_status"], "submitted"
        )
        self.approve(claim["id"])
        self.assertEqual(
            self.patch(claim["id"], Role.ADMIN, title="Again")["approval_status"], "approved"
        )

    def test_members_change_and_delete_only_their_own_claims(self):
        theirs = self.claim(Role.WORKER)
        basic = self.clients[Role.BASIC]
        self.assert_problem(
            basic.patch(f"{EXPENSES}{theirs['id']}/", {"title": "x"}, format="json"), 404
        )
        own = self.claim(Role.BASIC)
        self.assertEqual(basic.delete(f"{EXPENSES}{own['id']}/").status_code, 204)

    def test_a_bulk_change_by_the_submitter_resubmits_as_a_single_change_does(self):
        claim = self.claim(Role.BASIC)
        self.reject(claim["id"], reason="Blurry receipt")
        response = self.clients[Role.BASIC].post(
            f"{EXPENSES}bulk/", {"update": [{"id": claim["id"], "title": "Taxi"}]}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["updated"][0]["approval_status"], "submitted")


class BillingTests(ClaimTestCase):
    """The invoices' rule reads these fields: only approved, billable expenses are billed."""

    def test_an_approved_billable_expense_is_billed_and_a_submitted_claim_is_not(self):
        customer = Customer.objects.create(organization=self.org, name="Acme")
        approved = self.claim(Role.MANAGER, is_billable=True)
        submitted = self.claim(Role.WORKER, is_billable=True)
        for claim, expected in ((submitted, 400), (approved, 201)):
            with self.subTest(status=claim["approval_status"]):
                line = {"description": "Taxi", "quantity": "1", "unit_price": "50.00"}
                response = self.clients[Role.ADMIN].post(
                    f"{API}invoices/",
                    {
                        "customer": str(customer.pk),
                        "line_items": [{**line, "expense": claim["id"]}],
                    },
                    format="json",
                )
                self.assertEqual(response.status_code, expected, response.content)


class FigureTests(ClaimTestCase):
    """Only approved entries count in the figures, unless ``include_unapproved``."""

    def setUp(self):
        super().setUp()
        entry(self.org, self.sales, "1000.00")
        entry(self.org, self.rent, "100.00")
        submitted = self.claim(Role.WORKER, amount="20.00")
        rejected = self.claim(Role.BASIC, amount="3.00")
        approved = self.claim(Role.WORKER, amount="7.00")
        self.reject(rejected["id"], reason="Personal")
        self.approve(approved["id"])
        self.ids = {"submitted": submitted["id"], "rejected": rejected["id"]}

    def summary(self, **params):
        """The admin's summary of January 2026."""
        response = self.clients[Role.ADMIN].get(
            SUMMARY, {"start_date": "2026-01-01", "end_date": "2026-01-31", **params}
        )
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_the_summary_counts_approved_entries_and_include_unapproved_shows_all(self):
        body = self.summary()
        self.assertFalse(body["include_unapproved"])
        self.assertEqual(
            (body["totals"]["expense"], body["totals"]["profit"]), ("107.00", "893.00")
        )
        data = {series["name"]: series["data"] for series in body["series"]}
        self.assertEqual(data["expense"], ["107.00"])
        everything = self.summary(include_unapproved="true")
        self.assertTrue(everything["include_unapproved"])
        self.assertEqual(
            (everything["totals"]["expense"], everything["totals"]["profit"]),
            ("130.00", "870.00"),
        )
        data = {series["name"]: series["data"] for series in everything["series"]}
        self.assertEqual((data["expense"], data["profit"]), (["130.00"], ["870.00"]))
        grouped = self.summary(include_unapproved="true", group_by="category")
        self.assertEqual(
            {series["name"]: series["data"] for series in grouped["series"]}["expense: Rent"],
            ["130.00"],
        )
        self.assert_problem(
            self.clients[Role.ADMIN].get(SUMMARY, {"include_unapproved": "maybe"}),
            400,
            field="include_unapproved",
        )

    def test_an_approval_changes_the_cached_figures(self):
        self.assertEqual(self.summary()["totals"]["expense"], "107.00")
        self.approve(self.ids["submitted"])
        self.assertEqual(self.summary()["totals"]["expense"], "127.00")

    def test_the_insights_expense_source_counts_approved_expenses_only(self):
        response = self.clients[Role.ADMIN].post(
            "/api/v1/insights/query/",
            {
                "source": "expense",
                "measure": "sum",
                "start_date": "2026-01-01",
                "end_date": "2026-01-31",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["totals"]["expense"], "107.00")

    def test_lists_filter_by_approval_status_and_exports_show_the_new_fields(self):
        admin = self.clients[Role.ADMIN]
        for status, expected in (("submitted", 1), ("rejected", 1), ("approved", 2)):
            with self.subTest(status=status):
                for url in (EXPENSES, TRANSACTIONS):
                    response = admin.get(url, {"approval_status": status})
                    self.assertEqual(response.status_code, 200, response.content)
                    counted = 3 if url == TRANSACTIONS and status == "approved" else expected
                    self.assertEqual(response.json()["count"], counted)
        self.assert_problem(admin.get(EXPENSES, {"approval_status": "maybe"}), 400)
        response = admin.get(f"{EXPENSES}export/", {"format": "csv"})
        self.assertEqual(response.status_code, 200)
        content = b"".join(response.streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(content.lstrip("\ufeff"))))
        for column in ("receipt_number", "tax_amount", "is_billable", *DECISION_FIELDS):
            self.assertIn(column, rows[0])
        by_id = {row["id"]: row for row in rows}
        self.assertEqual(by_id[self.ids["rejected"]]["approval_status"], "rejected")
        self.assertEqual(by_id[self.ids["rejected"]]["rejection_reason"], "Personal")


class ExpenseBulkTests(BulkResourceTestsMixin, ApiTestCase):
    """Expense claims in bulk and imported (``expenses/``: every write is ``claim``)."""

    module = "finance"
    url = EXPENSES
    update_data = {"title": "Changed", "amount": "99.99"}

    @property
    def invalid_item(self):
        return {**self.create_data(0), "amount": "-5"}, "amount"

    def make_object(self, organization, index=0):
        return entry(organization, expense_category(organization), title=f"Expense {index}")

    def create_data(self, index):
        return {
            "title": f"New expense {index}",
            "amount": "12.34",
            "date": "2026-01-15",
            "category": str(expense_category(self.org).pk),
        }

    def foreign_item(self):
        return {**self.create_data(0), "category": str(expense_category(self.other).pk)}, "category"

    def import_row(self, index):
        return {
            "title": f"Imported {index}",
            "amount": "10.50",
            "date": "2026-02-01",
            "category": str(expense_category(self.org).pk),
            "receipt_number": f"REC-{index}",
        }

    def test_an_import_follows_the_approval_rule_of_single_creates(self):
        for role, status in ((Role.BASIC, "submitted"), (Role.MANAGER, "approved")):
            with self.subTest(role=role):
                response = self.upload(self.csv_file([self.import_row(1)]), dry_run=True, role=role)
                self.assertEqual(response.status_code, 200, response.content)
                self.assertEqual(response.json()["rows"][0]["data"]["approval_status"], status)
        job = self.imported(self.upload(self.csv_file([self.import_row(2)]), role=Role.BASIC))
        self.assertEqual(job.result["created"], 1)
        created = self.rows().get(title="Imported 2")
        self.assertEqual((created.approval_status, created.receipt_number), ("submitted", "REC-2"))
