"""Gap-free counters (``core.sequences``): per organization and key, given back on rollback."""

import threading
import unittest
import unittest.mock

from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase

from valar.accounts.models import User
from valar.core.models import Sequence
from valar.core.sequences import formatted, next_number, next_numbers
from valar.organizations.services import organization_create

ON_POSTGRESQL = connection.vendor == "postgresql"
SKIP_REASON = (
    "needs PostgreSQL (real concurrent connections and row locks); SQLite serialises every "
    "write, so the race cannot happen there. Run with DATABASE_URL=postgres://..."
)


def _organization(name: str):
    """A new organization with its own admin."""
    user = User.objects.create_user(email=f"{name.lower()}@example.com", password="x" * 16)
    return organization_create(name=name, actor=user)


class NextNumberTests(TestCase):
    """Numbers count up from 1 per organization and key, inside the caller's transaction."""

    def setUp(self) -> None:
        self.org = _organization("One")
        self.other = _organization("Two")

    def take(self, organization, key: str) -> int:
        """One number, in its own transaction."""
        with transaction.atomic():
            return next_number(organization.pk, key)

    def test_each_key_and_organization_counts_on_its_own(self):
        self.assertEqual([self.take(self.org, "invoice:2026") for _ in range(3)], [1, 2, 3])
        self.assertEqual(self.take(self.org, "invoice:2027"), 1)
        self.assertEqual(self.take(self.other, "invoice:2026"), 1)
        self.assertEqual(self.take(self.org, "invoice:2026"), 4)

    def test_a_rolled_back_transaction_gives_its_number_back(self):
        self.assertEqual(self.take(self.org, "customer"), 1)
        with self.assertRaises(ZeroDivisionError), transaction.atomic():
            self.assertEqual(next_number(self.org.pk, "customer"), 2)
            _ = 1 / 0
        self.assertEqual(self.take(self.org, "customer"), 2)

    def test_a_block_of_numbers_is_taken_in_one_statement(self):
        self.assertEqual(self.take(self.org, "customer"), 1)
        with transaction.atomic(), self.assertNumQueries(1):
            self.assertEqual(list(next_numbers(self.org.pk, "customer", 3)), [2, 3, 4])
        with transaction.atomic():
            self.assertEqual(list(next_numbers(self.other.pk, "customer", 2)), [1, 2])
            self.assertEqual(list(next_numbers(self.org.pk, "customer", 0)), [])
        self.assertEqual(self.take(self.org, "customer"), 5)

    def test_outside_a_transaction_it_refuses(self):
        with (
            unittest.mock.patch.object(
                transaction.get_connection(), "in_atomic_block", False, create=True
            ),
            self.assertRaises(RuntimeError),
        ):
            next_number(self.org.pk, "customer")

    def test_the_counters_are_deleted_with_their_organization(self):
        self.take(self.org, "customer")
        self.org.delete()
        self.assertFalse(Sequence.objects.filter(organization_id=self.org.pk).exists())

    def test_formatted(self):
        self.assertEqual(formatted("CUST", 7), "CUST-0007")
        self.assertEqual(formatted("INV", 12, year=2026), "INV-2026-0012")
        self.assertEqual(formatted("INV", 12345, year=2026), "INV-2026-12345")


@unittest.skipUnless(ON_POSTGRESQL, SKIP_REASON)
class ConcurrentNumberTests(TransactionTestCase):
    """Transactions taking numbers at the same moment get distinct numbers and leave no gap."""

    def test_twenty_simultaneous_transactions_one_rolled_back(self):
        org = _organization("Busy")
        barrier = threading.Barrier(20)
        taken: list[int] = []
        lock = threading.Lock()

        def run(index: int) -> None:
            try:
                barrier.wait()
                with transaction.atomic():
                    number = next_number(org.pk, "invoice:2026")
                    if index == 7:
                        transaction.set_rollback(True)
                        return
                with lock:
                    taken.append(number)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(index,)) for index in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # 19 committed numbers, all distinct, 1 to 19: the rolled-back one was handed again.
        self.assertEqual(sorted(taken), list(range(1, 20)))
        with transaction.atomic():
            self.assertEqual(next_number(org.pk, "invoice:2026"), 20)
