"""Tests of request ids: a well-formed ``X-Request-ID`` is echoed, anything else replaced."""

import re

from valar.core.testing import ApiTestCase

GENERATED = re.compile(r"^[0-9a-f]{32}$")


class RequestIdTests(ApiTestCase):
    """Every response carries ``X-Request-ID``."""

    def test_a_well_formed_request_id_is_echoed(self):
        for given in ("abcd1234", "req-2025.03.10_Z", "A" * 64):
            with self.subTest(given=given):
                response = self.client.get("/api/v1/health/", HTTP_X_REQUEST_ID=given)
                self.assertEqual(response["X-Request-ID"], given)

    def test_a_missing_request_id_is_generated(self):
        response = self.client.get("/api/v1/health/")
        self.assertRegex(response["X-Request-ID"], GENERATED)

    def test_each_request_gets_its_own_generated_id(self):
        first = self.client.get("/api/v1/health/")["X-Request-ID"]
        second = self.client.get("/api/v1/health/")["X-Request-ID"]
        self.assertNotEqual(first, second)

    def test_a_malformed_request_id_is_replaced_by_a_generated_one(self):
        for given in (
            "short",
            "A" * 65,
            "has space in it",
            "semi;colon-id",
            "quote'id-123",
            "é" * 10,
        ):
            with self.subTest(given=given):
                response = self.client.get("/api/v1/health/", HTTP_X_REQUEST_ID=given)
                self.assertNotEqual(response["X-Request-ID"], given)
                self.assertRegex(response["X-Request-ID"], GENERATED)

    def test_error_responses_carry_the_request_id_too(self):
        for url in ("/api/v1/no-such-thing/", "/api/v1/auth/me/"):
            with self.subTest(url=url):
                response = self.client.get(url, HTTP_X_REQUEST_ID="trace-0001")
                self.assertGreaterEqual(response.status_code, 400)
                self.assertEqual(response["X-Request-ID"], "trace-0001")
