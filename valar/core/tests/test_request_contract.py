"""What every route accepts: JSON bodies only, 405 before permissions, 404 for malformed ids.

The route walks read the generated OpenAPI document, so a route added later is covered too.
"""

import re
import uuid

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.core.testing.schema import METHODS, openapi_schema
from valar.crm.models import Pipeline

PARAMETER = re.compile(r"\{([^}]+)\}")
#: Path ids that are not UUIDs, including two that the nested routes' patterns admit.
MALFORMED_IDS = ("not-a-uuid", "0.5", "-" * 36, "0" * 36, "0" * 31 + "g")


def paths() -> dict:
    """The ``paths`` of the OpenAPI document."""
    return openapi_schema()["paths"]


def fill(path: str, value: str | None = None) -> str:
    """``path`` with every parameter replaced by ``value`` (a fresh UUID by default; a
    message's number, ``seq``, is a number)."""
    return PARAMETER.sub(
        lambda match: "1" if match.group(0) == "{seq}" else value or str(uuid.uuid4()), path
    )


#: The upload endpoints that are not an ``import/`` or ``attachments/``.
UPLOADS = (
    "/api/v1/finance/attachments/",
    "/api/v1/screening/documents/",
    "/api/v1/screening/documents/batch/",
    "/api/v1/screening/runs/file/",
)


class JsonBodiesOnlyTests(TenantFixtureMixin, ApiTestCase):
    """Bodies are JSON; multipart only where a file is uploaded; anything else is a 415."""

    module = "crm"

    def test_the_schema_offers_json_bodies_only_and_multipart_only_for_uploads(self):
        for path, item in paths().items():
            for method in METHODS:
                body = item.get(method, {}).get("requestBody")
                if body is None:
                    continue
                with self.subTest(method=method, path=path):
                    expected = (
                        ["multipart/form-data"]
                        if path in UPLOADS or path.endswith(("/import/", "/attachments/"))
                        else ["application/json"]
                    )
                    self.assertEqual(list(body["content"]), expected)

    def test_a_multipart_patch_of_a_pipeline_is_a_415_and_changes_nothing(self):
        pipeline = Pipeline.objects.get(organization=self.org, is_default=True)
        stages = list(pipeline.stages.values_list("name", flat=True))
        response = self.clients[Role.ADMIN].patch(
            f"/api/v1/crm/pipelines/{pipeline.pk}/",
            {"name": "Renamed", "stages": ""},
            format="multipart",
        )
        self.assert_problem(response, 415, code="unsupported_media_type")
        pipeline.refresh_from_db()
        self.assertNotEqual(pipeline.name, "Renamed")
        self.assertEqual(list(pipeline.stages.values_list("name", flat=True)), stages)

    def test_a_form_body_is_a_415_on_a_json_route(self):
        response = self.clients[Role.ADMIN].generic(
            "POST",
            "/api/v1/tasks/",
            "title=Call",
            content_type="application/x-www-form-urlencoded",
        )
        self.assert_problem(response, 415, code="unsupported_media_type")

    def test_a_form_sign_in_is_a_415(self):
        response = self.client.generic(
            "POST",
            "/api/v1/auth/login/",
            "email=a%40b.test&password=x",
            content_type="application/x-www-form-urlencoded",
            HTTP_X_CSRFTOKEN=self.csrf_token(),
        )
        self.assert_problem(response, 415, code="unsupported_media_type")

    def test_an_upload_still_takes_multipart_and_refuses_json(self):
        client = self.clients[Role.ADMIN]
        upload = SimpleUploadedFile("r.pdf", b"%PDF-1.4\n", content_type="application/pdf")
        response = client.post(
            "/api/v1/finance/attachments/", {"file": upload, "entry": ""}, format="multipart"
        )
        self.assert_problem(response, 400, field="entry")
        response = client.post("/api/v1/finance/attachments/", {"entry": ""}, format="json")
        self.assert_problem(response, 415, code="unsupported_media_type")


class MethodNotAllowedTests(TenantFixtureMixin, ApiTestCase):
    """A method a route does not serve is a 405 with ``Allow``, whoever asks."""

    def test_every_undeclared_method_of_every_route_is_a_405_before_permissions(self):
        # The client role may do least; a permission check first would answer 403 for it.
        for role in (Role.CLIENT, Role.ADMIN):
            for path, item in paths().items():
                url = fill(path)
                for method in METHODS:
                    if method in item:
                        continue
                    with self.subTest(role=role, method=method, path=path):
                        cache.clear()  # some routes allow a few calls an hour
                        response = getattr(self.clients[role], method)(url)
                        self.assert_problem(response, 405, code="method_not_allowed")
                        declared = {m.upper() for m in item if m in METHODS}
                        allowed = {m.strip() for m in response["Allow"].split(",")}
                        self.assertLessEqual(declared, allowed)

    def test_a_post_to_a_get_and_put_route_is_a_405(self):
        url = f"/api/v1/organizations/{self.org.pk}/settings/"
        response = self.clients[Role.BASIC].post(url, {}, format="json")
        body = self.assert_problem(response, 405)
        self.assertIn("POST", body["detail"])
        self.assertIn("GET", response["Allow"])


class MalformedIdTests(TenantFixtureMixin, ApiTestCase):
    """A path id that is not a UUID names nothing: a 404 problem on every route and method."""

    def test_every_route_with_an_id_answers_404_to_a_malformed_one(self):
        admin = self.clients[Role.ADMIN]
        for path, item in paths().items():
            names = PARAMETER.findall(path)
            if not any(name in ("id", "pk") or name.endswith(("_id", "_pk")) for name in names):
                continue
            cache.clear()
            for bad in MALFORMED_IDS:
                url = fill(path, bad)
                for method in METHODS:
                    if method not in item:
                        continue
                    with self.subTest(method=method, url=url):
                        response = getattr(admin, method)(url, {}, format="json")
                        self.assert_problem(response, 404)

    def test_a_nested_malformed_id_that_fits_the_route_pattern_is_a_404(self):
        response = self.clients[Role.ADMIN].get(f"/api/v1/insights/teams/{'0' * 36}/")
        self.assert_problem(response, 404)


class OrganizationHeaderTests(TenantFixtureMixin, ApiTestCase):
    """``X-Organization`` as the schema declares it: optional, and empty means the default."""

    module = "tasks"

    def test_an_empty_header_is_the_default_organization_and_a_foreign_one_a_403(self):
        client = self.clients[Role.ADMIN]
        self.assertEqual(client.get("/api/v1/tasks/", HTTP_X_ORGANIZATION="").status_code, 200)
        response = client.get("/api/v1/tasks/", HTTP_X_ORGANIZATION=str(self.other.pk))
        self.assert_problem(response, 403)
