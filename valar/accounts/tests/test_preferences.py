"""Tests of ``GET|PUT|PATCH /api/v1/auth/me/preferences/``: defaults, replace, merge, validation."""

from rest_framework.test import APIClient

from valar.core.testing import ApiTestCase
from valar.core.testing.schema import openapi_schema

PREFERENCES_URL = "/api/v1/auth/me/preferences/"
DEFAULTS = {
    "language": "en",
    "timezone": "UTC",
    "date_format": "YYYY-MM-DD",
    "notification_opt_outs": [],
}
PARIS = {
    "language": "fr",
    "timezone": "Europe/Paris",
    "date_format": "DD/MM/YYYY",
    "notification_opt_outs": ["crm"],
}


class PreferencesTests(ApiTestCase):
    """Preferences have defaults, PUT replaces them, PATCH merges, and bad input is a 400."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com")
        self.client = self.token_client(self.user)

    def stored(self) -> dict:
        self.user.refresh_from_db()
        return self.user.preferences

    def test_a_new_user_gets_the_defaults(self):
        response = self.client.get(PREFERENCES_URL)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), DEFAULTS)

    def test_get_shows_stored_preferences_over_the_defaults(self):
        self.user.preferences = {"timezone": "Asia/Tokyo"}
        self.user.save()
        self.assertEqual(
            self.client.get(PREFERENCES_URL).json(), {**DEFAULTS, "timezone": "Asia/Tokyo"}
        )

    def test_put_replaces_every_preference_and_drops_stale_ones(self):
        self.user.preferences = {**PARIS, "theme": "dark"}
        self.user.save()
        replacement = {
            "language": "de",
            "timezone": "Europe/Berlin",
            "date_format": "DD.MM.YYYY",
            "notification_opt_outs": ["finance", "tasks"],
        }
        response = self.client.put(PREFERENCES_URL, replacement)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), replacement)
        self.assertEqual(self.stored(), replacement)
        self.assertEqual(self.client.get(PREFERENCES_URL).json(), replacement)

    def test_put_can_clear_the_opt_outs(self):
        self.user.preferences = PARIS
        self.user.save()
        response = self.client.put(PREFERENCES_URL, {**PARIS, "notification_opt_outs": []})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.stored()["notification_opt_outs"], [])

    def test_patch_changes_only_the_keys_it_names(self):
        self.user.preferences = PARIS
        self.user.save()
        response = self.client.patch(PREFERENCES_URL, {"date_format": "MM/DD/YYYY"})
        self.assertEqual(response.status_code, 200, response.content)
        expected = {**PARIS, "date_format": "MM/DD/YYYY"}
        self.assertEqual(response.json(), expected)
        self.assertEqual(self.stored(), expected)

    def test_patch_on_a_new_user_merges_into_the_defaults(self):
        response = self.client.patch(PREFERENCES_URL, {"timezone": "America/New_York"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.stored(), {**DEFAULTS, "timezone": "America/New_York"})

    def test_opt_outs_are_kept_once_each_in_a_stable_order(self):
        response = self.client.patch(
            PREFERENCES_URL, {"notification_opt_outs": ["tasks", "crm", "tasks", "security"]}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["notification_opt_outs"], ["crm", "security", "tasks"])
        self.assertEqual(self.stored()["notification_opt_outs"], ["crm", "security", "tasks"])

    def test_an_unknown_key_is_a_400_naming_that_key_and_nothing_is_saved(self):
        for method in ("patch", "put"):
            with self.subTest(method=method):
                response = getattr(self.client, method)(
                    PREFERENCES_URL, {**DEFAULTS, "timezone": "Asia/Tokyo", "theme": "dark"}
                )
                body = self.assert_problem(response, 400, field="theme", code="invalid")
                self.assertEqual(body["errors"], {"theme": ["Unknown preference."]})
                self.assertEqual(self.stored(), {})

    def test_every_unknown_key_is_named(self):
        response = self.client.patch(PREFERENCES_URL, {"theme": "dark", "is_staff": True})
        body = self.assert_problem(response, 400)
        self.assertEqual(set(body["errors"]), {"theme", "is_staff"})

    def test_an_unknown_time_zone_is_a_field_error(self):
        response = self.client.patch(PREFERENCES_URL, {"timezone": "Mars/Olympus_Mons"})
        body = self.assert_problem(response, 400, field="timezone", code="invalid")
        self.assertEqual(body["errors"]["timezone"], ["Unknown time zone."])
        self.assertEqual(self.stored(), {})

    def test_a_time_zone_offset_is_not_a_time_zone_name(self):
        response = self.client.patch(PREFERENCES_URL, {"timezone": "+02:00"})
        self.assert_problem(response, 400, field="timezone")

    def test_an_unknown_language_is_a_field_error(self):
        response = self.client.patch(PREFERENCES_URL, {"language": "klingon"})
        body = self.assert_problem(response, 400, field="language")
        self.assertEqual(body["errors"]["language"], ['"klingon" is not a valid choice.'])

    def test_an_unknown_date_format_is_a_field_error(self):
        response = self.client.patch(PREFERENCES_URL, {"date_format": "YY/M/D"})
        body = self.assert_problem(response, 400, field="date_format")
        self.assertEqual(body["errors"]["date_format"], ['"YY/M/D" is not a valid choice.'])

    def test_an_unknown_notification_kind_is_a_field_error(self):
        response = self.client.patch(PREFERENCES_URL, {"notification_opt_outs": ["tasks", "spam"]})
        body = self.assert_problem(response, 400)
        self.assertEqual(
            body["errors"], {"notification_opt_outs.1": ['"spam" is not a valid choice.']}
        )
        self.assertEqual(self.stored(), {})

    def test_opt_outs_must_be_a_list(self):
        response = self.client.patch(PREFERENCES_URL, {"notification_opt_outs": "tasks"})
        self.assert_problem(response, 400, field="notification_opt_outs")

    def test_a_body_that_is_not_an_object_is_a_400(self):
        response = self.client.put(PREFERENCES_URL, ["language", "en"])
        body = self.assert_problem(response, 400, field="non_field_errors", code="invalid")
        self.assertIn("Expected a dictionary", body["errors"]["non_field_errors"][0])

    def test_patch_with_a_session_requires_the_csrf_header(self):
        browser = APIClient(enforce_csrf_checks=True)
        csrf = self.session_login(self.user, client=browser)
        refused = browser.patch(PREFERENCES_URL, {"language": "fr"})
        self.assert_problem(refused, 403, code="permission_denied")
        self.assertEqual(self.stored(), {})
        accepted = browser.patch(PREFERENCES_URL, {"language": "fr"}, HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(accepted.status_code, 200, accepted.content)
        self.assertEqual(self.stored()["language"], "fr")

    def test_preferences_are_per_user(self):
        other = self.make_user("grace@example.com")
        self.client.patch(PREFERENCES_URL, {"language": "fr"})
        self.assertEqual(self.token_client(other).get(PREFERENCES_URL).json(), DEFAULTS)

    def test_an_anonymous_caller_is_401(self):
        response = APIClient().put(PREFERENCES_URL, DEFAULTS)
        self.assert_problem(response, 401, code="not_authenticated")

    def test_a_put_without_a_body_is_a_400_and_nothing_is_saved(self):
        self.client.patch(PREFERENCES_URL, {"timezone": "Asia/Tokyo"})
        before = self.stored()
        response = self.client.put(PREFERENCES_URL)
        self.assert_problem(response, 400)
        self.assertEqual(self.stored(), before)

    def test_the_schema_closes_the_preferences_body_to_other_keys(self):
        components = openapi_schema()["components"]["schemas"]
        for name in ("PreferencesRequest", "PatchedPreferencesRequest"):
            with self.subTest(component=name):
                self.assertIs(components[name]["additionalProperties"], False)

    def test_the_request_schema_requires_no_key_since_missing_ones_take_their_defaults(self):
        components = openapi_schema()["components"]["schemas"]
        self.assertNotIn("required", components["PreferencesRequest"])
        response = self.client.put(PREFERENCES_URL, {"language": "fr"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), {**DEFAULTS, "language": "fr"})
