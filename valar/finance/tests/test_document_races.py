"""Documents under concurrent requests: a draft deleted while it is sent (PostgreSQL only)."""

import threading
import unittest

from django.db import connection
from django.http import Http404
from django.test import TransactionTestCase

from valar.accounts.models import User
from valar.core.errors import Conflict
from valar.core.tenancy import Tenant
from valar.crm.models import Customer
from valar.finance import documents
from valar.finance.models import Document
from valar.finance.tests.test_recurring import LINES
from valar.organizations.models import Membership
from valar.organizations.services import organization_create

ON_POSTGRESQL = connection.vendor == "postgresql"


@unittest.skipUnless(
    ON_POSTGRESQL,
    "needs PostgreSQL (concurrent connections and row locks); SQLite serialises every write. "
    "Run with DATABASE_URL=postgres://...",
)
class DeleteWhileSendingTests(TransactionTestCase):
    """A draft deleted while it is being sent is deleted or issued, never both."""

    def test_send_and_delete_at_once(self):
        user = User.objects.create_user(email="race@rec.test", password="x" * 16)
        org = organization_create(name="Race", actor=user)
        tenant = Tenant(
            organization=org, membership=Membership.objects.get(organization=org, user=user)
        )
        customer = Customer.objects.create(organization=org, name="Acme")
        outcomes = []
        for _ in range(10):
            draft = documents.document_create(
                tenant=tenant,
                document_type="invoice",
                data={"customer": customer, "line_items": LINES},
            )
            barrier = threading.Barrier(2)
            results: dict[str, str] = {}

            def act(name: str, call, draft=draft, barrier=barrier, results=results) -> None:
                try:
                    barrier.wait()
                    call(draft)
                    results[name] = "ok"
                except (Http404, Conflict) as exc:
                    results[name] = type(exc).__name__
                finally:
                    connection.close()

            threads = [
                threading.Thread(
                    target=act,
                    args=("send", lambda d: documents.document_send(tenant=tenant, document=d)),
                ),
                threading.Thread(
                    target=act, args=("delete", lambda d: documents.document_delete(document=d))
                ),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            outcomes.append((results["send"], results["delete"]))
            exists = Document.objects.filter(pk=draft.pk).exists()
            self.assertEqual(exists, results["send"] == "ok", results)
        self.assertNotIn(("ok", "ok"), outcomes)
        # Numbers stay gap-free: one per issued invoice, 1..n.
        numbers = sorted(Document.objects.exclude(number="").values_list("number", flat=True))
        self.assertEqual(numbers, [f"INV-{n[4:8]}-{i:04d}" for i, n in enumerate(numbers, 1)])
