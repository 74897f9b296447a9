"""The customer portal: a client sees only their own customer's documents, and nothing else."""

import datetime
from decimal import Decimal

from valar.accounts.models import User
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.services import customer_create
from valar.finance.documents import document_create, document_send, payment_create
from valar.organizations.models import Membership
from valar.organizations.tests.test_invitations import InvitationMixin, verify
from valar.support.models import Chat

PORTAL = "/api/v1/portal/"
LINE = {"description": "Work", "quantity": Decimal("2"), "unit_price": Decimal("50.00")}


class PortalTestCase(TenantFixtureMixin, ApiTestCase):
    """Customers A and B of one organization, each with documents; a client for each."""

    module = "support"

    def setUp(self):
        super().setUp()
        admin = Membership.objects.get(organization=self.org, user=self.users[Role.ADMIN])
        self.tenant = Tenant(organization=self.org, membership=admin)
        self.a = customer_create(organization=self.org, name="Customer A")
        self.b = customer_create(organization=self.org, name="Customer B")
        self.docs = {
            name: self.documents(customer) for name, customer in (("a", self.a), ("b", self.b))
        }
        self.client_a = self.clients[Role.CLIENT]
        Membership.objects.filter(organization=self.org, user=self.users[Role.CLIENT]).update(
            customer=self.a
        )
        self.user_b = self.make_user("client-b@org.test")
        Membership.objects.create(
            organization=self.org,
            user=self.user_b,
            role=Role.CLIENT,
            customer=self.b,
            is_default=True,
        )
        self.client_b = self.token_client(self.user_b)

    def documents(self, customer) -> dict:
        """A draft invoice, a sent quote and a sent invoice paid 30.00, for ``customer``."""

        def make(kind, **data):
            return document_create(
                tenant=self.tenant,
                document_type=kind,
                data={"customer": customer, "line_items": [LINE], **data},
            )

        draft = make("invoice")
        quote = document_send(tenant=self.tenant, document=make("quote"), email=False)
        invoice = document_send(tenant=self.tenant, document=make("invoice"), email=False)
        payment = payment_create(
            tenant=self.tenant,
            data={
                "invoice": invoice,
                "amount": Decimal("30.00"),
                "date": datetime.date(2026, 3, 1),
            },
        )
        return {"draft": draft, "quote": quote, "invoice": invoice, "payment": payment}

    def ids(self, client, resource: str) -> set[str]:
        """The ids ``client`` is listed at ``portal/{resource}/``."""
        response = client.get(f"{PORTAL}{resource}/")
        self.assertEqual(response.status_code, 200, response.content)
        return {row["id"] for row in response.json()["results"]}


class PortalIsolationTests(PortalTestCase):
    """A client of customer A sees none of customer B's documents, and no draft."""

    def test_each_client_lists_only_their_customers_issued_documents(self):
        for client, name in ((self.client_a, "a"), (self.client_b, "b")):
            docs = self.docs[name]
            self.assertEqual(self.ids(client, "quotes"), {str(docs["quote"].pk)})
            self.assertEqual(self.ids(client, "invoices"), {str(docs["invoice"].pk)})
            self.assertEqual(self.ids(client, "payments"), {str(docs["payment"].pk)})

    def test_another_customers_document_is_a_404_on_every_verb(self):
        theirs = self.docs["b"]
        for url in (
            f"{PORTAL}invoices/{theirs['invoice'].pk}/",
            f"{PORTAL}invoices/{theirs['invoice'].pk}/pdf/",
            f"{PORTAL}quotes/{theirs['quote'].pk}/",
            f"{PORTAL}invoices/{self.docs['a']['draft'].pk}/",
            f"{PORTAL}payments/{theirs['payment'].pk}/",
        ):
            self.assertEqual(self.client_a.get(url).status_code, 404, url)
        response = self.client_a.post(f"{PORTAL}quotes/{theirs['quote'].pk}/accept/")
        self.assertEqual(response.status_code, 404)
        theirs["quote"].refresh_from_db()
        self.assertEqual(theirs["quote"].status, "sent")

    def test_the_invoice_shows_its_balance_and_not_the_organizations_own_fields(self):
        body = self.client_a.get(f"{PORTAL}invoices/{self.docs['a']['invoice'].pk}/").json()
        self.assertEqual(
            (body["total"], body["paid_amount"], body["balance"]), ("100.00", "30.00", "70.00")
        )
        for private in ("created_by", "emailed_to", "source_quote", "recurrence"):
            self.assertNotIn(private, body)
        response = self.client_a.get(f"{PORTAL}invoices/{self.docs['a']['invoice'].pk}/pdf/")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "application/pdf"))

    def test_the_organizations_own_filters_are_not_the_portals(self):
        # Who wrote a document is the organization's to know: filtering by author would
        # tell a client anyway, so the portal has no such filter (it is ignored).
        admin = str(self.users[Role.ADMIN].pk)
        worker = str(self.users[Role.WORKER].pk)
        for resource in ("quotes", "invoices"):
            counts = {
                author: self.client_a.get(f"{PORTAL}{resource}/", {"created_by": author}).json()[
                    "count"
                ]
                for author in (admin, worker)
            }
            self.assertEqual(counts, {admin: 1, worker: 1}, resource)

    def test_a_client_without_a_customer_sees_nothing(self):
        Membership.objects.filter(user=self.users[Role.CLIENT]).update(customer=None)
        for resource in ("quotes", "invoices", "payments"):
            self.assertEqual(self.ids(self.client_a, resource), set())

    def test_another_organization_sees_nothing_of_it(self):
        self.assertEqual(self.other_client.get(f"{PORTAL}invoices/").status_code, 403)
        outsider = self.make_user("client@other.test")
        Membership.objects.create(
            organization=self.other, user=outsider, role=Role.CLIENT, is_default=True
        )
        client = self.token_client(outsider)
        self.assertEqual(self.ids(client, "invoices"), set())
        url = f"{PORTAL}invoices/{self.docs['a']['invoice'].pk}/"
        self.assertEqual(client.get(url).status_code, 404)


class PortalRoleTests(PortalTestCase):
    """Only clients use the portal; clients use nothing of the rest but their chats."""

    def test_members_of_other_roles_are_refused_the_portal(self):
        for role in (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC):
            for resource in ("quotes", "invoices", "payments"):
                response = self.clients[role].get(f"{PORTAL}{resource}/")
                self.assertEqual(response.status_code, 403, (role, resource))

    def test_a_client_is_refused_everything_outside_the_portal_and_support(self):
        invoice = self.docs["a"]["invoice"]
        for url in (
            "/api/v1/finance/invoices/",
            f"/api/v1/finance/invoices/{invoice.pk}/",
            f"/api/v1/finance/invoices/{invoice.pk}/pdf/",
            "/api/v1/finance/payments/",
            "/api/v1/finance/transactions/",
            "/api/v1/crm/customers/",
            f"/api/v1/crm/customers/{self.a.pk}/stats/",
            "/api/v1/tasks/",
            "/api/v1/insights/receivables/",
            "/api/v1/teams/",
            "/api/v1/jobs/",
            "/api/v1/audit/events/",
        ):
            self.assertIn(self.client_a.get(url).status_code, (403, 404), url)

    def test_the_client_accepts_or_rejects_a_sent_quote_once(self):
        quote = self.docs["a"]["quote"]
        response = self.client_a.post(f"{PORTAL}quotes/{quote.pk}/accept/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "accepted")
        response = self.client_a.post(f"{PORTAL}quotes/{quote.pk}/reject/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["code"], "invalid_transition")

    def test_a_clients_chat_is_linked_to_their_customer(self):
        response = self.client_a.post(
            "/api/v1/support/chats/", {"subject": "Invoice question"}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Chat.objects.get(pk=response.json()["id"]).customer_id, self.a.pk)


class PortalInvitationTests(InvitationMixin, TenantFixtureMixin, ApiTestCase):
    """Admins invite a client for a customer; the membership carries it."""

    def setUp(self):
        super().setUp()
        self.customer = customer_create(organization=self.org, name="Invited Co")

    def test_an_invited_client_joins_linked_to_the_customer(self):
        response = self.invite(
            self.clients[Role.ADMIN],
            "buyer@invited.test",
            role="client",
            customer=str(self.customer.pk),
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["customer"], str(self.customer.pk))
        person = verify(User.objects.create_user(email="buyer@invited.test", password="x" * 20))
        response = self.accept(self.token_client(person), self.last_token())
        self.assertEqual(response.status_code, 200, response.content)
        membership = Membership.objects.get(organization=self.org, user=person)
        self.assertEqual((membership.role, membership.customer_id), ("client", self.customer.pk))

    def test_a_customer_is_only_for_clients_and_of_this_organization(self):
        response = self.invite(
            self.clients[Role.ADMIN],
            "staff@invited.test",
            role="worker",
            customer=str(self.customer.pk),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("customer", response.json()["errors"])
        theirs = customer_create(organization=self.other, name="Theirs")
        response = self.invite(
            self.clients[Role.ADMIN], "x@invited.test", role="client", customer=str(theirs.pk)
        )
        self.assertEqual(response.status_code, 400)

    def test_an_admin_links_a_member_who_is_a_client(self):
        member = Membership.objects.get(organization=self.org, user=self.users[Role.CLIENT])
        url = f"/api/v1/organizations/{self.org.pk}/members/{member.pk}/"
        response = self.clients[Role.ADMIN].patch(
            url, {"customer": str(self.customer.pk)}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        member.refresh_from_db()
        self.assertEqual(member.customer_id, self.customer.pk)
        response = self.clients[Role.ADMIN].patch(url, {"role": "basic"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        member.refresh_from_db()
        self.assertIsNone(member.customer_id)
