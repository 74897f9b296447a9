"""The OpenAPI document as a contract: strict validators accept it, and it says what is true.

Checks the rendered document (what ``/api/schema/`` serves): ``openapi-spec-validator``
accepts it, every default satisfies its own schema, the tenant and CSRF headers are declared,
and exports are files of their real media types.
"""

from functools import cache

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from valar.core.exports import EXPORT_FORMATS
from valar.core.testing import ApiTestCase
from valar.core.testing.schema import METHODS, openapi_schema

#: Defaults known to break their own rule, left out of both checks with the reason (none now:
#: an entry here is a bug to fix, named where it lives).
KNOWN_BAD_DEFAULTS: dict[tuple[str, str], str] = {}
#: Operations that pick their organization from ``X-Organization`` though they are no tenant
#: resource.
HEADER_OPERATIONS = {("/api/v1/auth/me/permissions/", "get")}


@cache
def document() -> dict:
    """The OpenAPI document as ``/api/schema/`` renders it, less the known bad defaults."""
    parsed = openapi_schema()
    components = parsed["components"]["schemas"]
    for component, field in KNOWN_BAD_DEFAULTS:
        components.get(component, {}).get("properties", {}).get(field, {}).pop("default", None)
    return parsed


def defaults(node, where: str = ""):
    """Yield ``(pointer, schema, default)`` for every schema in ``node`` that has a default."""
    if isinstance(node, dict):
        if "default" in node and ("type" in node or "$ref" in node or "enum" in node):
            yield where, node, node["default"]
        for key, value in node.items():
            yield from defaults(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from defaults(value, f"{where}/{index}")


def operations():
    """Yield ``(path, method, operation)`` for every operation of the document."""
    for path, item in document()["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


class OpenApiContractTests(ApiTestCase):
    """What strict validators and generated clients rely on."""

    def test_the_document_validates_with_openapi_spec_validator(self):
        validate(document())

    def test_every_default_satisfies_its_own_schema(self):
        components = document()["components"]
        bad = {}
        for pointer, schema, default in defaults(document()):
            rules = {key: value for key, value in schema.items() if key != "default"}
            errors = list(
                Draft202012Validator({**rules, "components": components}).iter_errors(default)
            )
            if errors:
                bad[pointer] = f"{default!r}: {errors[0].message}"
        self.assertEqual(bad, {})

    def test_every_tenant_operation_declares_the_optional_organization_header(self):
        declared = set()
        for path, method, operation in operations():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "X-Organization":
                    self.assertEqual(parameter["in"], "header")
                    self.assertFalse(parameter.get("required", False))
                    self.assertRegex("", parameter["schema"]["pattern"])  # empty: the default
                    declared.add((path, method))
        tenant_paths = ("/api/v1/tasks/", "/api/v1/crm/", "/api/v1/finance/", "/api/v1/insights/")
        for path, method, _ in operations():
            with self.subTest(path=path, method=method):
                if path.startswith((*tenant_paths, "/api/v1/dashboards/", "/api/v1/teams/")):
                    self.assertIn((path, method), declared)
                elif path.startswith(("/api/v1/organizations/", "/api/v1/auth/")):
                    # The organization is in the URL, or the operation is the caller's own.
                    self.assertEqual(
                        (path, method) in declared, (path, method) in HEADER_OPERATIONS
                    )

    def test_the_session_scheme_describes_the_csrf_header(self):
        scheme = document()["components"]["securitySchemes"]["cookieAuth"]
        self.assertIn("X-CSRFToken", scheme["description"])
        self.assertIn("csrftoken", scheme["description"])

    def test_exports_are_binary_files_of_their_real_media_types(self):
        exports = [
            (path, operation)
            for path, method, operation in operations()
            if path.endswith("/export/") and method == "get"
        ]
        self.assertGreater(len(exports), 10)
        for path, operation in exports:
            with self.subTest(path=path):
                content = operation["responses"]["200"]["content"]
                self.assertEqual(list(content), list(EXPORT_FORMATS.values()))
                for media in content.values():
                    self.assertEqual(media["schema"], {"type": "string", "format": "binary"})
