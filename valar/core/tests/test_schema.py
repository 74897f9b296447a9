"""Tests of the OpenAPI schema: generated without warnings, errors documented, docs served."""

import io
import json
import os
import tempfile
from contextlib import redirect_stderr

from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from valar.core.schema import FORMAT_PATTERNS
from valar.core.testing import ApiTestCase


class SchemaGenerationTests(ApiTestCase):
    """``manage.py spectacular --fail-on-warn --validate`` succeeds and documents errors."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        GENERATOR_STATS.reset()
        handle, path = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        stderr = io.StringIO()
        try:
            with redirect_stderr(stderr):
                call_command(
                    "spectacular",
                    "--fail-on-warn",
                    "--validate",
                    "--format",
                    "openapi-json",
                    "--file",
                    path,
                )
        except Exception as exc:
            cls.generation_error = f"{exc}\n{stderr.getvalue()}"
            cls.schema = {}
        else:
            cls.generation_error = None
            with open(path, encoding="utf-8") as file:
                cls.schema = json.load(file)
        finally:
            os.unlink(path)
            cls.stderr = stderr.getvalue()

    def operation(self, path: str, method: str) -> dict:
        self.assertIsNone(self.generation_error)
        self.assertIn(path, self.schema["paths"])
        return self.schema["paths"][path][method]

    def test_generation_emits_no_warnings_or_errors_and_the_schema_is_valid(self):
        self.assertIsNone(self.generation_error, self.generation_error)
        self.assertEqual(self.stderr, "")
        self.assertTrue(self.schema["openapi"].startswith("3."))

    def test_the_problem_component_is_documented(self):
        self.assertIsNone(self.generation_error)
        problem = self.schema["components"]["schemas"]["Problem"]
        self.assertEqual(set(problem["required"]), {"type", "title", "status", "detail", "code"})
        self.assertIn("errors", problem["properties"])

    def test_an_operation_documents_401_403_404_and_429_as_problems(self):
        responses = self.operation("/api/v1/auth/login-logs/", "get")["responses"]
        for code in ("400", "401", "403", "404", "429"):
            with self.subTest(code=code):
                content = responses[code]["content"]
                self.assertEqual(
                    content["application/problem+json"]["schema"],
                    {"$ref": "#/components/schemas/Problem"},
                )

    def test_every_operation_documents_the_error_responses(self):
        self.assertIsNone(self.generation_error)
        for path, item in self.schema["paths"].items():
            for method, operation in item.items():
                with self.subTest(path=path, method=method):
                    self.assertLessEqual({"401", "403", "404", "429"}, set(operation["responses"]))

    def test_a_request_body_operation_also_documents_413_and_415(self):
        responses = self.operation("/api/v1/auth/tokens/", "post")["responses"]
        self.assertIn("413", responses)
        self.assertIn("415", responses)

    def test_success_responses_document_the_rate_limit_headers(self):
        headers = self.operation("/api/v1/auth/login-logs/", "get")["responses"]["200"]["headers"]
        self.assertLessEqual(
            {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}, set(headers)
        )

    def test_the_export_documents_its_format_and_the_lists_filters(self):
        parameters = self.operation("/api/v1/auth/login-logs/export/", "get")["parameters"]
        names = {parameter["name"] for parameter in parameters}
        self.assertLessEqual({"format", "start_date", "end_date", "successful"}, names)
        fmt = next(parameter for parameter in parameters if parameter["name"] == "format")
        self.assertEqual(fmt["schema"]["enum"], ["csv", "xlsx"])

    def test_every_path_id_is_a_uuid(self):
        """Ids a URL pattern matches (``chart_id``, ``organization_pk``) are UUIDs, as ``id``."""
        self.assertIsNone(self.generation_error)
        loose = {
            (path, parameter["name"])
            for path, item in self.schema["paths"].items()
            for method, operation in item.items()
            if method in {"get", "post", "put", "patch", "delete"}
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path"
            # an invitation's token, a runtime setting's key, a message's number in its
            # chat and an ETL script's name are not ids
            and parameter["name"] not in {"token", "key", "seq", "script"}
            and parameter["schema"]
            != {"type": "string", "format": "uuid", "pattern": FORMAT_PATTERNS["uuid"]}
        }
        self.assertEqual(loose, set())

    def test_a_message_number_in_a_path_is_a_bounded_integer(self):
        parameters = self.operation("/api/v1/support/chats/{id}/messages/{seq}/", "patch")[
            "parameters"
        ]
        seq = next(parameter for parameter in parameters if parameter["name"] == "seq")
        self.assertEqual(seq["schema"], {"type": "integer", "minimum": 1, "maximum": 999999999})

    def test_a_sub_resource_of_an_item_declares_no_filters_of_the_list(self):
        """``deals/{id}/history/``, ``teams/{id}/members/`` page, but take no list filters.

        A sub-resource's own parameters are named here (a chat's messages resume ``after`` a
        message number).
        """
        self.assertIsNone(self.generation_error)
        own = {
            "/api/v1/support/chats/{id}/messages/": {"after"},
            "/api/v1/screening/documents/{id}/dataframe/": {"rows", "script"},
        }
        stray = {
            path: sorted(names)
            for path, item in self.schema["paths"].items()
            if "{id}/" in path and not path.endswith("{id}/") and "get" in item
            for names in [
                {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
                - {"page", "page_size", "format"}
                - own.get(path, set())
            ]
            if names
        }
        self.assertEqual(stray, {})

    def test_integer_bounds_do_not_depend_on_the_database(self):
        """No integer takes its range from the backend (SQLite's is 64-bit, PostgreSQL's not).

        Django bounds an integer field by the database's range unless the model states one;
        on SQLite that is +-2**63, so ``make run`` would serve another document than a
        deployment on PostgreSQL, and accept values PostgreSQL refuses.
        """
        self.assertIsNone(self.generation_error)
        found = []

        def walk(node, where: str) -> None:
            if isinstance(node, dict):
                if node.get("maximum") == 2**63 - 1 or node.get("minimum") == -(2**63):
                    found.append(where)
                for key, value in node.items():
                    walk(value, f"{where}/{key}")
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}/{index}")

        walk(self.schema, "")
        self.assertEqual(found, [])


class SchemaEndpointTests(ApiTestCase):
    """The schema, Swagger UI and Redoc are served."""

    def test_the_schema_endpoint_answers_an_openapi_document(self):
        response = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        self.assertEqual(response.status_code, 200)
        self.assertIn("/api/v1/auth/login-logs/", json.loads(response.content)["paths"])

    def test_swagger_ui_answers_200(self):
        response = self.client.get("/api/docs/")
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"swagger-ui", response.content)

    def test_redoc_answers_200(self):
        response = self.client.get("/api/redoc/")
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"redoc", response.content.lower())
