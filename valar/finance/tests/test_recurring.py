"""Recurring invoices and ledger entries: period dates, once per period, catch-up, the end."""

import datetime
import threading
import unittest
from decimal import Decimal

from django.db import connection
from django.test import TestCase, TransactionTestCase

from valar.accounts.models import User
from valar.core.errors import Conflict, DomainError
from valar.core.tenancy import Tenant
from valar.crm.models import Customer
from valar.finance import recurring
from valar.finance.models import (
    Document,
    Kind,
    LedgerEntry,
    RecurringEntry,
    RecurringInvoice,
)
from valar.finance.tests.support import category
from valar.jobs.models import Job
from valar.organizations.models import Membership
from valar.organizations.services import organization_create

LINES = [
    {"description": "Hosting", "quantity": Decimal("1"), "unit_price": Decimal("49.995")},
    {
        "description": "Support",
        "quantity": Decimal("2.5"),
        "unit_price": Decimal("80.00"),
        "tax_rate": Decimal("11"),
    },
]


def noon(day: str) -> datetime.datetime:
    """Noon UTC of the ISO ``day`` (the job's "now")."""
    return datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")


class RecurringTestCase(TestCase):
    """An organization, its admin as a tenant, a customer and an expense category."""

    def setUp(self):
        self.user = User.objects.create_user(email="admin@rec.test", password="x" * 16)
        self.org = organization_create(name="Rec", actor=self.user)
        self.tenant = Tenant(
            organization=self.org,
            membership=Membership.objects.get(organization=self.org, user=self.user),
        )
        self.customer = Customer.objects.create(
            organization=self.org, name="Acme", email="billing@acme.test"
        )
        self.rent = category(self.org, "Rent", Kind.EXPENSE)

    def invoice_schedule(self, **data) -> RecurringInvoice:
        """A monthly invoice schedule (drafts) for the customer from 2026-01-31."""
        return recurring.schedule_save(
            tenant=self.tenant,
            model=RecurringInvoice,
            schedule=None,
            data={
                "name": "Hosting",
                "frequency": "monthly",
                "start_date": datetime.date(2026, 1, 31),
                "customer": self.customer,
                "line_items": LINES,
                **data,
            },
        )

    def entry_schedule(self, **data) -> RecurringEntry:
        """A quarterly rent expense from 2026-01-01."""
        return recurring.schedule_save(
            tenant=self.tenant,
            model=RecurringEntry,
            schedule=None,
            data={
                "name": "Office rent",
                "frequency": "quarterly",
                "start_date": datetime.date(2026, 1, 1),
                "kind": Kind.EXPENSE,
                "title": "Rent",
                "amount": Decimal("1500.00"),
                "category": self.rent,
                **data,
            },
        )


class PeriodDateTests(RecurringTestCase):
    """Periods are counted from the start date, so the 31st never drifts to the 28th."""

    def test_month_ends_follow_the_start_date(self):
        schedule = RecurringInvoice(start_date=datetime.date(2026, 1, 31), frequency="monthly")
        self.assertEqual(
            [recurring.period_date(schedule, index) for index in range(4)],
            [
                datetime.date(2026, 1, 31),
                datetime.date(2026, 2, 28),
                datetime.date(2026, 3, 31),
                datetime.date(2026, 4, 30),
            ],
        )

    def test_quarterly_and_yearly(self):
        quarterly = RecurringEntry(start_date=datetime.date(2026, 11, 30), frequency="quarterly")
        self.assertEqual(recurring.period_date(quarterly, 1), datetime.date(2027, 2, 28))
        self.assertEqual(recurring.period_date(quarterly, 2), datetime.date(2027, 5, 30))
        yearly = RecurringEntry(start_date=datetime.date(2024, 2, 29), frequency="yearly")
        self.assertEqual(recurring.period_date(yearly, 1), datetime.date(2025, 2, 28))
        self.assertEqual(recurring.period_date(yearly, 4), datetime.date(2028, 2, 29))


class RunTests(RecurringTestCase):
    """The job makes each due period once, whatever happens to its bookkeeping."""

    def test_due_periods_are_made_once_each_and_running_again_makes_nothing(self):
        schedule = self.invoice_schedule()
        made = recurring.run_due(noon("2026-03-31"))
        self.assertEqual(made, {"invoices": 3, "entries": 0})
        invoices = Document.objects.filter(recurrence=schedule).order_by("period")
        self.assertEqual(
            [(i.period, i.issue_date, i.due_date, i.status) for i in invoices],
            [
                (datetime.date(2026, 1, 31),) * 2 + (datetime.date(2026, 3, 2), "draft"),
                (datetime.date(2026, 2, 28),) * 2 + (datetime.date(2026, 3, 30), "draft"),
                (datetime.date(2026, 3, 31),) * 2 + (datetime.date(2026, 4, 30), "draft"),
            ],
        )
        # The rounding policy per line: 49.995 -> 50.00; 200.00 + 22.00 tax.
        self.assertEqual({i.total for i in invoices}, {Decimal("272.00")})
        self.assertEqual(recurring.run_due(noon("2026-03-31")), {"invoices": 0, "entries": 0})
        schedule.refresh_from_db()
        self.assertEqual((schedule.runs, schedule.next_date), (3, datetime.date(2026, 4, 30)))
        self.assertIsNotNone(schedule.last_run_at)

    def test_the_unique_key_refuses_a_period_the_bookkeeping_lost(self):
        schedule = self.invoice_schedule()
        recurring.run_due(noon("2026-02-28"))
        # As if the schedule's own row had been restored from before the run.
        RecurringInvoice.objects.filter(pk=schedule.pk).update(
            runs=0, next_date=schedule.start_date
        )
        self.assertEqual(recurring.run_due(noon("2026-03-31")), {"invoices": 1, "entries": 0})
        self.assertEqual(Document.objects.filter(recurrence=schedule).count(), 3)
        schedule.refresh_from_db()
        self.assertEqual(schedule.runs, 3)

    def test_sent_schedules_issue_numbered_invoices_and_email_them(self):
        self.invoice_schedule(send=True)
        recurring.run_due(noon("2026-02-28"))
        invoices = Document.objects.filter(type="invoice").order_by("period")
        self.assertEqual(
            [(i.number, i.status) for i in invoices],
            [("INV-2026-0001", "sent"), ("INV-2026-0002", "sent")],
        )
        self.assertEqual(Job.objects.filter(kind="finance.email_document").count(), 2)

    def test_the_end_date_and_pausing_stop_it(self):
        ended = self.entry_schedule(end_date=datetime.date(2026, 6, 30))
        paused = self.entry_schedule(name="Paused", active=False)
        self.assertEqual(recurring.run_due(noon("2027-01-01")), {"invoices": 0, "entries": 2})
        self.assertEqual(
            list(LedgerEntry.objects.filter(recurrence=ended).values_list("date", flat=True)),
            [datetime.date(2026, 4, 1), datetime.date(2026, 1, 1)],
        )
        self.assertFalse(LedgerEntry.objects.filter(recurrence=paused).exists())

    def test_entries_are_approved_and_exact_in_the_base_currency(self):
        schedule = self.entry_schedule(currency="EUR", exchange_rate=Decimal("1.08333333"))
        recurring.run_due(noon("2026-01-01"))
        entry = LedgerEntry.objects.get(recurrence=schedule)
        self.assertEqual(
            (entry.approval_status, entry.amount, entry.base_amount, entry.period),
            ("approved", Decimal("1500.00"), Decimal("1625.00"), datetime.date(2026, 1, 1)),
        )

    def test_catch_up_is_bounded_per_run(self):
        schedule = self.entry_schedule(frequency="monthly", start_date=datetime.date(2026, 1, 1))
        made = recurring.run_due(noon("2028-12-01"))
        self.assertEqual(made["entries"], recurring.CATCH_UP)
        recurring.run_due(noon("2028-12-01"))
        self.assertEqual(LedgerEntry.objects.filter(recurrence=schedule).count(), 36)

    def test_each_organization_runs_on_its_own_date(self):
        self.org.timezone = "Pacific/Kiritimati"  # UTC+14: already 2026-02-01 at 10:30 UTC
        self.org.save()
        schedule = self.entry_schedule(frequency="monthly", start_date=datetime.date(2026, 2, 1))
        recurring.run_due(datetime.datetime.fromisoformat("2026-01-31T10:30:00+00:00"))
        self.assertTrue(LedgerEntry.objects.filter(recurrence=schedule).exists())

    def test_a_period_that_cannot_be_made_stops_there_and_says_why(self):
        schedule = self.invoice_schedule(send=True)
        RecurringInvoice.objects.filter(pk=schedule.pk).update(line_items=[])
        self.assertEqual(recurring.run_due(noon("2026-02-28")), {"invoices": 0, "entries": 0})
        schedule.refresh_from_db()
        self.assertEqual((schedule.runs, schedule.next_date), (0, datetime.date(2026, 1, 31)))
        self.assertIn("2026-01-31", schedule.last_error)
        self.assertFalse(Document.objects.exists())

    def test_a_schedule_whose_owner_may_no_longer_approve_makes_nothing_until_taken_over(self):
        manager = User.objects.create_user(email="manager@rec.test", password="x" * 16)
        membership = Membership.objects.create(
            organization=self.org, user=manager, role="manager", modules=["finance"]
        )
        schedule = recurring.schedule_save(
            tenant=Tenant(organization=self.org, membership=membership),
            model=RecurringEntry,
            schedule=self.entry_schedule(),
            data={"name": "Rent, set up by the manager"},
        )
        self.assertEqual(schedule.created_by, manager)
        membership.role = "worker"
        membership.save()
        self.assertEqual(recurring.run_due(noon("2026-01-01"))["entries"], 0)
        schedule.refresh_from_db()
        self.assertEqual(schedule.last_error, recurring.NO_APPROVER)
        recurring.schedule_save(
            tenant=self.tenant, model=RecurringEntry, schedule=schedule, data={"active": True}
        )
        self.assertEqual(recurring.run_due(noon("2026-01-01"))["entries"], 1)
        entry = LedgerEntry.objects.get(recurrence=schedule)
        self.assertEqual(entry.created_by, self.user)

    def test_a_deleted_schedule_leaves_what_it_made(self):
        schedule = self.invoice_schedule()
        recurring.run_due(noon("2026-01-31"))
        schedule.delete()
        self.assertEqual(Document.objects.get().recurrence, None)


class ScheduleRuleTests(RecurringTestCase):
    """What a schedule refuses."""

    def test_the_rhythm_is_fixed_once_a_period_was_made(self):
        schedule = self.invoice_schedule()
        changed = recurring.schedule_save(
            tenant=self.tenant,
            model=RecurringInvoice,
            schedule=schedule,
            data={"start_date": datetime.date(2026, 2, 15)},
        )
        self.assertEqual(changed.next_date, datetime.date(2026, 2, 15))
        recurring.run_due(noon("2026-02-15"))
        with self.assertRaises(Conflict) as caught:
            recurring.schedule_save(
                tenant=self.tenant,
                model=RecurringInvoice,
                schedule=changed,
                data={"frequency": "yearly"},
            )
        self.assertEqual(caught.exception.code, "started")
        ended = recurring.schedule_save(
            tenant=self.tenant,
            model=RecurringInvoice,
            schedule=changed,
            data={"end_date": datetime.date(2026, 12, 31), "due_days": 14},
        )
        self.assertEqual((ended.runs, ended.due_days), (1, 14))

    def test_invalid_schedules(self):
        cases = [
            ({"end_date": datetime.date(2025, 12, 31)}, "end_date"),
            ({"start_date": datetime.date(2020, 1, 1)}, "start_date"),
            ({"currency": "EUR"}, "exchange_rate"),
            ({"category": category(self.org, "Sales", Kind.INCOME)}, "category"),
        ]
        for data, field in cases:
            with self.subTest(field=field), self.assertRaises(DomainError) as caught:
                self.entry_schedule(**data)
            self.assertIn(field, caught.exception.errors)
        huge = {"description": "X", "quantity": Decimal("99999999.999")}
        for lines in ([], [{**huge, "unit_price": Decimal("999999999999.99")}]):
            with self.subTest(lines=len(lines)), self.assertRaises(DomainError) as caught:
                self.invoice_schedule(line_items=lines)
            self.assertEqual(list(caught.exception.errors), ["line_items"])


ON_POSTGRESQL = connection.vendor == "postgresql"


@unittest.skipUnless(
    ON_POSTGRESQL,
    "needs PostgreSQL (concurrent connections and row locks); SQLite serialises every write. "
    "Run with DATABASE_URL=postgres://...",
)
class ConcurrentRunTests(TransactionTestCase):
    """Eight runs at the same moment make each period once and number invoices without gaps."""

    def test_simultaneous_runs(self):
        user = User.objects.create_user(email="busy@rec.test", password="x" * 16)
        org = organization_create(name="Busy", actor=user)
        tenant = Tenant(
            organization=org, membership=Membership.objects.get(organization=org, user=user)
        )
        customer = Customer.objects.create(organization=org, name="Acme")
        for index in range(3):
            recurring.schedule_save(
                tenant=tenant,
                model=RecurringInvoice,
                schedule=None,
                data={
                    "name": f"Plan {index}",
                    "frequency": "monthly",
                    "start_date": datetime.date(2026, 1, 1),
                    "customer": customer,
                    "line_items": LINES,
                    "send": True,
                },
            )
        barrier = threading.Barrier(8)

        def run() -> None:
            try:
                barrier.wait()
                recurring.run_due(noon("2026-06-01"))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        numbers = sorted(Document.objects.values_list("number", flat=True))
        self.assertEqual(numbers, [f"INV-2026-{n:04d}" for n in range(1, 19)])
        self.assertEqual(sorted(RecurringInvoice.objects.values_list("runs", flat=True)), [6, 6, 6])
