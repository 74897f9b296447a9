"""Tests of ``model_update``: only the listed, changed fields are validated and written."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.accounts.models import ApiToken, User
from valar.accounts.services import token_create
from valar.core.services import model_update
from valar.core.testing import ApiTestCase


class ModelUpdateTests(ApiTestCase):
    """``model_update`` reports what changed and saves nothing else."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user(first_name="Ada", last_name="Byron")

    def update(self, data: dict, fields: tuple[str, ...] = ("first_name", "last_name")):
        return model_update(instance=self.user, fields=list(fields), data=data)

    def test_only_changed_fields_are_reported_and_set(self):
        user, changed = self.update({"first_name": "Augusta", "last_name": "Byron"})
        self.assertIs(user, self.user)
        self.assertEqual(changed, ["first_name"])
        self.user.refresh_from_db()
        self.assertEqual((self.user.first_name, self.user.last_name), ("Augusta", "Byron"))

    def test_the_update_writes_only_the_changed_columns(self):
        with CaptureQueriesContext(connection) as queries:
            self.update({"first_name": "Augusta", "last_name": "Byron"})
        updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        self.assertEqual(len(updates), 1)
        self.assertIn('"first_name"', updates[0])
        for column in ('"last_name"', '"email"', '"password"', '"is_staff"'):
            self.assertNotIn(column, updates[0])

    def test_a_concurrent_change_to_another_field_is_not_overwritten(self):
        User.objects.filter(pk=self.user.pk).update(last_name="Lovelace", is_staff=True)
        self.update({"first_name": "Augusta"})
        fresh = User.objects.get(pk=self.user.pk)
        self.assertEqual(fresh.first_name, "Augusta")
        self.assertEqual(fresh.last_name, "Lovelace")
        self.assertTrue(fresh.is_staff)

    def test_nothing_changed_means_no_query_and_an_empty_report(self):
        with self.assertNumQueries(0):
            _, changed = self.update({"first_name": "Ada", "last_name": "Byron"})
        self.assertEqual(changed, [])

    def test_fields_absent_from_the_data_are_left_alone(self):
        _, changed = self.update({"last_name": "Lovelace"})
        self.assertEqual(changed, ["last_name"])
        self.user.refresh_from_db()
        self.assertEqual(self.user.first_name, "Ada")

    def test_data_for_fields_not_listed_is_ignored(self):
        _, changed = self.update({"first_name": "Augusta", "is_staff": True, "email": "x@y.z"})
        self.assertEqual(changed, ["first_name"])
        self.user.refresh_from_db()
        self.assertFalse(self.user.is_staff)
        self.assertEqual(self.user.email, "user@example.com")

    def test_an_invalid_value_is_refused_and_nothing_is_written(self):
        with self.assertRaises(ValidationError) as caught:
            self.update({"first_name": "x" * 151})
        self.assertIn("first_name", caught.exception.message_dict)
        self.assertEqual(User.objects.get(pk=self.user.pk).first_name, "Ada")

    def test_a_model_with_updated_at_gets_its_timestamp_refreshed(self):
        token, _ = token_create(user=self.user, name="ci")
        before = ApiToken.objects.get(pk=token.pk).updated_at
        _, changed = model_update(instance=token, fields=["name"], data={"name": "deploy"})
        self.assertEqual(changed, ["name"])
        fresh = ApiToken.objects.get(pk=token.pk)
        self.assertEqual(fresh.name, "deploy")
        self.assertGreater(fresh.updated_at, before)
