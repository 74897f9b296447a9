"""Tests of RFC 9457 problem details: every error the API answers has the same shape.

The module doubles as a URLconf (``ROOT_URLCONF`` is pointed at it where needed) so that
views which fail on purpose can be reached through the whole middleware stack.
"""

import uuid
from unittest import mock

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.test import SimpleTestCase, override_settings
from django.urls import include, path
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from valar.core.errors import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    Conflict,
    DomainError,
    exception_handler,
)
from valar.core.testing import ApiTestCase

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
SECRET_TEXT = "SELECT password FROM accounts_user WHERE secret = 'hunter2'"


class _ExplodingApiView(APIView):
    """A DRF view that fails with an exception no handler knows."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        """Fail with a message that must never reach the client."""
        raise RuntimeError(SECRET_TEXT)


class _DatabaseFailureApiView(_ExplodingApiView):
    """A DRF view whose database query fails, with SQL in the error message."""

    def get(self, request):
        """Fail like a broken query does."""
        raise OperationalError(SECRET_TEXT)


def _exploding_django_view(request):
    """A plain Django view (outside DRF) that fails unexpectedly."""
    raise RuntimeError(SECRET_TEXT)


urlpatterns = [
    path("boom/api/", _ExplodingApiView.as_view()),
    path("boom/db/", _DatabaseFailureApiView.as_view()),
    path("boom/django/", _exploding_django_view),
    path("api/boom/", _exploding_django_view),
    path("", include("valar.urls")),
]
handler404 = "valar.core.errors.handler404"
handler500 = "valar.core.errors.handler500"


class ExceptionHandlerTests(SimpleTestCase):
    """``valar.core.errors.exception_handler`` maps each kind of exception to a problem."""

    def handle(self, exc):
        response = exception_handler(exc, {})
        self.assertEqual(response.content_type, PROBLEM_CONTENT_TYPE)
        self.assertLessEqual(PROBLEM_KEYS, set(response.data))
        self.assertEqual(response.data["status"], response.status_code)
        self.assertEqual(response.data["type"], PROBLEM_TYPE_BASE + response.data["code"])
        return response

    def test_a_domain_error_is_a_400_with_its_message_and_code(self):
        response = self.handle(DomainError("The invoice is already paid.", code="paid"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.data["title"], "Bad Request")
        self.assertEqual(response.data["detail"], "The invoice is already paid.")
        self.assertEqual(response.data["code"], "paid")
        self.assertNotIn("errors", response.data)

    def test_a_domain_error_keeps_its_field_errors_and_status_override(self):
        response = self.handle(
            DomainError(
                "Too late.", errors={"due_date": ["Must be in the future."]}, status_code=422
            )
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.data["code"], "invalid")
        self.assertEqual(response.data["errors"], {"due_date": ["Must be in the future."]})

    def test_a_conflict_is_a_409_with_the_conflict_code(self):
        response = self.handle(Conflict("Someone changed it first."))
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.data["title"], "Conflict")
        self.assertEqual(response.data["code"], "conflict")
        self.assertEqual(response.data["detail"], "Someone changed it first.")

    def test_a_django_validation_error_with_fields_is_a_400_with_errors_per_field(self):
        response = self.handle(
            DjangoValidationError({"email": ["Enter a valid email address."], "name": ["Bad."]})
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.data["code"], "invalid")
        self.assertEqual(
            response.data["errors"],
            {"email": ["Enter a valid email address."], "name": ["Bad."]},
        )

    def test_a_django_validation_error_without_fields_goes_under_non_field_errors(self):
        response = self.handle(DjangoValidationError("The dates overlap."))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.data["errors"], {"non_field_errors": ["The dates overlap."]})

    def test_nested_drf_validation_errors_are_flattened_to_dotted_field_names(self):
        response = self.handle(
            exceptions.ValidationError(
                {"address": {"city": ["Required."]}, "lines": [{}, {"amount": ["Too big."]}]}
            )
        )
        self.assertEqual(
            response.data["errors"],
            {"address.city": ["Required."], "lines.1.amount": ["Too big."]},
        )

    def test_a_drf_validation_error_given_as_a_list_goes_under_non_field_errors(self):
        response = self.handle(exceptions.ValidationError(["Nothing to do."]))
        self.assertEqual(response.data["errors"], {"non_field_errors": ["Nothing to do."]})

    def test_django_http404_and_permission_denied_become_404_and_403(self):
        self.assertEqual(self.handle(Http404("secret path")).status_code, 404)
        forbidden = self.handle(DjangoPermissionDenied())
        self.assertEqual(forbidden.status_code, 403)
        self.assertEqual(forbidden.data["code"], "permission_denied")

    def test_an_unhandled_exception_is_a_500_without_its_message_or_type(self):
        with self.assertLogs("valar.errors", level="ERROR"):
            response = self.handle(RuntimeError(SECRET_TEXT))
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.data["code"], "server_error")
        self.assertEqual(response.data["title"], "Internal Server Error")
        text = repr(response.data)
        for leak in ("hunter2", "SELECT", "RuntimeError", "Traceback"):
            self.assertNotIn(leak, text)


class ProblemResponseTests(ApiTestCase):
    """Errors answered over HTTP are ``application/problem+json`` with the RFC 9457 keys."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)

    def test_tests_run_with_debug_off_so_production_error_handlers_apply(self):
        self.assertFalse(settings.DEBUG)

    def test_a_drf_validation_error_maps_each_field_to_its_messages(self):
        response = self.api.post("/api/v1/auth/tokens/", {"name": ""})
        body = self.assert_problem(response, 400, field="name", code="invalid")
        self.assertEqual(body["title"], "Bad Request")
        self.assertIsInstance(body["errors"]["name"], list)
        self.assertTrue(all(isinstance(message, str) for message in body["errors"]["name"]))

    def test_a_domain_error_raised_by_a_service_is_a_400_problem(self):
        response = self.api.post(
            "/api/v1/auth/tokens/", {"name": "ci", "expires_at": "2001-01-01T00:00:00Z"}
        )
        self.assert_problem(response, 400, field="expires_at")

    def test_an_unknown_api_url_is_a_404_problem(self):
        response = self.api.get("/api/v1/no-such-resource/")
        body = self.assert_problem(response, 404, code="not_found")
        self.assertEqual(body["title"], "Not Found")
        self.assertEqual(body["type"], PROBLEM_TYPE_BASE + "not_found")

    def test_an_unknown_object_of_a_resource_is_a_404_problem(self):
        response = self.api.delete(f"/api/v1/auth/tokens/{uuid.uuid4()}/")
        self.assert_problem(response, 404, code="not_found")

    def test_a_wrong_method_is_a_405_problem(self):
        response = self.api.delete("/api/v1/auth/login-logs/")
        body = self.assert_problem(response, 405, code="method_not_allowed")
        self.assertIn("DELETE", body["detail"])

    def test_a_wrong_method_on_an_open_endpoint_is_a_405_problem(self):
        response = self.client.post("/api/v1/health/")
        self.assert_problem(response, 405, code="method_not_allowed")

    def test_an_anonymous_caller_gets_401_with_www_authenticate_not_403(self):
        response = self.client.get("/api/v1/auth/login-logs/")
        self.assert_problem(response, 401, code="not_authenticated")
        self.assertEqual(response["WWW-Authenticate"], "Token")

    def test_a_bad_token_is_a_401_problem(self):
        self.client.credentials(HTTP_AUTHORIZATION="Token vlr_not-a-real-key")
        response = self.client.get("/api/v1/auth/me/")
        self.assert_problem(response, 401, code="authentication_failed")


@override_settings(ROOT_URLCONF=__name__)
class ServerErrorTests(ApiTestCase):
    """An unexpected failure is a 500 problem that leaks no exception text, SQL or trace."""

    def assert_no_leak(self, response):
        text = response.content.decode()
        leaks = (
            "hunter2",
            "SELECT",
            "accounts_user",
            "Traceback",
            "RuntimeError",
            "OperationalError",
        )
        for leak in leaks:
            self.assertNotIn(leak, text)

    def test_an_unhandled_error_in_an_api_view_is_a_500_problem_without_internals(self):
        with self.assertLogs("valar.errors", level="ERROR"):
            response = self.client.get("/boom/api/")
        self.assert_problem(response, 500, code="server_error")
        self.assertEqual(response.json()["detail"], "An unexpected error occurred.")
        self.assert_no_leak(response)

    def test_a_database_error_in_an_api_view_is_a_500_problem_without_the_sql(self):
        with self.assertLogs("valar.errors", level="ERROR"):
            response = self.client.get("/boom/db/")
        self.assert_problem(response, 500, code="server_error")
        self.assert_no_leak(response)

    def test_an_unhandled_error_outside_drf_is_a_500_problem_without_internals(self):
        self.client.raise_request_exception = False
        with self.assertLogs("django.request", level="ERROR"):
            response = self.client.get("/boom/django/")
        self.assert_problem(response, 500, code="server_error")
        self.assert_no_leak(response)

    def test_the_handler_does_not_swallow_errors_it_knows(self):
        with mock.patch.object(_ExplodingApiView, "get", side_effect=exceptions.NotFound()):
            response = self.client.get("/boom/api/")
        self.assert_problem(response, 404, code="not_found")
