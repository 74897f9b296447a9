"""``ws/notifications/`` through the real ASGI application: sign-in, refusals, live delivery."""

from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from valar.accounts.services import token_create
from valar.core.notify import notify
from valar.core.testing.sockets import ALLOWED_ORIGIN, SocketTestCase
from valar.notifications.models import Notification
from valar.organizations.models import Membership
from valar.organizations.services import organization_create


class NotificationSocketTests(SocketTestCase):
    """Who may open a socket, and what arrives on it."""

    def setUp(self) -> None:
        """Org A (admin, worker), org B (its admin); a token per user."""
        super().setUp()
        self.admin = self.make_user("admin@a.test")
        self.org = organization_create(name="A", actor=self.admin)
        self.worker = self.make_user("worker@a.test")
        Membership.objects.create(
            organization=self.org,
            user=self.worker,
            role="worker",
            modules=["tasks"],
            is_default=True,
        )
        self.other_admin = self.make_user("admin@b.test")
        self.other = organization_create(name="B", actor=self.other_admin)
        self.keys = {
            user.pk: token_create(user=user, name="socket")[1]
            for user in (self.admin, self.worker, self.other_admin)
        }

    def token_path(self, user, **query) -> str:
        """The socket path with ``user``'s token (and more query) in the query string."""
        extra = "".join(f"&{name}={value}" for name, value in query.items())
        return f"/ws/notifications/?token={self.keys[user.pk]}{extra}"

    async def open(self, communicator):
        """Connect; on success read the greeting and return it, else return the close code."""
        connected, detail = await communicator.connect()
        if not connected:
            return detail
        return await communicator.receive_json_from()

    async def test_a_token_in_the_query_signs_in_and_the_greeting_names_the_organization(self):
        await sync_to_async(notify)(
            organization=self.org, recipients=[self.worker], title="Earlier", kind="tasks"
        )
        socket = self.socket(self.token_path(self.worker))
        hello = await self.open(socket)
        self.assertEqual(hello, {"type": "hello", "organization": str(self.org.pk), "unread": 1})
        await socket.send_json_to({"type": "ping"})
        self.assertEqual(await socket.receive_json_from(), {"type": "pong"})
        await socket.disconnect()

    async def test_open_sockets_are_counted_for_metrics_by_route_only_once_accepted(self):
        from valar.core.telemetry import WEBSOCKET_CONNECTIONS

        gauge = WEBSOCKET_CONNECTIONS.labels("/ws/notifications/")
        before = gauge._value.get()
        refused = self.socket("/ws/notifications/?token=nope")
        self.assertEqual(await self.open(refused), 4401)
        self.assertEqual(gauge._value.get(), before)
        sockets = [self.socket(self.token_path(self.worker)) for _ in range(2)]
        for socket in sockets:
            await self.open(socket)
        self.assertEqual(gauge._value.get(), before + 2)
        for socket in sockets:
            await socket.disconnect()
        self.assertEqual(gauge._value.get(), before)

    async def test_a_token_in_the_subprotocol_signs_in_and_valar_is_selected(self):
        socket = self.socket(subprotocols=["valar", f"token.{self.keys[self.worker.pk]}"])
        connected, subprotocol = await socket.connect()
        self.assertTrue(connected)
        self.assertEqual(subprotocol, "valar")
        await socket.disconnect()

    async def test_a_session_cookie_from_an_allowed_origin_signs_in(self):
        client = APIClient(enforce_csrf_checks=True)
        await sync_to_async(self.session_login)(self.worker, client=client)
        socket = self.socket(cookie=self.session_cookie(client), origin=ALLOWED_ORIGIN)
        hello = await self.open(socket)
        self.assertEqual(hello["type"], "hello")
        await socket.disconnect()

    async def test_a_session_cookie_from_a_foreign_or_missing_origin_is_refused_with_4403(self):
        client = APIClient(enforce_csrf_checks=True)
        await sync_to_async(self.session_login)(self.worker, client=client)
        cookie = self.session_cookie(client)
        for origin in ("http://evil.example", "null", None):
            with self.subTest(origin=origin):
                code = await self.open(self.socket(cookie=cookie, origin=origin))
                self.assertEqual(code, 4403)

    async def test_anonymous_and_bad_tokens_are_refused_with_4401(self):
        self.assertEqual(await self.open(self.socket()), 4401)
        self.assertEqual(await self.open(self.socket("/ws/notifications/?token=nope")), 4401)
        self.assertEqual(
            await self.open(self.socket(origin=ALLOWED_ORIGIN, cookie="sessionid=forged")), 4401
        )

    async def test_a_locked_user_is_refused_by_token_and_by_session(self):
        client = APIClient(enforce_csrf_checks=True)
        await sync_to_async(self.session_login)(self.worker, client=client)
        cookie = self.session_cookie(client)
        self.worker.is_active = False
        await sync_to_async(self.worker.save)(update_fields=["is_active"])
        self.assertEqual(await self.open(self.socket(self.token_path(self.worker))), 4401)
        code = await self.open(self.socket(cookie=cookie, origin=ALLOWED_ORIGIN))
        self.assertEqual(code, 4401)

    async def test_an_organization_the_user_is_not_a_member_of_is_refused_with_4403(self):
        for reference in (self.other.pk, self.other.slug, "no-such-org"):
            with self.subTest(reference=reference):
                path = self.token_path(self.worker, organization=reference)
                self.assertEqual(await self.open(self.socket(path)), 4403)

    async def test_an_unknown_socket_path_is_refused_with_4404(self):
        path = f"/ws/elsewhere/?token={self.keys[self.worker.pk]}"
        self.assertEqual(await self.open(self.socket(path)), 4404)

    async def test_a_message_that_is_not_a_json_object_is_answered_with_an_error(self):
        socket = self.socket(self.token_path(self.worker))
        await self.open(socket)
        await socket.send_to(text_data="not json")
        self.assertEqual((await socket.receive_json_from())["code"], "invalid")
        await socket.send_to(text_data="[1]")
        self.assertEqual((await socket.receive_json_from())["code"], "invalid")
        await socket.disconnect()

    async def test_a_task_assigned_over_rest_arrives_on_every_socket_of_the_assignee(self):
        first = self.socket(self.token_path(self.worker))
        second = self.socket(self.token_path(self.worker))
        admins = self.socket(self.token_path(self.admin))
        for socket in (first, second, admins):
            await self.open(socket)

        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[self.admin.pk]}")
        created = await sync_to_async(api.post)(
            "/api/v1/tasks/", {"title": "Ship it", "assignee": str(self.worker.pk)}, format="json"
        )
        self.assertEqual(created.status_code, 201, created.content)

        received = [await socket.receive_json_from() for socket in (first, second)]
        self.assertEqual(received[0], received[1])
        message = received[0]
        self.assertEqual(message["type"], "notification")
        self.assertEqual(message["notification"]["title"], "Task assigned: Ship it")
        self.assertEqual(message["notification"]["link"], f"/api/v1/tasks/{created.json()['id']}/")
        # The socket's notification is the one the REST API lists, field for field.
        worker_api = APIClient()
        worker_api.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[self.worker.pk]}")
        detail = await sync_to_async(worker_api.get)(
            f"/api/v1/notifications/{message['notification']['id']}/"
        )
        self.assertEqual(detail.json(), message["notification"])
        # The admin who assigned it gets nothing.
        self.assertTrue(await admins.receive_nothing(timeout=0.2))
        for socket in (first, second, admins):
            await socket.disconnect()

    async def test_a_user_of_another_organization_never_receives_its_notifications(self):
        # The worker joins B as well: their socket in B must not get A's notifications.
        await sync_to_async(Membership.objects.create)(
            organization=self.other, user=self.worker, role="basic"
        )
        in_a = self.socket(self.token_path(self.worker))
        in_b = self.socket(self.token_path(self.worker, organization=self.other.pk))
        other_admin = self.socket(self.token_path(self.other_admin))
        hello_b = await self.open(in_b)
        self.assertEqual(hello_b["organization"], str(self.other.pk))
        await self.open(in_a)
        await self.open(other_admin)

        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[self.admin.pk]}")
        sent = await sync_to_async(api.post)(
            "/api/v1/notifications/send/", {"title": "All hands", "everyone": True}, format="json"
        )
        self.assertEqual(sent.status_code, 201, sent.content)

        self.assertEqual((await in_a.receive_json_from())["notification"]["title"], "All hands")
        self.assertTrue(await in_b.receive_nothing(timeout=0.2))
        self.assertTrue(await other_admin.receive_nothing(timeout=0.2))
        count = await sync_to_async(Notification.objects.filter(user=self.other_admin).count)()
        self.assertEqual(count, 0)
        for socket in (in_a, in_b, other_admin):
            await socket.disconnect()

    async def test_a_rolled_back_notification_is_never_sent(self):
        from django.db import transaction

        socket = self.socket(self.token_path(self.worker))
        await self.open(socket)

        def notify_then_fail():
            try:
                with transaction.atomic():
                    notify(organization=self.org, recipients=[self.worker], title="X", kind="tasks")
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

        await sync_to_async(notify_then_fail)()
        self.assertTrue(await socket.receive_nothing(timeout=0.2))
        await socket.disconnect()
