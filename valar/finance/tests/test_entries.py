"""Ledger entries: kinds by URL, filters, ownership, money input and tenant-scoped links."""

import datetime
import json
from decimal import Decimal

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Vendor
from valar.crm.services import customer_create
from valar.finance.models import Kind, LedgerEntry, Subcategory
from valar.finance.tests.support import API, category, entry
from valar.organizations.models import Membership, Team

TRANSACTIONS = f"{API}transactions/"
INCOMES = f"{API}incomes/"
EXPENSES = f"{API}expenses/"


class LedgerTestCase(TenantFixtureMixin, ApiTestCase):
    """An organization with income and expense categories, for the entry tests."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = category(self.org, name="Sales")
        self.fees = category(self.org, name="Fees")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)

    def body(self, category=None, **extra):
        """A valid entry body (``category`` defaults to Sales)."""
        return {
            "title": "Invoice",
            "amount": "10.00",
            "date": "2026-01-15",
            "category": str((category or self.sales).pk),
            **extra,
        }

    @staticmethod
    def ids(response) -> list[str]:
        """The ids of a list response's rows, in order."""
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]


class EntryKindTests(LedgerTestCase):
    """``incomes/`` and ``expenses/`` fix the kind; ``transactions/`` needs it in the body."""

    def test_incomes_creates_an_income_whatever_the_body_says(self):
        response = self.admin.post(INCOMES, self.body(kind="expense"), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["kind"], "income")
        self.assertEqual(LedgerEntry.objects.get().kind, Kind.INCOME)

    def test_expenses_creates_an_expense_and_refuses_an_income_category(self):
        response = self.admin.post(EXPENSES, self.body(self.rent), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["kind"], "expense")
        wrong = self.admin.post(EXPENSES, self.body(self.sales), format="json")
        self.assert_problem(wrong, 400, field="category")
        self.assertEqual(LedgerEntry.objects.count(), 1)

    def test_each_fixed_url_lists_and_reaches_only_its_own_kind(self):
        income = entry(self.org, self.sales)
        expense = entry(self.org, self.rent)
        self.assertEqual(self.ids(self.admin.get(INCOMES)), [str(income.pk)])
        self.assertEqual(self.ids(self.admin.get(EXPENSES)), [str(expense.pk)])
        self.assert_problem(self.admin.get(f"{INCOMES}{expense.pk}/"), 404)
        self.assert_problem(self.admin.delete(f"{EXPENSES}{income.pk}/"), 404)
        self.assertTrue(LedgerEntry.objects.filter(pk=income.pk).exists())

    def test_transactions_requires_a_valid_kind(self):
        self.assert_problem(
            self.admin.post(TRANSACTIONS, self.body(), format="json"), 400, field="kind"
        )
        bad = self.admin.post(TRANSACTIONS, self.body(kind="gift"), format="json")
        self.assert_problem(bad, 400, field="kind")
        good = self.admin.post(TRANSACTIONS, self.body(self.rent, kind="expense"), format="json")
        self.assertEqual(good.status_code, 201, good.content)
        self.assertEqual(good.json()["kind"], "expense")
        self.assertEqual(LedgerEntry.objects.count(), 1)

    def test_transactions_lists_both_kinds_and_filters_by_kind(self):
        income = entry(self.org, self.sales)
        expense = entry(self.org, self.rent)
        both = set(self.ids(self.admin.get(TRANSACTIONS)))
        self.assertEqual(both, {str(income.pk), str(expense.pk)})
        only = self.ids(self.admin.get(TRANSACTIONS, {"kind": "expense"}))
        self.assertEqual(only, [str(expense.pk)])
        self.assert_problem(self.admin.get(TRANSACTIONS, {"kind": "gift"}), 400, field="kind")

    def test_the_kind_of_an_entry_cannot_change_through_transactions(self):
        income = entry(self.org, self.sales)
        url = f"{TRANSACTIONS}{income.pk}/"
        changed = self.admin.patch(url, {"kind": "expense"}, format="json")
        self.assert_problem(changed, 400, field="kind")
        put = self.admin.put(url, self.body(self.rent, kind="expense"), format="json")
        self.assert_problem(put, 400, field="kind")
        income.refresh_from_db()
        self.assertEqual((income.kind, income.category_id), (Kind.INCOME, self.sales.pk))
        same = self.admin.patch(url, {"kind": "income", "title": "Kept"}, format="json")
        self.assertEqual(same.status_code, 200, same.content)
        self.assertEqual(same.json()["title"], "Kept")

    def test_the_kind_in_a_fixed_url_update_is_ignored(self):
        income = entry(self.org, self.sales)
        response = self.admin.patch(f"{INCOMES}{income.pk}/", {"kind": "expense"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["kind"], "income")
        income.refresh_from_db()
        self.assertEqual(income.kind, Kind.INCOME)


class EntryFilterTests(LedgerTestCase):
    """Every filter, search and ordering of the entry lists."""

    def setUp(self):
        super().setUp()
        self.north = Team.objects.create(organization=self.org, name="North")
        self.online = Subcategory.objects.create(
            organization=self.org, category=self.sales, name="Online"
        )
        worker = self.users[Role.WORKER]
        self.a = entry(
            self.org,
            self.sales,
            "9.50",
            "2026-01-10",
            title="Consulting January",
            time=datetime.time(8, 30),
            team=self.north,
            subcategory=self.online,
            created_by=self.users[Role.ADMIN],
        )
        self.b = entry(
            self.org,
            self.fees,
            "100.00",
            "2026-01-20",
            title="Late fee",
            description="Paid by the harbour office",
            time=datetime.time(17, 0),
            created_by=worker,
        )
        self.c = entry(
            self.org,
            self.sales,
            "10.00",
            "2026-02-01",
            title="Workshop",
            reference="INV-0042",
            team=self.north,
            created_by=worker,
        )
        self.d = entry(self.org, self.rent, "55.55", "2026-01-31", title="Rent", time=None)
        entry(self.other, category(self.other), "10.00", "2026-01-10", title="Consulting")

    def found(self, params, url=TRANSACTIONS, client=None):
        return set(self.ids((client or self.admin).get(url, {**params, "page_size": 100})))

    def expect(self, params, *entries, url=TRANSACTIONS):
        self.assertEqual(self.found(params, url), {str(row.pk) for row in entries}, params)

    def test_start_date_and_end_date_are_inclusive_bounds_of_the_business_date(self):
        self.expect({"start_date": "2026-01-20"}, self.b, self.c, self.d)
        self.expect({"end_date": "2026-01-20"}, self.a, self.b)
        self.expect({"start_date": "2026-01-10", "end_date": "2026-01-10"}, self.a)
        self.expect({"start_date": "2026-01-11", "end_date": "2026-01-31"}, self.b, self.d)

    def test_an_end_date_before_the_start_date_or_a_bad_date_is_a_400(self):
        response = self.admin.get(
            TRANSACTIONS, {"start_date": "2026-02-01", "end_date": "2026-01-01"}
        )
        self.assert_problem(response, 400, field="end_date")
        self.assert_problem(
            self.admin.get(TRANSACTIONS, {"start_date": "01/02/2026"}), 400, field="start_date"
        )

    def test_start_time_and_end_time_bound_the_time_and_leave_out_entries_without_one(self):
        self.expect({"start_time": "09:00"}, self.b)
        self.expect({"end_time": "09:00"}, self.a)
        self.expect({"start_time": "08:30", "end_time": "17:00"}, self.a, self.b)

    def test_time_filters_accept_an_rfc_3339_offset_and_refuse_other_shapes(self):
        self.expect({"start_time": "09:00:00Z"}, self.b)
        self.expect({"end_time": "09:00:00+01:00"}, self.a)
        self.expect({"start_time": "08:30:00.000Z", "end_time": "17:00:00Z"}, self.a, self.b)
        for bad in ("0900", "9:00", "24:00", "09:00\n", "noon"):
            with self.subTest(bad=bad):
                self.assert_problem(
                    self.admin.get(TRANSACTIONS, {"start_time": bad}), 400, field="start_time"
                )

    def test_an_entry_time_is_answered_without_offset_and_accepted_with_one(self):
        for given in ("09:30", "09:30:00", "09:30:00Z", "09:30:00+02:00"):
            with self.subTest(given=given):
                response = self.admin.post(INCOMES, self.body(time=given), format="json")
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(response.json()["time"], "09:30:00")
        for bad in ("0930", "9:30", "25:00"):
            with self.subTest(bad=bad):
                response = self.admin.post(INCOMES, self.body(time=bad), format="json")
                self.assert_problem(response, 400, field="time")

    def test_the_schema_declares_times_as_patterned_strings_not_format_time(self):
        from drf_spectacular.generators import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        prop = schema["components"]["schemas"]["Entry"]["properties"]["time"]
        self.assertNotIn("format", prop)
        self.assertRegex("09:00:00Z", prop["pattern"])
        params = schema["paths"]["/api/v1/finance/transactions/"]["get"]["parameters"]
        start = next(p for p in params if p["name"] == "start_time")
        self.assertRegex("09:00:00Z", start["schema"]["pattern"])

    def test_category_subcategory_and_team_filter_by_id(self):
        self.expect({"category": self.sales.pk}, self.a, self.c)
        self.expect({"category": self.rent.pk}, self.d)
        self.expect({"subcategory": self.online.pk}, self.a)
        self.expect({"team": self.north.pk}, self.a, self.c)
        self.expect(
            {"team": self.north.pk, "category": self.sales.pk, "end_date": "2026-01-31"}, self.a
        )
        self.assert_problem(self.admin.get(TRANSACTIONS, {"team": "north"}), 400, field="team")

    def test_min_amount_and_max_amount_are_inclusive_and_numeric(self):
        self.expect({"min_amount": "10"}, self.b, self.c, self.d)
        self.expect({"max_amount": "10.00"}, self.a, self.c)
        self.expect({"min_amount": "9.50", "max_amount": "55.55"}, self.a, self.c, self.d)
        self.expect({"min_amount": "55.56"}, self.b)

    def test_created_by_me_keeps_the_callers_entries(self):
        worker = self.clients[Role.WORKER]
        self.assertEqual(
            self.found({"created_by": "me"}, client=worker), {str(self.b.pk), str(self.c.pk)}
        )
        self.expect({"created_by": "me"}, self.a)
        self.expect({"created_by": str(self.users[Role.WORKER].pk)}, self.b, self.c)
        self.assert_problem(
            self.admin.get(TRANSACTIONS, {"created_by": "someone"}), 400, field="created_by"
        )

    def test_search_looks_in_title_description_and_reference(self):
        self.expect({"search": "consulting"}, self.a)
        self.expect({"search": "harbour"}, self.b)
        self.expect({"search": "INV-0042"}, self.c)
        self.expect({"search": "nothing like this"})

    def test_ordering_by_date_amount_and_created_at_in_both_directions(self):
        def order(value):
            return self.ids(self.admin.get(TRANSACTIONS, {"ordering": value}))

        a, b, c, d = (str(row.pk) for row in (self.a, self.b, self.c, self.d))
        self.assertEqual(order("date"), [a, b, d, c])
        self.assertEqual(order("-date"), [c, d, b, a])
        self.assertEqual(order("amount"), [a, c, d, b])
        self.assertEqual(order("-amount"), [b, d, c, a])
        self.assertEqual(order("created_at"), [a, b, c, d])
        self.assertEqual(order("-created_at"), [d, c, b, a])

    def test_the_default_order_is_the_newest_business_date_first(self):
        ids = self.ids(self.admin.get(TRANSACTIONS))
        self.assertEqual(ids, [str(row.pk) for row in (self.c, self.d, self.b, self.a)])

    def test_the_filters_apply_on_the_fixed_kind_urls_too(self):
        self.expect({"start_date": "2026-01-15"}, self.b, self.c, url=INCOMES)
        self.expect({"start_date": "2026-01-15"}, self.d, url=EXPENSES)
        self.expect({"min_amount": "50"}, self.b, url=INCOMES)

    def test_the_export_honours_the_filters(self):
        response = self.admin.get(f"{INCOMES}export/", {"format": "csv", "team": self.north.pk})
        self.assertEqual(response.status_code, 200)
        content = b"".join(response.streaming_content).decode()
        self.assertIn("Consulting January", content)
        self.assertIn("Workshop", content)
        self.assertNotIn("Late fee", content)
        self.assertNotIn("Rent", content.split("\n", 1)[1])


class EntryOwnershipTests(LedgerTestCase):
    """Workers create, see and change their own entries; basic members read their own;
    managers do all (seeds 001 and 002: people see their own income and expenses)."""

    def setUp(self):
        super().setUp()
        self.admins_entry = entry(self.org, self.sales, created_by=self.users[Role.ADMIN])

    def test_a_worker_creates_an_entry_and_is_its_author(self):
        response = self.clients[Role.WORKER].post(INCOMES, self.body(), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["created_by"], str(self.users[Role.WORKER].pk))

    def test_a_worker_changes_and_deletes_only_their_own_entries(self):
        worker = self.clients[Role.WORKER]
        own = worker.post(INCOMES, self.body(), format="json").json()
        changed = worker.patch(f"{INCOMES}{own['id']}/", {"amount": "11.00"}, format="json")
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual(changed.json()["amount"], "11.00")
        # Another's entry does not exist for a worker: 404 on every verb, not 403.
        others = f"{INCOMES}{self.admins_entry.pk}/"
        self.assert_problem(worker.patch(others, {"amount": "1.00"}, format="json"), 404)
        self.assert_problem(worker.put(others, self.body(), format="json"), 404)
        self.assert_problem(worker.delete(others), 404)
        self.assert_problem(worker.get(others), 404)
        self.admins_entry.refresh_from_db()
        self.assertEqual(self.admins_entry.amount, Decimal("10.00"))
        self.assertEqual(self.ids(worker.get(TRANSACTIONS)), [own["id"]])
        self.assertEqual(worker.delete(f"{INCOMES}{own['id']}/").status_code, 204)

    def test_a_basic_member_reads_only_their_own_entries_and_cannot_write(self):
        basic = self.clients[Role.BASIC]
        theirs = entry(self.org, self.fees, created_by=self.users[Role.BASIC])
        self.assertEqual(self.ids(basic.get(TRANSACTIONS)), [str(theirs.pk)])
        self.assertEqual(basic.get(f"{INCOMES}{theirs.pk}/").status_code, 200)
        self.assert_problem(basic.get(f"{INCOMES}{self.admins_entry.pk}/"), 404)
        self.assert_problem(basic.post(INCOMES, self.body(), format="json"), 403)
        for url in (f"{INCOMES}{self.admins_entry.pk}/", f"{INCOMES}{theirs.pk}/"):
            with self.subTest(url=url):
                self.assert_problem(basic.patch(url, {"title": "x"}, format="json"), 403)
                self.assert_problem(basic.delete(url), 403)
        self.assertEqual(LedgerEntry.objects.count(), 2)

    def test_a_manager_changes_and_deletes_anyones_entries(self):
        manager = self.clients[Role.MANAGER]
        workers = self.clients[Role.WORKER].post(INCOMES, self.body(), format="json").json()
        for url in (f"{INCOMES}{self.admins_entry.pk}/", f"{INCOMES}{workers['id']}/"):
            with self.subTest(url=url):
                changed = manager.patch(url, {"title": "Checked"}, format="json")
                self.assertEqual(changed.status_code, 200, changed.content)
                self.assertEqual(manager.delete(url).status_code, 204)
        self.assertFalse(LedgerEntry.objects.exists())

    def test_a_member_without_the_finance_module_is_refused(self):
        outsider = self.make_user("nofinance@org.test")
        Membership.objects.create(
            organization=self.org, user=outsider, role=Role.MANAGER, modules=[], is_default=True
        )
        client = self.token_client(outsider)
        self.assert_problem(client.get(TRANSACTIONS), 403)
        self.assert_problem(client.post(INCOMES, self.body(), format="json"), 403)


class MoneyInputTests(LedgerTestCase):
    """Amounts: decimal strings or exact JSON numbers with at most two decimals, above zero."""

    def post_raw(self, amount_json: str):
        """Post an income whose ``amount`` is the raw JSON text ``amount_json``."""
        body = json.dumps(self.body(amount="__AMOUNT__")).replace('"__AMOUNT__"', amount_json)
        return self.admin.post(INCOMES, body, content_type="application/json")

    def test_decimal_strings_are_accepted_and_answered_as_two_decimal_strings(self):
        cases = {
            "12.34": "12.34",
            "12": "12.00",
            "0.1": "0.10",
            "999999999999.99": "999999999999.99",
        }
        for given, expected in cases.items():
            with self.subTest(amount=given):
                response = self.admin.post(INCOMES, self.body(amount=given), format="json")
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(response.json()["amount"], expected)
                self.assertEqual(response.json()["base_amount"], expected)

    def test_exact_json_numbers_are_accepted_without_float_rounding(self):
        cases = {
            "0.1": "0.10",
            "1000.10": "1000.10",
            "12": "12.00",
            "999999999999.99": "999999999999.99",
        }
        for given, expected in cases.items():
            with self.subTest(amount=given):
                response = self.post_raw(given)
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(response.json()["amount"], expected)
        stored = LedgerEntry.objects.get(amount=Decimal("999999999999.99"))
        self.assertEqual(stored.base_amount, Decimal("999999999999.99"))

    def test_the_list_and_detail_answer_amounts_as_strings(self):
        created = self.post_raw("1000.10").json()
        row = self.admin.get(INCOMES).json()["results"][0]
        detail = self.admin.get(f"{INCOMES}{created['id']}/").json()
        for body in (row, detail):
            self.assertEqual((body["amount"], body["base_amount"]), ("1000.10", "1000.10"))

    def test_more_than_two_decimals_is_a_400_saying_so(self):
        for raw in ('"10.001"', "10.001", '"0.001"', "0.125"):
            with self.subTest(amount=raw):
                body = self.assert_problem(self.post_raw(raw), 400, field="amount")
                self.assertIn("2 decimal places", " ".join(body["errors"]["amount"]))
        self.assertFalse(LedgerEntry.objects.exists())

    def test_zero_and_negative_amounts_are_a_400_saying_greater_than_zero(self):
        for raw in ('"0"', "0", '"0.00"', "0.00", '"-5.00"', "-5", "-0.01"):
            with self.subTest(amount=raw):
                body = self.assert_problem(self.post_raw(raw), 400, field="amount")
                self.assertIn("greater than zero", " ".join(body["errors"]["amount"]))
        self.assertFalse(LedgerEntry.objects.exists())

    def test_nan_and_infinity_as_strings_are_a_400_on_the_amount(self):
        for raw in ('"NaN"', '"nan"', '"Infinity"', '"-Infinity"', '"inf"', '"abc"', '""', "true"):
            with self.subTest(amount=raw):
                body = self.assert_problem(self.post_raw(raw), 400, field="amount")
                self.assertTrue(body["errors"]["amount"][0])
        self.assertFalse(LedgerEntry.objects.exists())

    def test_nan_and_infinity_as_bare_json_constants_are_a_400_naming_them(self):
        for raw in ("NaN", "Infinity", "-Infinity"):
            with self.subTest(amount=raw):
                body = self.assert_problem(self.post_raw(raw), 400)
                self.assertIn(raw.lstrip("-"), body["detail"])
        self.assertFalse(LedgerEntry.objects.exists())

    def test_exponents_beyond_the_range_are_a_400_on_the_amount(self):
        for raw in ('"1e400"', "1e400", "1E+13", '"1e-400"', "1e-400", '"9e99999999999999999999"'):
            with self.subTest(amount=raw):
                self.assert_problem(self.post_raw(raw), 400, field="amount")
        self.assertFalse(LedgerEntry.objects.exists())

    def test_more_than_twelve_digits_before_the_point_is_a_400_saying_so(self):
        for raw in ('"1000000000000"', "1000000000000.00"):
            with self.subTest(amount=raw):
                body = self.assert_problem(self.post_raw(raw), 400, field="amount")
                self.assertIn("digits", " ".join(body["errors"]["amount"]))

    def test_a_bad_amount_on_update_is_a_400_and_keeps_the_old_one(self):
        income = entry(self.org, self.sales, "10.00")
        for amount in ("-1.00", "0", "1.005"):
            with self.subTest(amount=amount):
                response = self.admin.patch(
                    f"{INCOMES}{income.pk}/", {"amount": amount}, format="json"
                )
                self.assert_problem(response, 400, field="amount")
        income.refresh_from_db()
        self.assertEqual((income.amount, income.base_amount), (Decimal("10.00"), Decimal("10.00")))

    def test_a_foreign_amount_rounds_half_up_to_the_cent_in_the_base_currency(self):
        response = self.admin.post(
            INCOMES, self.body(amount="0.05", currency="EUR", exchange_rate="0.5"), format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["base_amount"], "0.03")
        changed = self.admin.patch(
            f"{INCOMES}{response.json()['id']}/", {"amount": "10.00"}, format="json"
        )
        self.assertEqual(changed.json()["base_amount"], "5.00")

    def test_an_entry_in_the_base_currency_ignores_a_given_rate(self):
        response = self.admin.post(
            INCOMES, self.body(amount="10.00", currency="USD", exchange_rate="3"), format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["base_amount"], "10.00")
        self.assertEqual(Decimal(response.json()["exchange_rate"]), Decimal(1))


class EntryForeignKeyTests(LedgerTestCase):
    """Links to another organization's rows are 400s, exactly like missing rows."""

    def setUp(self):
        super().setUp()
        self.team = Team.objects.create(organization=self.org, name="North")
        self.customer = customer_create(organization=self.org, name="Acme")
        self.vendor = Vendor.objects.create(organization=self.org, name="Supplies Ltd")
        self.subcategory = Subcategory.objects.create(
            organization=self.org, category=self.sales, name="Online"
        )
        self.theirs = {
            "category": category(self.other, name="Sales"),
            "team": Team.objects.create(organization=self.other, name="North"),
            "customer": customer_create(organization=self.other, name="Acme"),
            "vendor": Vendor.objects.create(organization=self.other, name="Supplies Ltd"),
        }
        self.theirs["subcategory"] = Subcategory.objects.create(
            organization=self.other, category=self.theirs["category"], name="Online"
        )

    def test_the_organizations_own_links_are_accepted(self):
        links = {
            "team": str(self.team.pk),
            "customer": str(self.customer.pk),
            "vendor": str(self.vendor.pk),
            "subcategory": str(self.subcategory.pk),
        }
        response = self.admin.post(INCOMES, self.body(**links), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual({name: body[name] for name in links}, links)
        self.assertEqual(body["team_name"], "North")

    def test_another_organizations_row_is_a_400_on_its_field_when_creating(self):
        for field, row in self.theirs.items():
            with self.subTest(field=field):
                response = self.admin.post(
                    INCOMES, {**self.body(), field: str(row.pk)}, format="json"
                )
                self.assert_problem(response, 400, field=field)
        self.assertFalse(LedgerEntry.objects.exists())

    def test_another_organizations_row_is_a_400_on_its_field_when_changing(self):
        income = entry(self.org, self.sales)
        for field, row in self.theirs.items():
            with self.subTest(field=field):
                response = self.admin.patch(
                    f"{INCOMES}{income.pk}/", {field: str(row.pk)}, format="json"
                )
                self.assert_problem(response, 400, field=field)
        income.refresh_from_db()
        self.assertEqual(
            (income.category_id, income.team_id, income.customer_id, income.vendor_id),
            (self.sales.pk, None, None, None),
        )

    def test_another_organizations_row_reads_exactly_like_a_missing_one(self):
        theirs = self.admin.post(
            INCOMES, self.body(team=str(self.theirs["team"].pk)), format="json"
        ).json()
        missing = self.admin.post(
            INCOMES, self.body(team="00000000-0000-4000-8000-000000000000"), format="json"
        ).json()
        self.assertEqual(
            theirs["errors"]["team"][0].replace(str(self.theirs["team"].pk), "<id>"),
            missing["errors"]["team"][0].replace("00000000-0000-4000-8000-000000000000", "<id>"),
        )
