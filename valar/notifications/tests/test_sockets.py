"""``ws/notifications/`` through the real ASGI application: sign-in, refusals, live delivery."""

from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from valar.accounts.services import token_create
from valar.core.notify import notify
from valar.core.testing.cases import DEFAULT_PASSWORD
from valar.core.testing.sockets import ALLOWED_ORIGIN, SocketTestCase
from valar.notifications.models import Notification
from valar.organizations.models import Membership
from valar.organizations.services import organization_create


class TwoOrganizationsSocketCase(SocketTestCase):
    """Org A (admin, worker) and org B (its admin), a token each, and socket helpers."""

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


class NotificationSocketTests(TwoOrganizationsSocketCase):
    """Who may open a socket, and what arrives on it."""

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
        # Another site, and the same host on another port or scheme (a sibling service on
        # the machine, a plain-HTTP page of an HTTPS site): not the socket's own origin.
        for origin in (
            "http://evil.example",
            "http://testserver.evil.example",
            "http://testserver:8999",
            "https://testserver",
            "null",
            None,
        ):
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


class SocketClosingTests(TwoOrganizationsSocketCase):
    """Open sockets follow what HTTP decides now: ended sessions and changed memberships close
    them (``core.sockets.close_sockets``), so a locked or removed user hears nothing more."""

    async def closed_with(self, communicator) -> int:
        """The close code the server sends next on ``communicator``."""
        message = await communicator.receive_output(timeout=2)
        self.assertEqual(message["type"], "websocket.close", message)
        return message["code"]

    async def test_a_lock_over_rest_closes_the_users_sockets_with_4401(self):
        from valar.organizations.services import user_create_in_organization

        tenant = await sync_to_async(self._tenant)(self.org, self.admin)
        clerk = await sync_to_async(user_create_in_organization)(
            tenant=tenant, email="clerk@a.test", password=DEFAULT_PASSWORD, role="worker"
        )
        key = (await sync_to_async(token_create)(user=clerk, name="socket"))[1]
        client = APIClient(enforce_csrf_checks=True)
        await sync_to_async(self.session_login)(clerk, client=client)
        by_token = self.socket(f"/ws/notifications/?token={key}")
        by_session = self.socket(cookie=self.session_cookie(client), origin=ALLOWED_ORIGIN)
        bystander = self.socket(self.token_path(self.worker))
        for socket in (by_token, by_session, bystander):
            self.assertEqual((await self.open(socket))["type"], "hello")
        admin = await sync_to_async(self.token_client)(self.admin)
        response = await sync_to_async(admin.post)(f"/api/v1/users/{clerk.pk}/lock/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(await self.closed_with(by_token), 4401)
        self.assertEqual(await self.closed_with(by_session), 4401)
        # Nobody else's socket closes; reopening as the locked user is refused.
        self.assertTrue(await bystander.receive_nothing(timeout=0.2))
        again = self.socket(f"/ws/notifications/?token={key}")
        self.assertEqual(await self.open(again), 4401)
        await bystander.disconnect()

    async def test_a_password_change_closes_the_other_sockets_and_the_kept_one_reconnects(self):
        client = APIClient(enforce_csrf_checks=True)
        csrf = await sync_to_async(self.session_login)(self.worker, client=client)
        by_session = self.socket(cookie=self.session_cookie(client), origin=ALLOWED_ORIGIN)
        by_token = self.socket(self.token_path(self.worker))
        for socket in (by_session, by_token):
            self.assertEqual((await self.open(socket))["type"], "hello")
        response = await sync_to_async(client.post)(
            "/api/v1/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-long-passphrase"},
            format="json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(await self.closed_with(by_session), 4401)
        self.assertEqual(await self.closed_with(by_token), 4401)
        # The session that changed it is kept: its socket reconnects; the revoked token's not.
        again = self.socket(cookie=self.session_cookie(client), origin=ALLOWED_ORIGIN)
        self.assertEqual((await self.open(again))["type"], "hello")
        await again.disconnect()
        self.assertEqual(await self.open(self.socket(self.token_path(self.worker))), 4401)

    async def test_signing_out_closes_the_sockets(self):
        client = APIClient(enforce_csrf_checks=True)
        csrf = await sync_to_async(self.session_login)(self.worker, client=client)
        socket = self.socket(cookie=self.session_cookie(client), origin=ALLOWED_ORIGIN)
        cookie = self.session_cookie(client)
        self.assertEqual((await self.open(socket))["type"], "hello")
        response = await sync_to_async(client.post)("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(await self.closed_with(socket), 4401)
        stale = self.socket(cookie=cookie, origin=ALLOWED_ORIGIN)
        self.assertEqual(await self.open(stale), 4401)

    async def test_a_removed_or_changed_membership_closes_the_sockets_in_that_organization(self):
        from valar.organizations.services import member_update

        other_membership = await sync_to_async(Membership.objects.create)(
            organization=self.other, user=self.worker, role="worker", modules=["tasks"]
        )
        here = self.socket(self.token_path(self.worker))
        there = self.socket(self.token_path(self.worker, organization=self.other.pk))
        for socket in (here, there):
            self.assertEqual((await self.open(socket))["type"], "hello")
        # A role change in B closes B's socket only (it reconnects, authorised anew).
        tenant = await sync_to_async(self._tenant)(self.other, self.other_admin)
        await sync_to_async(member_update)(
            tenant=tenant, membership=other_membership, data={"role": "basic"}
        )
        self.assertEqual(await self.closed_with(there), 4403)
        self.assertTrue(await here.receive_nothing(timeout=0.2))
        # Removed from A over REST: A's socket closes, and a new one is refused.
        admin = await sync_to_async(self.token_client)(self.admin)
        membership = await sync_to_async(Membership.objects.get)(
            organization=self.org, user=self.worker
        )
        response = await sync_to_async(admin.delete)(
            f"/api/v1/organizations/{self.org.pk}/members/{membership.pk}/"
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(await self.closed_with(here), 4403)
        again = self.socket(self.token_path(self.worker, organization=self.org.pk))
        self.assertEqual(await self.open(again), 4403)

    @staticmethod
    def _tenant(organization, user):
        """The tenant of ``user`` in ``organization``."""
        from valar.core.tenancy import Tenant

        return Tenant(
            organization=organization,
            membership=Membership.objects.get(organization=organization, user=user),
        )
