"""WebSocket plumbing of the kernel: one authentication middleware and one consumer base.

Sockets follow the rules of HTTP, with the same code:

- :class:`SocketAuthMiddleware` wraps every WebSocket route once (``valar.asgi``). A socket
  signs in with an API token (``?token=<key>``, or the ``Sec-WebSocket-Protocol`` header
  offering ``valar`` and ``token.<key>``), checked by
  ``ApiTokenAuthentication.authenticate_key`` as on HTTP, or with the session cookie, read by
  the session engine, the session lifetime rules (``core.middleware``) and the cached session
  user of ``accounts.middleware``. A cookie is accepted only from an allowed ``Origin`` (the
  socket's own: its scheme and exactly its ``Host``, a host of ``ALLOWED_HOSTS``; or one in
  ``CSRF_TRUSTED_ORIGINS``): a page of another site, or of another port or scheme of the same
  host, cannot open a socket with the visitor's cookie. No credential, an unusable one, or an
  inactive (locked) user is refused before ``accept``.
- :class:`TenantConsumer` is the base of every consumer: it resolves the organization with
  ``core.tenancy.resolve`` exactly as a request does (``?organization=<id or slug>`` or the
  ``X-Organization`` header, else the default membership), refuses a non-member, checks the
  consumer's policy module, joins the consumer's groups and only then accepts.
- Open sockets follow what HTTP would decide now: :func:`close_sockets` closes every open
  socket of a user (4401: their sessions ended: sign-out, a password changed or reset, a lock,
  a token revoked) or of a member in one organization (4403: the membership was removed or its
  role or modules changed), after the commit. A client reconnects; its socket is then
  authenticated and authorised again, or refused.

A refusal before ``accept`` is a WebSocket close code for ASGI (what
``channels.testing.WebsocketCommunicator`` reports) and, when the server offers the
``websocket.http.response`` extension (uvicorn does), the handshake's HTTP answer: a problem
details body with the HTTP status and the same ``code``. The codes are in :data:`REFUSALS`.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.http import HttpHeaders
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
from rest_framework import exceptions

from valar.core import telemetry, tenancy
from valar.core.errors import PROBLEM_CONTENT_TYPE, problem
from valar.core.middleware import apply_session_lifetime, current_request
from valar.core.policy import has_module

logger = logging.getLogger("valar.sockets")

#: The subprotocol a browser offers (with ``token.<key>``) and the server selects.
PROTOCOL = "valar"
#: The prefix of the subprotocol that carries an API token key.
TOKEN_PROTOCOL_PREFIX = "token."


@dataclass(frozen=True)
class Refusal:
    """Why a socket was refused: its close code, the handshake's HTTP status and a code."""

    close_code: int
    status: int
    code: str
    detail: str


NOT_AUTHENTICATED = Refusal(
    4401,
    401,
    "not_authenticated",
    "Sign in: a session cookie, or an API token as ?token= or the token.<key> subprotocol.",
)
FORBIDDEN_ORIGIN = Refusal(
    4403,
    403,
    "forbidden_origin",
    "A session socket must come from an allowed Origin (ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS).",
)
NOT_A_MEMBER = Refusal(4403, 403, "permission_denied", "You are not a member of this organization.")
NO_MODULE = Refusal(4403, 403, "permission_denied", "Your membership lacks this module.")
NOT_FOUND = Refusal(4404, 404, "not_found", "No socket route here.")
TOO_MANY_SOCKETS = Refusal(
    4429, 429, "too_many_sockets", "Too many open sockets of yours here: close one first."
)
#: Every refusal, for the documentation and the tests.
REFUSALS = (
    NOT_AUTHENTICATED,
    FORBIDDEN_ORIGIN,
    NOT_A_MEMBER,
    NO_MODULE,
    NOT_FOUND,
    TOO_MANY_SOCKETS,
)


#: The largest client frame a socket reads (16 KB); a larger one closes it with 1009.
MAX_FRAME_BYTES = 16 * 1024
#: The close code of a frame too large (RFC 6455 "message too big").
CLOSE_TOO_BIG = 1009
#: The close code of a socket whose user's sessions ended (sign in again, then reconnect).
CLOSE_SIGNED_OUT = 4401
#: The close code of a socket whose membership was removed or changed (reconnect to recheck).
CLOSE_MEMBERSHIP_CHANGED = 4403
#: The channel-layer event that closes the sockets of a group.
CLOSE_EVENT = "sockets.close"
#: The close code of a socket that kept sending over a rate limit.
CLOSE_THROTTLED = 4429
#: Seconds a count of open sockets lives after its last connect (a process that died with
#: sockets open leaves a count that frees itself by then).
SOCKET_COUNT_TTL = 3600


def _hex(value) -> str:
    """A UUID (or its text) as 32 hex digits (group names allow letters, digits, ``.``)."""
    return str(value).replace("-", "")


def user_sockets_group(user_id) -> str:
    """The group every open socket of one user joins, whatever its organization."""
    return f"sockets.user.{_hex(user_id)}"


def member_sockets_group(organization_id, user_id) -> str:
    """The group every open socket of one user in one organization joins."""
    return f"sockets.member.{_hex(organization_id)}.{_hex(user_id)}"


def close_sockets(*, user_id, organization_id=None) -> None:
    """Close the open sockets of a user (of a member, with ``organization_id``) on commit.

    Nothing is sent for a transaction that rolls back; a channel layer that cannot be reached
    is logged, never raised (the sockets' next reconnect is checked anyway).
    """
    if organization_id is None:
        group, code = user_sockets_group(user_id), CLOSE_SIGNED_OUT
    else:
        group, code = member_sockets_group(organization_id, user_id), CLOSE_MEMBERSHIP_CHANGED
    transaction.on_commit(partial(_send_close, group, code), robust=True)


def _send_close(group: str, code: int) -> None:
    """Tell the sockets of ``group`` to close with ``code``."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": CLOSE_EVENT, "code": code})
    except Exception:  # noqa: BLE001  the layer (Redis) is down: the sockets stay until reconnect
        logger.exception("Could not close the sockets of %s", group)


class SocketRefused(Exception):
    """Raised while authenticating or resolving a socket: it is refused with ``refusal``."""

    def __init__(self, refusal: Refusal):
        """Keep the refusal."""
        super().__init__(refusal.detail)
        self.refusal = refusal


class SocketRequest:
    """The handshake of a socket as the kernel's HTTP code reads a request.

    ``headers``, ``META``, ``COOKIES``, ``session``, ``user`` and ``auth`` are what
    ``tenancy.resolve``, ``accounts.middleware.get_user`` and the audit trail read; tenancy
    caches its answers on it as on a request. ``?organization=`` stands for the
    ``X-Organization`` header (a browser cannot set headers on a socket).
    """

    def __init__(self, scope: dict):
        """Build the request view of ``scope``."""
        self.scope = scope
        self.query = {
            name: values[-1]
            for name, values in parse_qs(scope.get("query_string", b"").decode("latin1")).items()
        }
        meta: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = name.decode("latin1").upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
            text = value.decode("latin1")
            meta[key] = f"{meta[key]},{text}" if key in meta else text
        if self.query.get("organization"):
            meta["HTTP_X_ORGANIZATION"] = self.query["organization"]
        client = scope.get("client") or ("", 0)
        meta["REMOTE_ADDR"] = client[0] or ""
        meta["QUERY_STRING"] = scope.get("query_string", b"").decode("latin1")
        self.META = meta
        self.headers = HttpHeaders(meta)
        self.COOKIES = parse_cookie(meta.get("HTTP_COOKIE", ""))
        self.path = scope.get("path", "")
        self.method = "GET"
        self.id = uuid.uuid4().hex
        self.session = None
        self.user = AnonymousUser()
        self.auth = None

    def token_key(self) -> str | None:
        """The API token key the socket presents, or ``None`` when it presents none."""
        if self.query.get("token"):
            return self.query["token"]
        for protocol in self.scope.get("subprotocols") or []:
            if protocol.startswith(TOKEN_PROTOCOL_PREFIX):
                return protocol[len(TOKEN_PROTOCOL_PREFIX) :]
        return None


def socket_is_secure(request: "SocketRequest") -> bool:
    """Whether the socket came over TLS: ``wss``, or ``https`` in the proxy's header that
    ``SECURE_PROXY_SSL_HEADER`` names (as ``request.is_secure()`` reads it on HTTP)."""
    if request.scope.get("scheme") == "wss":
        return True
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header:
        name, value = header
        forwarded = request.META.get(name, "").split(",")[0].strip()
        return forwarded == value
    return False


def origin_allowed(origin: str | None, request: "SocketRequest") -> bool:
    """Whether a browser ``Origin`` may use the session cookie on ``request``'s socket.

    Allowed: the socket's own origin (the scheme the socket came over, ``https`` for TLS,
    and exactly its ``Host``, port included, that host being one of ``ALLOWED_HOSTS``), or
    an origin named by ``CSRF_TRUSTED_ORIGINS`` (exactly, or by a ``https://*.example.com``
    pattern, as Django's CSRF check reads it). A page on another port, scheme or host (a
    sibling service on the same machine included) is refused, as is a missing or opaque
    (``null``) origin.
    """
    if not origin:
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return False
    own_host = request.headers.get("Host", "")
    own_scheme = "https" if socket_is_secure(request) else "http"
    host, _port = split_domain_port(own_host)
    if (
        own_host
        and parsed.scheme == own_scheme
        and parsed.netloc.lower() == own_host.lower()
        and host
        and validate_host(host, settings.ALLOWED_HOSTS)
    ):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if origin == trusted:
            return True
        pattern = urlsplit(trusted)
        if (
            "*" in pattern.netloc
            and pattern.scheme == parsed.scheme
            and is_same_domain(parsed.netloc, pattern.netloc.replace("*", "", 1))
        ):
            return True
    return False


def authenticate(request: SocketRequest) -> None:
    """Set ``request.user`` (and ``auth``, ``session``) from the socket's credential.

    A token, when presented, decides alone (a bad one is refused, never replaced by the
    cookie). Otherwise the session cookie, from an allowed origin only. Raises
    :class:`SocketRefused`.
    """
    from valar.accounts.authentication import ApiTokenAuthentication
    from valar.accounts.middleware import get_user

    key = request.token_key()
    if key is not None:
        try:
            request.user, request.auth = ApiTokenAuthentication().authenticate_key(key)
        except exceptions.AuthenticationFailed as exc:
            raise SocketRefused(NOT_AUTHENTICATED) from exc
        return
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        raise SocketRefused(NOT_AUTHENTICATED)
    if not origin_allowed(request.headers.get("Origin"), request):
        raise SocketRefused(FORBIDDEN_ORIGIN)
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(session_key)
    apply_session_lifetime(request.session)
    user = get_user(request)
    if request.session.modified and not request.session.is_empty():
        request.session.save()
    if not user.is_authenticated:
        raise SocketRefused(NOT_AUTHENTICATED)
    request.user = user


async def refuse(scope: dict, send, refusal: Refusal) -> None:
    """Refuse a socket that has not been accepted: an HTTP problem answer, else a close code."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = problem(refusal.status, detail=refusal.detail, code=refusal.code)
        body["close_code"] = refusal.close_code
        await send(
            {
                "type": "websocket.http.response.start",
                "status": refusal.status,
                "headers": [(b"content-type", PROBLEM_CONTENT_TYPE.encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": json.dumps(body).encode()})
    else:
        await send({"type": "websocket.close", "code": refusal.close_code})


class SocketAuthMiddleware:
    """Authenticate every WebSocket before its route runs; refuse it when that fails.

    The scope gains ``user``, ``auth`` (the API token, or ``None`` for a session) and
    ``valar_request`` (the :class:`SocketRequest`, which consumers resolve the tenant on).
    """

    def __init__(self, inner):
        """Keep the application it guards."""
        self.inner = inner

    async def __call__(self, scope, receive, send):
        """Authenticate, then run the route; refused sockets never reach it."""
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        request = SocketRequest(scope)
        try:
            await database_sync_to_async(authenticate)(request)
        except SocketRefused as refused:
            message = await receive()
            if message["type"] == "websocket.connect":
                await refuse(scope, send, refused.refusal)
            return None
        scope = {**scope, "user": request.user, "auth": request.auth, "valar_request": request}
        return await self.inner(scope, receive, send)


class TenantConsumer(AsyncJsonWebsocketConsumer):
    """The base of every consumer: resolves the organization as HTTP does, then accepts.

    A consumer declares ``module`` (the policy module a member needs, ``None`` for any
    member), returns its groups from :meth:`group_names` and may greet in :meth:`joined`.
    ``self.tenant`` is the organization and membership; ``self.user`` the caller. Incoming
    JSON that is not an object is answered with an ``error`` message, never a crash.
    Services are called through :meth:`run_service`, so audit rows carry the caller.
    """

    module: str | None = None
    #: The route template the consumer serves, the label of its open-connections gauge
    #: (``valar_websocket_connections``); the class name when not given.
    route: str | None = None
    #: At most this many open sockets of one user per :meth:`limit_key` (``None``: no limit);
    #: one more is refused before accept (4429).
    user_socket_limit: int | None = None
    _counted = False
    _slot: str | None = None

    def route_label(self) -> str:
        """The ``route`` label of this consumer's open-connections gauge."""
        return self.route or type(self).__name__

    async def connect(self):
        """Resolve the tenant and the module, join the groups, accept (or refuse)."""
        request: SocketRequest = self.scope["valar_request"]
        self.user = self.scope["user"]
        try:
            self.tenant = await database_sync_to_async(self._resolve)(request)
        except SocketRefused as refused:
            await refuse(self.scope, self.base_send, refused.refusal)
            return
        if self.user_socket_limit is not None:
            if not await sync_to_async(self._take_slot)(self.limit_key()):
                await refuse(self.scope, self.base_send, TOO_MANY_SOCKETS)
                return
        self.groups = [
            user_sockets_group(self.user.pk),
            member_sockets_group(self.tenant.organization.pk, self.user.pk),
            *self.group_names(),
        ]
        try:
            for group in self.groups:
                await self.channel_layer.group_add(group, self.channel_name)
            offered = self.scope.get("subprotocols") or []
            await self.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
            telemetry.websocket_opened(self.route_label())
            self._counted = True
            await self.joined()
        except BaseException:
            # The client went away mid-handshake or mid-greeting (the server raises on the
            # send, and may never deliver a disconnect): give back what the socket took.
            await self._release()
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
            raise

    async def disconnect(self, code):
        """Stop counting the connection (the open-connections gauge, the user's socket count)."""
        await self._release()
        await super().disconnect(code)

    async def _release(self) -> None:
        """Stop counting this socket, once: in the gauge and under :meth:`limit_key`."""
        if self._counted:
            telemetry.websocket_closed(self.route_label())
            self._counted = False
        if self._slot is not None:
            slot, self._slot = self._slot, None
            await sync_to_async(self._free_slot)(slot)

    def limit_key(self) -> str:
        """What :attr:`user_socket_limit` counts per: the route and the user by default."""
        return f"sockets:{self.route_label()}:{self.user.pk}"

    def _take_slot(self, key: str) -> bool:
        """Count this socket under ``key`` unless the limit is reached (one atomic ``incr``).

        A cache that cannot be reached lets the socket in (logged), as the rate limits do.
        """
        try:
            cache.add(key, 0, timeout=SOCKET_COUNT_TTL)
            count = cache.incr(key)
            if count > self.user_socket_limit:
                cache.decr(key)  # a refused attempt does not keep the count alive
                return False
            cache.touch(key, timeout=SOCKET_COUNT_TTL)
        except Exception as error:  # noqa: BLE001  any cache failure
            logger.warning("Socket limit unavailable (%s); socket allowed", error)
            return True
        self._slot = key
        return True

    def _free_slot(self, key: str) -> None:
        """Stop counting this socket (a count that expired meanwhile is left alone)."""
        try:
            if cache.decr(key) < 0:
                cache.set(key, 0, timeout=SOCKET_COUNT_TTL)
        except ValueError:  # expired
            pass
        except Exception as error:  # noqa: BLE001  any cache failure: the count expires
            logger.warning("Socket limit unavailable (%s)", error)

    async def sockets_close(self, event) -> None:
        """The user's sessions ended or the membership changed (:func:`close_sockets`)."""
        await self.close(code=event.get("code", CLOSE_SIGNED_OUT))

    def _resolve(self, request: SocketRequest) -> tenancy.Tenant:
        """The request's tenant, by ``core.tenancy``; a non-member or a missing module refused."""
        try:
            tenant = tenancy.resolve(request)
        except exceptions.NotAuthenticated as exc:
            raise SocketRefused(NOT_AUTHENTICATED) from exc
        except exceptions.APIException as exc:
            raise SocketRefused(NOT_A_MEMBER) from exc
        membership = tenant.membership
        if self.module is not None and not has_module(
            role=membership.role, modules=membership.modules, module=self.module
        ):
            raise SocketRefused(NO_MODULE)
        return tenant

    def group_names(self) -> list[str]:
        """The channel-layer groups this socket listens to (none by default)."""
        return []

    async def joined(self) -> None:
        """Called once the socket is accepted (a greeting, say); nothing by default."""

    async def run_service(self, function, /, **kwargs):
        """Run a sync service in a thread, with the socket's handshake as the current request."""

        def call():
            token = current_request.set(self.scope["valar_request"])
            try:
                return function(**kwargs)
            finally:
                current_request.reset(token)

        return await database_sync_to_async(call)()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Decode JSON objects for :meth:`receive_json`; answer anything else with an error.

        A frame over :data:`MAX_FRAME_BYTES` closes the socket with 1009 before it is parsed.
        """
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            content = None
        if not isinstance(content, dict):
            await self.send_json(
                {"type": "error", "code": "invalid", "detail": "Send a JSON object."}
            )
            return
        try:
            await self.receive_json(content, **kwargs)
        except Exception:  # noqa: BLE001  a fault of ours: logged, the socket closed cleanly
            logger.exception("%s failed on a client message", type(self).__name__)
            await self.send_json(
                {"type": "error", "code": "server_error", "detail": "A server error occurred."}
            )
            await self.close(code=1011)


class NotFoundConsumer(AsyncJsonWebsocketConsumer):
    """Every socket path no route names: refused with 4404 (404 on the handshake)."""

    async def connect(self):
        """Refuse the socket."""
        await refuse(self.scope, self.base_send, NOT_FOUND)
