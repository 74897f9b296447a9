"""``finance/recurring-invoices/`` and ``recurring-entries/``: resources, rules and ``run/``."""

import datetime
from decimal import Decimal

from valar.core.policy import Role
from valar.core.tenancy import local_today
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.crm.models import Customer
from valar.finance.models import Kind, RecurringEntry, RecurringInvoice
from valar.finance.tests.support import API, category


def _customer(organization) -> Customer:
    """The organization's customer the schedules bill."""
    return Customer.objects.get_or_create(organization=organization, name="Acme")[0]


def _rent(organization):
    """The organization's expense category the entry schedules use."""
    from valar.finance.models import Category

    return Category.objects.get_or_create(
        organization=organization, type=Kind.EXPENSE, name="Rent"
    )[0]


class RecurringInvoiceResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/recurring-invoices/``."""

    module = "finance"
    url = f"{API}recurring-invoices/"
    update_data = {"name": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return RecurringInvoice.objects.create(
            organization=organization,
            name=f"Plan {index}",
            frequency="monthly",
            start_date=datetime.date(2026, 1, 1),
            next_date=datetime.date(2026, 1, 1),
            customer=_customer(organization),
            currency=organization.base_currency,
            line_items=[{"description": "Plan", "quantity": "1", "unit_price": "10.00"}],
        )

    def create_data(self, index):
        return {
            "name": f"New plan {index}",
            "frequency": "quarterly",
            "start_date": "2026-12-01",
            "customer": str(_customer(self.org).pk),
            "line_items": [{"description": "Plan", "quantity": "1", "unit_price": "10.00"}],
        }


class RecurringEntryResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/finance/recurring-entries/``."""

    module = "finance"
    url = f"{API}recurring-entries/"
    update_data = {"title": "Changed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return RecurringEntry.objects.create(
            organization=organization,
            name=f"Rent {index}",
            frequency="monthly",
            start_date=datetime.date(2026, 1, 1),
            next_date=datetime.date(2026, 1, 1),
            kind=Kind.EXPENSE,
            title="Rent",
            amount=Decimal("100.00"),
            currency=organization.base_currency,
            category=_rent(organization),
        )

    def create_data(self, index):
        return {
            "name": f"New rent {index}",
            "frequency": "yearly",
            "start_date": "2026-12-01",
            "kind": "expense",
            "title": "Rent",
            "amount": "1500.00",
            "category": str(_rent(self.org).pk),
        }


class RecurringApiTestCase(TenantFixtureMixin, ApiTestCase):
    """An organization with a customer; schedules made over the API by its admin."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.customer = _customer(self.org)
        self.today = local_today(self.org)

    def schedule(self, **body) -> dict:
        """A monthly invoice schedule for the customer starting two months ago."""
        start = self.today.replace(day=1) - datetime.timedelta(days=40)
        payload = {
            "name": "Hosting",
            "frequency": "monthly",
            "start_date": start.replace(day=1).isoformat(),
            "customer": str(self.customer.pk),
            "line_items": [
                {
                    "description": "Hosting",
                    "quantity": "1.5",
                    "unit_price": "33.33",
                    "tax_rate": "10",
                }
            ],
            **body,
        }
        response = self.admin.post(f"{API}recurring-invoices/", payload, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()


class RecurringApiTests(RecurringApiTestCase):
    """Schedules driven over the API by the organization's admin."""

    def test_run_makes_the_due_invoices_once_and_lists_them(self):
        schedule = self.schedule(send=True)
        self.assertEqual((schedule["runs"], schedule["next_date"]), (0, schedule["start_date"]))
        self.assertEqual(
            schedule["line_items"][0],
            {
                "description": "Hosting",
                "quantity": "1.500",
                "unit_price": "33.33",
                "discount_percent": "0.00",
                "tax_rate": "10.00",
            },
        )
        url = f"{API}recurring-invoices/{schedule['id']}/run/"
        first = self.admin.post(url)
        self.assertEqual(first.status_code, 200, first.content)
        self.assertEqual(first.json()["runs"], 3)
        again = self.admin.post(url)
        self.assertEqual(again.json()["runs"], 3)
        listed = self.admin.get(f"{API}invoices/", {"recurrence": schedule["id"]}).json()
        self.assertEqual(listed["count"], 3)
        # 1.5 x 33.33 = 49.995 -> 50.00, tax 5.00: every period the same exact total.
        self.assertEqual({row["total"] for row in listed["results"]}, {"55.00"})
        self.assertLessEqual({row["status"] for row in listed["results"]}, {"sent", "overdue"})
        numbers = {row["number"] for row in listed["results"]}
        self.assertEqual(len(numbers), 3)
        self.assertTrue(all(number.startswith("INV-") for number in numbers))
        self.assertEqual({row["recurrence"] for row in listed["results"]}, {schedule["id"]})

    def test_the_rhythm_is_fixed_after_the_first_period(self):
        schedule = self.schedule()
        url = f"{API}recurring-invoices/{schedule['id']}/"
        self.admin.post(f"{url}run/")
        response = self.admin.patch(url, {"frequency": "yearly"}, format="json")
        self.assert_problem(response, 409)
        self.assertEqual(response.json()["code"], "started")
        ended = self.admin.patch(
            url, {"end_date": self.today.isoformat(), "active": False}, format="json"
        )
        self.assertEqual(ended.status_code, 200, ended.content)
        self.assertFalse(ended.json()["active"])

    def test_bad_input_is_a_400_naming_the_field(self):
        cases = [
            ({"frequency": "weekly"}, "frequency"),
            ({"line_items": []}, "line_items"),
            ({"end_date": "2000-01-01"}, "end_date"),
            ({"due_days": 1000}, "due_days"),
            ({"currency": "EUR"}, "exchange_rate"),
            ({"customer": str(_customer(self.other).pk)}, "customer"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                payload = {
                    "name": "Bad",
                    "frequency": "monthly",
                    "start_date": self.today.isoformat(),
                    "customer": str(self.customer.pk),
                    "line_items": [{"description": "X", "quantity": "1", "unit_price": "1.00"}],
                    **body,
                }
                response = self.admin.post(f"{API}recurring-invoices/", payload, format="json")
                self.assert_problem(response, 400)
                self.assertIn(field, response.json()["errors"], response.content)

    def test_entries_schedule_makes_approved_entries(self):
        rent = category(self.org, "Rent", Kind.EXPENSE)
        response = self.admin.post(
            f"{API}recurring-entries/",
            {
                "name": "Rent",
                "frequency": "monthly",
                "start_date": self.today.isoformat(),
                "kind": "expense",
                "title": "Office rent",
                "amount": "1500.00",
                "category": str(rent.pk),
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        schedule = response.json()
        self.admin.post(f"{API}recurring-entries/{schedule['id']}/run/")
        rows = self.admin.get(f"{API}transactions/", {"recurrence": schedule["id"]}).json()
        self.assertEqual(rows["count"], 1)
        row = rows["results"][0]
        self.assertEqual(
            (row["approval_status"], row["amount"], row["date"], row["period"]),
            ("approved", "1500.00", self.today.isoformat(), self.today.isoformat()),
        )

    def test_workers_and_clients_cannot_set_schedules_up_or_run_them(self):
        schedule = self.schedule()
        for role in (Role.WORKER, Role.BASIC, Role.CLIENT):
            with self.subTest(role=role):
                client = self.clients[role]
                self.assert_problem(
                    client.post(f"{API}recurring-invoices/{schedule['id']}/run/"),
                    403,
                )

    def test_another_organization_cannot_run_it(self):
        schedule = self.schedule()
        self.assert_problem(
            self.other_client.post(f"{API}recurring-invoices/{schedule['id']}/run/"), 404
        )
        self.assertEqual(RecurringInvoice.objects.get(pk=schedule["id"]).runs, 0)


class RecurringFoundFromOutsideTests(RecurringApiTestCase):
    """What driving the real server as users and a hostile second organization found."""

    def test_a_schedule_deleted_meanwhile_is_a_404_not_a_500(self):
        from unittest import mock

        from valar.finance import recurring

        schedule = self.schedule()
        url = f"{API}recurring-invoices/{schedule['id']}/"

        def deleted_first(model, pk, today):
            model.objects.filter(pk=pk).delete()
            return 0

        with mock.patch.object(recurring, "run_schedule", side_effect=deleted_first):
            self.assert_problem(self.admin.post(f"{url}run/"), 404)
        schedule = self.schedule()
        url = f"{API}recurring-invoices/{schedule['id']}/"
        real_save = recurring.schedule_save

        def delete_then_save(**kwargs):
            RecurringInvoice.objects.filter(pk=kwargs["schedule"].pk).delete()
            return real_save(**kwargs)

        with mock.patch.object(recurring, "schedule_save", side_effect=delete_then_save):
            self.assert_problem(self.admin.patch(url, {"name": "X"}, format="json"), 404)

    def test_a_new_base_currency_stops_a_schedule_in_the_old_one_until_it_has_a_rate(self):
        schedule = self.schedule()
        self.assertIsNone(schedule["exchange_rate"])
        self.org.base_currency = "JPY"
        self.org.save()
        ran = self.admin.post(f"{API}recurring-invoices/{schedule['id']}/run/").json()
        self.assertEqual(ran["runs"], 0)
        self.assertIn("exchange_rate", ran["last_error"])
        self.assertIn("JPY", ran["last_error"])
        url = f"{API}recurring-invoices/{schedule['id']}/"
        self.admin.patch(url, {"exchange_rate": "150"}, format="json")
        ran = self.admin.post(f"{url}run/").json()
        self.assertEqual((ran["runs"], ran["last_error"]), (3, ""))
        made = self.admin.get(f"{API}invoices/", {"recurrence": schedule["id"]}).json()
        self.assertEqual({row["base_total"] for row in made["results"]}, {"8250.00"})

    def test_a_paused_schedule_stays_editable_after_its_start_passes_the_backdating_limit(self):
        schedule = self.schedule(active=False)
        RecurringInvoice.objects.filter(pk=schedule["id"]).update(
            start_date=self.today - datetime.timedelta(days=400)
        )
        url = f"{API}recurring-invoices/{schedule['id']}/"
        response = self.admin.patch(url, {"active": True, "name": "Back"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        response = self.admin.patch(
            url,
            {"start_date": (self.today - datetime.timedelta(days=500)).isoformat()},
            format="json",
        )
        self.assert_problem(response, 400)

    def test_what_a_schedule_uses_is_in_use(self):
        schedule = self.schedule()
        response = self.admin.delete(f"/api/v1/crm/customers/{self.customer.pk}/")
        self.assert_problem(response, 409)
        self.assertEqual(response.json()["code"], "in_use")
        rent = category(self.org, "Rent", Kind.EXPENSE)
        self.admin.post(
            f"{API}recurring-entries/",
            {
                "name": "Rent",
                "frequency": "monthly",
                "start_date": self.today.isoformat(),
                "kind": "expense",
                "title": "Rent",
                "amount": "10.00",
                "category": str(rent.pk),
            },
            format="json",
        )
        response = self.admin.patch(
            f"{API}categories/{rent.pk}/", {"type": "income"}, format="json"
        )
        self.assert_problem(response, 409)
        self.assertEqual(response.json()["code"], "in_use")
        self.assertTrue(RecurringInvoice.objects.filter(pk=schedule["id"]).exists())

    def test_options_tells_a_worker_they_may_not_set_schedules_up(self):
        for role, allowed in ((Role.WORKER, False), (Role.MANAGER, True)):
            with self.subTest(role=role):
                body = self.clients[role].options(f"{API}recurring-invoices/").json()
                self.assertEqual("POST" in body.get("actions", {}), allowed, body)
