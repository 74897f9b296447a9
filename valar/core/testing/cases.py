"""The base API test case: users, sign-in by session (with CSRF) or token, problem checks."""

import shutil
import tempfile
from typing import Any

from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient, APITestCase

from valar.accounts.models import User
from valar.accounts.services import token_create
from valar.core import entries, statements, sysconfig

DEFAULT_PASSWORD = "a-Long-and-unusual-passphrase-42"


class ApiTestCase(APITestCase):
    """An ``APITestCase`` whose client enforces CSRF like a browser, with helpers.

    The cache (throttles, sessions) and this process's copies of cache entries and of the
    runtime configuration are cleared before every test so tests never share them.
    """

    client_class = APIClient

    def setUp(self) -> None:
        """Start each test with empty caches (and kept statements) and a CSRF-enforcing client."""
        super().setUp()
        cache.clear()
        entries.clear_local()
        statements.kept.clear()
        sysconfig.clear_local()
        self.client = APIClient(enforce_csrf_checks=True)

    @staticmethod
    def make_user(email: str = "user@example.com", **extra: Any) -> User:
        """Create a user with the default test password."""
        password = extra.pop("password", DEFAULT_PASSWORD)
        return User.objects.create_user(email=email, password=password, **extra)

    def csrf_token(self, client: APIClient | None = None) -> str:
        """Fetch a CSRF token the way a browser does (``GET auth/csrf/``)."""
        client = client or self.client
        return client.get("/api/v1/auth/csrf/").json()["csrf_token"]

    def session_login(
        self, user: User, password: str = DEFAULT_PASSWORD, client: APIClient | None = None
    ) -> str:
        """Sign ``user`` in through the API; return the CSRF token to send on writes."""
        client = client or self.client
        token = self.csrf_token(client)
        response = client.post(
            "/api/v1/auth/login/",
            {"email": user.email, "password": password},
            HTTP_X_CSRFTOKEN=token,
        )
        self.assertEqual(response.status_code, 200, response.content)
        return client.cookies["csrftoken"].value

    def token_client(self, user: User) -> APIClient:
        """A client that authenticates as ``user`` with a fresh API token."""
        _, key = token_create(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    def assert_problem(
        self, response, status: int, *, field: str | None = None, code: str | None = None
    ) -> dict:
        """Check ``response`` is RFC 9457 problem details with ``status`` (and ``field``)."""
        self.assertEqual(response.status_code, status, getattr(response, "content", b""))
        self.assertEqual(response["Content-Type"], "application/problem+json")
        body = response.json()
        for key in ("type", "title", "status", "detail", "code"):
            self.assertIn(key, body)
        self.assertEqual(body["status"], status)
        if field is not None:
            self.assertIn(field, body.get("errors", {}), body)
        if code is not None:
            self.assertEqual(body["code"], code, body)
        return body


class MediaRootMixin:
    """Every test of the class stores its files in a fresh temporary ``MEDIA_ROOT``."""

    def setUp(self) -> None:
        """Point the storage at a temporary directory removed after the test."""
        self.media_root = tempfile.mkdtemp(prefix="valar-media-")
        self.addCleanup(shutil.rmtree, self.media_root, ignore_errors=True)
        media = override_settings(MEDIA_ROOT=self.media_root)
        media.enable()
        self.addCleanup(media.disable)
        super().setUp()
