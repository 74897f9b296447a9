"""Categories and subcategories: colors, unique names, deletion in use and reassignment."""

from decimal import Decimal

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Category, Kind, LedgerEntry, Subcategory
from valar.finance.tests.support import API, category, entry

CATEGORIES = f"{API}categories/"
SUBCATEGORIES = f"{API}subcategories/"


class CategoryColorTests(TenantFixtureMixin, ApiTestCase):
    """A category's and a subcategory's color is ``#RRGGBB``."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]

    def test_a_six_digit_hex_color_in_either_case_is_accepted_and_kept(self):
        for index, color in enumerate(("#A1B2C3", "#a1b2c3", "#000000")):
            with self.subTest(color=color):
                response = self.admin.post(
                    CATEGORIES,
                    {"name": f"Sales {index}", "type": "income", "color": color},
                    format="json",
                )
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(response.json()["color"], color)

    def test_a_color_that_is_not_hash_and_six_hex_digits_is_a_400_on_color(self):
        for color in ("#FFF", "A1B2C3", "#A1B2C", "#A1B2C3D", "#GGGGGG", "red", "# A1B2C"):
            with self.subTest(color=color):
                response = self.admin.post(
                    CATEGORIES, {"name": "Sales", "type": "income", "color": color}, format="json"
                )
                self.assert_problem(response, 400, field="color")
        self.assertFalse(Category.objects.filter(organization=self.org).exists())

    def test_changing_a_category_to_a_bad_color_is_a_400_and_keeps_the_old_one(self):
        sales = category(self.org, color="#123456")
        response = self.admin.patch(f"{CATEGORIES}{sales.pk}/", {"color": "#12345"}, format="json")
        self.assert_problem(response, 400, field="color")
        sales.refresh_from_db()
        self.assertEqual(sales.color, "#123456")

    def test_a_subcategory_color_is_validated_the_same_way(self):
        sales = category(self.org)
        bad = self.admin.post(
            SUBCATEGORIES,
            {"category": str(sales.pk), "name": "Online", "color": "blue"},
            format="json",
        )
        self.assert_problem(bad, 400, field="color")
        good = self.admin.post(
            SUBCATEGORIES,
            {"category": str(sales.pk), "name": "Online", "color": "#00FF7f"},
            format="json",
        )
        self.assertEqual(good.status_code, 201, good.content)
        self.assertEqual(good.json()["color"], "#00FF7f")


class CategoryUniquenessTests(TenantFixtureMixin, ApiTestCase):
    """A category's name is unique per organization and type."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = category(self.org, name="Sales", kind=Kind.INCOME)

    def post(self, client, name, kind):
        return client.post(CATEGORIES, {"name": name, "type": kind}, format="json")

    def test_the_same_name_and_type_in_the_same_organization_is_a_409_on_name(self):
        for name in ("Sales", "sales", "SALES"):
            with self.subTest(name=name):
                self.assert_problem(
                    self.post(self.admin, name, "income"), 409, field="name", code="duplicate"
                )
        self.assertEqual(Category.objects.filter(organization=self.org).count(), 1)

    def test_the_same_name_is_allowed_for_the_other_type(self):
        response = self.post(self.admin, "Sales", "expense")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["type"], "expense")

    def test_the_same_name_and_type_is_allowed_in_another_organization(self):
        response = self.post(self.other_client, "Sales", "income")
        self.assertEqual(response.status_code, 201, response.content)

    def test_renaming_a_category_to_a_taken_name_is_a_409_but_keeping_its_own_name_is_not(self):
        fees = category(self.org, name="Fees", kind=Kind.INCOME)
        taken = self.admin.patch(f"{CATEGORIES}{fees.pk}/", {"name": "Sales"}, format="json")
        self.assert_problem(taken, 409, field="name", code="duplicate")
        same = self.admin.patch(
            f"{CATEGORIES}{fees.pk}/", {"name": "Fees", "color": "#FFFFFF"}, format="json"
        )
        self.assertEqual(same.status_code, 200, same.content)

    def test_changing_the_type_onto_a_taken_name_and_type_is_a_409(self):
        category(self.org, name="Sales", kind=Kind.EXPENSE)
        response = self.admin.patch(
            f"{CATEGORIES}{self.sales.pk}/", {"type": "expense"}, format="json"
        )
        self.assert_problem(response, 409, field="name", code="duplicate")

    def test_a_subcategory_name_is_unique_inside_its_category_only(self):
        fees = category(self.org, name="Fees")
        Subcategory.objects.create(organization=self.org, category=self.sales, name="Online")
        taken = self.admin.post(
            SUBCATEGORIES, {"category": str(self.sales.pk), "name": "online"}, format="json"
        )
        self.assert_problem(taken, 409, field="name", code="duplicate")
        elsewhere = self.admin.post(
            SUBCATEGORIES, {"category": str(fees.pk), "name": "Online"}, format="json"
        )
        self.assertEqual(elsewhere.status_code, 201, elsewhere.content)

    def test_a_subcategory_of_another_organizations_category_is_a_400_on_category(self):
        theirs = category(self.other, name="Theirs")
        response = self.admin.post(
            SUBCATEGORIES, {"category": str(theirs.pk), "name": "Mine"}, format="json"
        )
        self.assert_problem(response, 400, field="category")
        self.assertFalse(Subcategory.objects.filter(name="Mine").exists())


class CategoryDeletionTests(TenantFixtureMixin, ApiTestCase):
    """A category in use is a 409 unless ``?reassign_to=`` moves its entries first."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = category(self.org, name="Sales")
        self.fees = category(self.org, name="Fees")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)
        self.online = Subcategory.objects.create(
            organization=self.org, category=self.sales, name="Online"
        )

    def delete(self, target=None, reassign_to=None):
        url = f"{CATEGORIES}{(target or self.sales).pk}/"
        if reassign_to is not None:
            url = f"{url}?reassign_to={reassign_to}"
        return self.admin.delete(url)

    def totals_by_category(self):
        document = run(
            organization=self.org,
            spec={
                "source": "income",
                "start_date": "2026-01-01",
                "end_date": "2026-12-31",
                "group_by": "category",
            },
        )
        return {series["name"]: series["data"][0] for series in document["series"]}

    def test_a_category_without_entries_is_deleted(self):
        response = self.delete(self.fees)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(Category.objects.filter(pk=self.fees.pk).exists())

    def test_a_category_in_use_is_a_409_and_is_kept_with_its_entries(self):
        kept = entry(self.org, self.sales)
        body = self.assert_problem(self.delete(), 409, code="in_use")
        self.assertIn("reassign_to", body["detail"])
        self.assertTrue(Category.objects.filter(pk=self.sales.pk).exists())
        kept.refresh_from_db()
        self.assertEqual(kept.category_id, self.sales.pk)

    def test_reassign_to_moves_the_entries_drops_their_subcategory_and_deletes_the_category(self):
        moved = [
            entry(self.org, self.sales, "0.10", subcategory=self.online),
            entry(self.org, self.sales, "0.20", "2026-03-01"),
        ]
        untouched = entry(self.org, self.fees, "5.00")
        response = self.delete(reassign_to=self.fees.pk)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(Category.objects.filter(pk=self.sales.pk).exists())
        self.assertFalse(Subcategory.objects.filter(pk=self.online.pk).exists())
        for row in [*moved, untouched]:
            row.refresh_from_db()
            self.assertEqual(row.category_id, self.fees.pk)
            self.assertIsNone(row.subcategory_id)

    def test_the_totals_stay_exact_after_the_move(self):
        entry(self.org, self.sales, "0.10", "2026-01-05")
        entry(self.org, self.sales, "0.20", "2026-02-05")
        entry(self.org, self.fees, "1000.10", "2026-03-05")
        self.assertEqual(self.totals_by_category(), {"Fees": "1000.10", "Sales": "0.30"})
        response = self.delete(reassign_to=self.fees.pk)
        self.assertEqual(response.status_code, 204, response.content)
        expected = Decimal("0.10") + Decimal("0.20") + Decimal("1000.10")
        self.assertEqual(self.totals_by_category(), {"Fees": f"{expected:.2f}"})
        self.assertEqual(expected, Decimal("1000.40"))

    def test_reassigning_to_a_category_of_another_type_is_a_400_and_moves_nothing(self):
        kept = entry(self.org, self.sales)
        self.assert_problem(self.delete(reassign_to=self.rent.pk), 400, field="reassign_to")
        kept.refresh_from_db()
        self.assertEqual(kept.category_id, self.sales.pk)
        self.assertTrue(Category.objects.filter(pk=self.sales.pk).exists())

    def test_reassigning_to_the_category_itself_is_a_400(self):
        entry(self.org, self.sales)
        self.assert_problem(self.delete(reassign_to=self.sales.pk), 400, field="reassign_to")
        self.assertTrue(Category.objects.filter(pk=self.sales.pk).exists())

    def test_reassigning_to_another_organizations_category_is_a_400_and_moves_nothing(self):
        theirs = category(self.other, name="Sales")
        kept = entry(self.org, self.sales)
        self.assert_problem(self.delete(reassign_to=theirs.pk), 400, field="reassign_to")
        kept.refresh_from_db()
        self.assertEqual(kept.category_id, self.sales.pk)
        self.assertFalse(LedgerEntry.objects.filter(category=theirs).exists())

    def test_a_reassign_to_that_is_not_an_id_is_a_400_and_deletes_nothing(self):
        entry(self.org, self.sales)
        self.assert_problem(self.delete(reassign_to="not-a-uuid"), 400)
        self.assertTrue(Category.objects.filter(pk=self.sales.pk).exists())

    def test_a_subcategory_in_use_is_a_409_and_an_unused_one_is_deleted(self):
        entry(self.org, self.sales, subcategory=self.online)
        in_use = self.admin.delete(f"{SUBCATEGORIES}{self.online.pk}/")
        self.assert_problem(in_use, 409, code="in_use")
        spare = Subcategory.objects.create(organization=self.org, category=self.sales, name="Spare")
        self.assertEqual(self.admin.delete(f"{SUBCATEGORIES}{spare.pk}/").status_code, 204)
        self.assertTrue(Subcategory.objects.filter(pk=self.online.pk).exists())

    def test_the_list_counts_the_entries_of_each_category(self):
        entry(self.org, self.sales)
        entry(self.org, self.sales)
        rows = self.admin.get(CATEGORIES, {"type": "income"}).json()["results"]
        self.assertEqual({row["name"]: row["entry_count"] for row in rows}, {"Fees": 0, "Sales": 2})


class EntrySubcategoryTests(TenantFixtureMixin, ApiTestCase):
    """An entry's subcategory must belong to its category."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.sales = category(self.org, name="Sales")
        self.fees = category(self.org, name="Fees")
        self.online = Subcategory.objects.create(
            organization=self.org, category=self.sales, name="Online"
        )
        self.late = Subcategory.objects.create(
            organization=self.org, category=self.fees, name="Late"
        )

    def post(self, subcategory):
        return self.admin.post(
            f"{API}incomes/",
            {
                "title": "x",
                "amount": "1.00",
                "date": "2026-01-05",
                "category": str(self.sales.pk),
                "subcategory": str(subcategory.pk),
            },
            format="json",
        )

    def test_a_subcategory_of_the_entrys_category_is_accepted_and_named(self):
        response = self.post(self.online)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["subcategory_name"], "Online")

    def test_a_subcategory_of_another_category_is_a_400_on_subcategory(self):
        self.assert_problem(self.post(self.late), 400, field="subcategory")
        self.assertFalse(LedgerEntry.objects.exists())

    def test_changing_to_a_subcategory_of_another_category_is_a_400(self):
        created = self.post(self.online).json()
        response = self.admin.patch(
            f"{API}incomes/{created['id']}/", {"subcategory": str(self.late.pk)}, format="json"
        )
        self.assert_problem(response, 400, field="subcategory")
        self.assertEqual(LedgerEntry.objects.get().subcategory_id, self.online.pk)

    def test_changing_only_the_category_drops_a_subcategory_that_no_longer_fits(self):
        created = self.post(self.online).json()
        response = self.admin.patch(
            f"{API}incomes/{created['id']}/", {"category": str(self.fees.pk)}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIsNone(response.json()["subcategory"])
        self.assertEqual(response.json()["category_name"], "Fees")
