"""Test helpers for sockets: a transactional API test case with WebSocket communicators.

Consumers reach the database from other threads (``database_sync_to_async`` closes stale
connections around each call), so socket tests run in :class:`SocketTestCase`, a
``TransactionTestCase`` with the helpers of :class:`ApiTestCase`. :meth:`socket` opens a
``channels.testing.WebsocketCommunicator`` on the real ASGI application (``valar.asgi``), the
same middleware and routes ``make run`` serves.
"""

from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from rest_framework.test import APIClient, APITransactionTestCase

from valar.core import entries
from valar.core.testing.cases import ApiTestCase

#: An ``Origin`` the default ``ALLOWED_HOSTS`` allow.
ALLOWED_ORIGIN = "http://testserver"


class SocketTestCase(APITransactionTestCase):
    """Sign-in helpers of :class:`ApiTestCase` plus socket communicators."""

    make_user = staticmethod(ApiTestCase.make_user)
    csrf_token = ApiTestCase.csrf_token
    session_login = ApiTestCase.session_login
    token_client = ApiTestCase.token_client

    def setUp(self) -> None:
        """Start with an empty cache and a CSRF-enforcing client, as :class:`ApiTestCase`."""
        super().setUp()
        cache.clear()
        entries.clear_local()
        self.client = APIClient(enforce_csrf_checks=True)

    @staticmethod
    def socket(
        path: str = "/ws/notifications/",
        *,
        cookie: str | None = None,
        origin: str | None = None,
        subprotocols: list[str] | None = None,
    ) -> WebsocketCommunicator:
        """A communicator on ``path`` with a ``Cookie`` and an ``Origin`` when given, and the
        ``Host`` a browser always sends (the test server's)."""
        from valar.asgi import application

        headers = [(b"host", b"testserver")]
        if cookie is not None:
            headers.append((b"cookie", cookie.encode()))
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)

    @staticmethod
    def session_cookie(client: APIClient) -> str:
        """The ``Cookie`` header value carrying ``client``'s session."""
        return f"sessionid={client.cookies['sessionid'].value}"
