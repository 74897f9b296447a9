"""JSON bodies are bounded in depth and size: a 400 or 413 problem, never a server error.

Regression tests of issue 12, finding 1: a body of 2,000 nested ``[`` answered 500 to anyone
(``RecursionError`` in the JSON parser).
"""

import json

from django.test import override_settings

from valar.core.limits import MAX_JSON_DEPTH
from valar.core.testing import ApiTestCase
from valar.organizations.services import organization_create

TASKS = "/api/v1/tasks/"


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    """``depth`` containers, one inside the other."""
    return opener * depth + closer * depth


class JsonDepthTests(ApiTestCase):
    """Arrays and objects nest at most ``MAX_JSON_DEPTH`` levels."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        organization_create(name="Org", actor=self.user)
        self.api = self.token_client(self.user)

    def post(self, body: str, client=None, url: str = TASKS, **extra):
        return (client or self.api).generic(
            "POST", url, body, content_type="application/json", **extra
        )

    def test_two_thousand_nested_arrays_are_a_400_problem(self):
        response = self.post(nested(2000))
        body = self.assert_problem(response, 400, code="too_deep")
        self.assertIn(str(MAX_JSON_DEPTH), body["detail"])
        self.assertIn("X-RateLimit-Remaining", response)

    def test_deep_objects_and_mixed_nesting_are_400_problems(self):
        for text in (
            '{"a":' * 5000 + "1" + "}" * 5000,
            '[{"a":' * 1000 + "1" + "}]" * 1000,
            "[" * 100_000,  # unbalanced, and deep
        ):
            with self.subTest(text=text[:12]):
                self.assert_problem(self.post(text), 400, code="too_deep")

    def test_an_anonymous_caller_gets_the_same_400(self):
        csrf = self.csrf_token()
        response = self.post(nested(2000), client=self.client, url="/api/v1/auth/login/")
        self.assertEqual(response.status_code, 403)  # no CSRF token: refused before parsing
        response = self.post(
            nested(2000), client=self.client, url="/api/v1/auth/login/", HTTP_X_CSRFTOKEN=csrf
        )
        self.assert_problem(response, 400, code="too_deep")

    def test_the_limit_itself_is_parsed(self):
        at_limit = self.post(nested(MAX_JSON_DEPTH))
        # Parsed, then refused by the serializer (a list is not a task): not the depth error.
        self.assertNotEqual(self.assert_problem(at_limit, 400)["code"], "too_deep")
        self.assert_problem(self.post(nested(MAX_JSON_DEPTH + 1)), 400, code="too_deep")

    def test_brackets_inside_strings_do_not_count(self):
        text = "[{" * 200
        response = self.post(json.dumps({"title": "Brackets", "description": text}))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["description"], text)

    def test_escaped_quotes_do_not_end_a_string_early(self):
        title = '\\"' + "[" * 60
        response = self.post(json.dumps({"title": title}))
        self.assertEqual(response.status_code, 201, response.content)

    def test_malformed_json_is_still_a_parse_error(self):
        for text in ("{", '{"title": }', "[1,2", '"\\ud800"x'):
            with self.subTest(text=text):
                self.assert_problem(self.post(text), 400, code="parse_error")


class JsonSizeTests(ApiTestCase):
    """A JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 problem."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        organization_create(name="Org", actor=self.user)
        self.api = self.token_client(self.user)

    def test_a_body_over_the_limit_is_a_413_problem(self):
        body = json.dumps({"title": "x", "description": "y" * 2000})
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
            response = self.api.generic("POST", TASKS, body, content_type="application/json")
            small = self.api.generic(
                "POST", TASKS, json.dumps({"title": "x"}), content_type="application/json"
            )
        self.assert_problem(response, 413, code="too_large")
        self.assertEqual(small.status_code, 201, small.content)
