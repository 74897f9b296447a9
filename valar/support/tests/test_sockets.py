"""``ws/support/chats/<id>/`` through the real ASGI application: who joins, live messages,
resume after a disconnect with no gap and no duplicate, internal notes, typing."""

from unittest import mock

from asgiref.sync import sync_to_async
from rest_framework.throttling import SimpleRateThrottle

from valar.accounts.services import token_create
from valar.core.testing.sockets import SocketTestCase
from valar.organizations.models import Membership
from valar.organizations.services import organization_create
from valar.support.models import Chat, ChatReader

URL = "/api/v1/support/chats/"


class ChatSocketTests(SocketTestCase):
    """Org A: an admin (an agent), two basic members with the module, one without; org B."""

    def setUp(self) -> None:
        super().setUp()
        self.admin = self.make_user("admin@a.test")
        self.org = organization_create(name="A", actor=self.admin)
        self.member = self.make_user("member@a.test")
        self.neighbour = self.make_user("neighbour@a.test")
        self.no_module = self.make_user("nomodule@a.test")
        for user, modules in (
            (self.member, ["support"]),
            (self.neighbour, ["support"]),
            (self.no_module, []),
        ):
            Membership.objects.create(
                organization=self.org, user=user, role="basic", modules=modules, is_default=True
            )
        self.stranger = self.make_user("admin@b.test")
        organization_create(name="B", actor=self.stranger)
        self.keys = {
            user.pk: token_create(user=user, name="socket")[1]
            for user in (self.admin, self.member, self.neighbour, self.no_module, self.stranger)
        }
        self.rest = {user.pk: self.token_client(user) for user in (self.admin, self.member)}
        response = self.rest[self.member.pk].post(
            URL, {"subject": "Help", "message": "First"}, format="json"
        )
        self.chat = Chat.objects.get(pk=response.json()["id"])

    def path(self, user, after: int | None = None) -> str:
        """The chat's socket path with ``user``'s token."""
        extra = f"&after={after}" if after is not None else ""
        return f"/ws/support/chats/{self.chat.pk}/?token={self.keys[user.pk]}{extra}"

    async def join(self, user, after: int | None = None):
        """Open a socket as ``user``, read the greeting; return the communicator."""
        socket = self.socket(self.path(user, after))
        connected, code = await socket.connect()
        self.assertTrue(connected, code)
        hello = await socket.receive_json_from()
        self.assertEqual(hello["type"], "hello")
        return socket

    async def seqs(self, socket, count: int) -> list[int]:
        """The numbers of the next ``count`` messages on ``socket``."""
        out = []
        for _ in range(count):
            event = await socket.receive_json_from(timeout=2)
            self.assertEqual(event["type"], "message.created", event)
            out.append(event["message"]["seq"])
        return out

    async def say(self, user, text: str, internal: bool = False):
        """Post a message over REST as ``user``."""
        response = await sync_to_async(self.rest[user.pk].post)(
            f"{URL}{self.chat.pk}/messages/", {"text": text, "internal": internal}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    async def test_the_opener_and_agents_join_everyone_else_is_refused_before_accept(self):
        for user in (self.member, self.admin):
            socket = await self.join(user)
            self.assertEqual(await self.seqs(socket, 1), [1])
            await socket.disconnect()
        for user, code in (
            (self.neighbour, 4404),
            (self.no_module, 4403),
            (self.stranger, 4404),  # in their own organization there is no such chat
        ):
            with self.subTest(user=user.email):
                connected, closed = await self.socket(self.path(user)).connect()
                self.assertEqual((connected, closed), (False, code))
        # Asking for A by name: not a member of it.
        asked = self.socket(f"{self.path(self.stranger)}&organization={self.org.pk}")
        self.assertEqual(await asked.connect(), (False, 4403))
        singular = self.socket(
            f"/ws/support/chat/{self.chat.pk}/?token={self.keys[self.member.pk]}"
        )
        self.assertTrue((await singular.connect())[0])
        await singular.disconnect()

    async def test_rest_messages_arrive_live_and_internal_notes_only_on_agents_sockets(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        await self.say(self.admin, "Looking", internal=False)
        await self.say(self.admin, "Note to self", internal=True)
        await self.say(self.member, "Thanks")
        self.assertEqual(await self.seqs(agent, 3), [2, 3, 4])
        self.assertEqual(await self.seqs(member, 2), [2, 4])
        self.assertTrue(await member.receive_nothing(timeout=0.2))
        await member.disconnect()
        await agent.disconnect()

    async def test_a_reconnect_resumes_after_the_last_seen_with_no_gap_and_no_duplicate(self):
        socket = await self.join(self.member)
        self.assertEqual(await self.seqs(socket, 1), [1])
        for index in range(3):
            await self.say(self.admin, f"Burst {index}")
        seen = await self.seqs(socket, 1)  # the socket drops after reading only one of them
        await socket.disconnect()
        for index in range(3, 6):
            await self.say(self.admin, f"Burst {index}")
        again = await self.join(self.member, after=seen[-1])
        self.assertEqual(await self.seqs(again, 5), [3, 4, 5, 6, 7])
        # resume on the open socket sends nothing it sent already; a live one follows in order.
        await again.send_json_to({"type": "resume", "after": 2})
        self.assertTrue(await again.receive_nothing(timeout=0.2))
        await self.say(self.admin, "Live")
        self.assertEqual(await self.seqs(again, 1), [8])
        await again.disconnect()

    async def test_a_message_sent_on_the_socket_is_stored_then_broadcast(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        await member.send_json_to({"type": "message.send", "text": "  Over the socket  "})
        event = await agent.receive_json_from(timeout=2)
        self.assertEqual(
            (event["message"]["seq"], event["message"]["text"]), (2, "Over the socket")
        )
        self.assertEqual(await self.seqs(member, 1), [2])
        await member.send_json_to({"type": "message.send", "text": "   "})
        error = await member.receive_json_from()
        self.assertEqual((error["type"], list(error["errors"])), ("error", ["text"]))
        await member.send_json_to({"type": "message.send", "text": "x", "internal": True})
        self.assertEqual(
            (await member.receive_json_from())["errors"],
            {"internal": ["Only agents write internal notes."]},
        )
        # Typing reaches the others, not the typist.
        await member.send_json_to({"type": "typing"})
        self.assertEqual(
            await agent.receive_json_from(), {"type": "typing", "user": str(self.member.pk)}
        )
        self.assertTrue(await member.receive_nothing(timeout=0.2))
        await member.disconnect()
        await agent.disconnect()

    async def test_hostile_frames_and_parameters_answer_errors_and_never_crash_the_socket(self):
        from valar.core.telemetry import WEBSOCKET_CONNECTIONS

        gauge = WEBSOCKET_CONNECTIONS.labels("/ws/support/chats/{id}/")
        before = gauge._value.get()
        # A Unicode digit is not a message number (int("²") would raise).
        socket = self.socket(f"{self.path(self.member)}&after=%C2%B2")
        self.assertTrue((await socket.connect())[0])
        self.assertEqual((await socket.receive_json_from())["type"], "hello")
        self.assertEqual((await socket.receive_json_from())["type"], "error")
        # JSON nested past the parser's depth, and a boolean where a number goes.
        await socket.send_to(text_data="[" * 8000 + "]" * 8000)  # under 16 KB, too deep
        self.assertEqual((await socket.receive_json_from())["detail"], "Send a JSON object.")
        await socket.send_json_to({"type": "resume", "after": True})
        self.assertEqual((await socket.receive_json_from())["type"], "error")
        await socket.send_json_to({"type": "ping"})
        self.assertEqual(await socket.receive_json_from(), {"type": "pong"})
        await socket.disconnect()
        self.assertEqual(gauge._value.get(), before)

    async def test_a_deleted_chat_closes_its_sockets(self):
        socket = await self.join(self.member, after=1)
        response = await sync_to_async(self.rest[self.admin.pk].delete)(f"{URL}{self.chat.pk}/")
        self.assertEqual(response.status_code, 204, response.content)
        closed = await socket.receive_output(timeout=2)
        self.assertEqual((closed["type"], closed["code"]), ("websocket.close", 4404))

    async def test_internal_notes_leave_no_trace_in_what_members_are_shown(self):
        await self.say(self.admin, "Note", internal=True)
        member = await self.join(self.member)
        self.assertEqual(await self.seqs(member, 1), [1])
        await member.disconnect()
        hello = self.socket(self.path(self.member))
        await hello.connect()
        self.assertEqual((await hello.receive_json_from())["last_seq"], 1)
        await hello.disconnect()
        shown = await sync_to_async(self.rest[self.member.pk].get)(f"{URL}{self.chat.pk}/")
        self.assertEqual(shown.json()["last_seq"], 1)
        agent = await sync_to_async(self.rest[self.admin.pk].get)(f"{URL}{self.chat.pk}/")
        self.assertEqual(agent.json()["last_seq"], 2)

    async def test_a_frame_over_16_kb_closes_the_socket_and_typing_is_paced(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        for _ in range(50):
            await member.send_json_to({"type": "typing"})
        self.assertEqual((await agent.receive_json_from())["type"], "typing")
        self.assertTrue(await agent.receive_nothing(timeout=0.3))
        await member.send_to(text_data='{"type": "message.send", "text": "' + "x" * 17000 + '"}')
        closed = await member.receive_output(timeout=2)
        self.assertEqual((closed["type"], closed["code"]), ("websocket.close", 1009))
        await agent.disconnect()

    async def test_read_markers_and_chat_changes_reach_the_sockets(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        await self.say(self.admin, "Answer")
        await self.say(self.admin, "A note", internal=True)
        self.assertEqual(await self.seqs(agent, 2), [2, 3])
        self.assertEqual(await self.seqs(member, 1), [2])
        # The agent (their marker back at 1: writing had moved it) reads up to the note: the
        # member is told of message 2, never 3.
        await sync_to_async(ChatReader.objects.filter(chat=self.chat, user=self.admin).update)(
            seq=1, public_count=1, public_seq=1
        )
        await agent.send_json_to({"type": "read"})
        seen = [await sock.receive_json_from(timeout=2) for sock in (agent, member)]
        self.assertEqual(
            [(e["type"], e["seq"]) for e in seen], [("message.read", 3), ("message.read", 2)]
        )
        self.assertEqual(seen[1]["user"], str(self.admin.pk))
        await member.send_json_to({"type": "read", "seq": 99})
        self.assertEqual(
            (await member.receive_json_from())["errors"],
            {"seq": ["No such message: the last is 2."]},
        )
        await member.send_json_to({"type": "read", "seq": True})
        self.assertEqual((await member.receive_json_from())["code"], "invalid")
        # Closing over REST reaches both sockets as chat.closed, with the chat as REST shows it.
        response = await sync_to_async(self.rest[self.admin.pk].post)(f"{URL}{self.chat.pk}/close/")
        self.assertEqual(response.status_code, 200)
        for sock, last_seq in ((agent, 3), (member, 2)):
            event = await sock.receive_json_from(timeout=2)
            self.assertEqual(event["type"], "chat.closed")
            self.assertEqual(
                (event["chat"]["status"], event["chat"]["last_seq"]), ("closed", last_seq)
            )
            self.assertNotIn("unread", event["chat"])
        await member.disconnect()
        await agent.disconnect()

    async def test_messages_over_the_rate_are_refused_then_the_socket_closed_and_sockets_capped(
        self,
    ):
        with mock.patch.dict(SimpleRateThrottle.THROTTLE_RATES, {"chat_message": "3/min"}):
            member = await self.join(self.member, after=1)
            # The chat's first message counted: two more pass, over REST and socket alike.
            await self.say(self.member, "Second")
            await member.send_json_to({"type": "message.send", "text": "Third"})
            self.assertEqual(await self.seqs(member, 2), [2, 3])
            refused = await sync_to_async(self.rest[self.member.pk].post)(
                f"{URL}{self.chat.pk}/messages/", {"text": "Fourth"}, format="json"
            )
            self.assertEqual(refused.status_code, 429)
            self.assertEqual(refused.json()["code"], "throttled")
            self.assertGreaterEqual(int(refused["Retry-After"]), 1)
            await member.send_json_to({"type": "message.send", "text": "Fourth"})
            error = await member.receive_json_from()
            self.assertEqual((error["type"], error["code"]), ("error", "throttled"))
            self.assertGreaterEqual(error["retry_after"], 1)
            await member.send_json_to({"type": "message.send", "text": "Fifth"})
            closed = await member.receive_output(timeout=2)
            self.assertEqual((closed["type"], closed["code"]), ("websocket.close", 4429))
            # Another user's messages have their own count.
            await self.say(self.admin, "Agent")
        # At most 5 sockets of one user on one chat; closing one frees its place.
        open_ = [await self.join(self.admin) for _ in range(5)]
        sixth = self.socket(self.path(self.admin))
        self.assertEqual(await sixth.connect(), (False, 4429))
        await open_.pop().disconnect()
        again = await self.join(self.admin)
        for socket in [*open_, again]:
            await socket.disconnect()

    async def test_edits_and_tombstones_reach_the_sockets_notes_only_agents(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        note = await self.say(self.admin, "Note", internal=True)
        self.assertEqual(await self.seqs(agent, 1), [note["seq"]])
        edit = await sync_to_async(self.rest[self.member.pk].patch)(
            f"{URL}{self.chat.pk}/messages/1/", {"text": "First, edited"}, format="json"
        )
        self.assertEqual(edit.status_code, 200, edit.content)
        for sock in (member, agent):
            event = await sock.receive_json_from(timeout=2)
            self.assertEqual(
                (event["type"], event["message"]["text"]), ("message.updated", "First, edited")
            )
        gone = await sync_to_async(self.rest[self.admin.pk].delete)(
            f"{URL}{self.chat.pk}/messages/{note['seq']}/"
        )
        self.assertEqual(gone.status_code, 204)
        event = await agent.receive_json_from(timeout=2)
        self.assertEqual((event["type"], event["message"]["text"]), ("message.deleted", ""))
        self.assertIsNotNone(event["message"]["deleted_at"])
        self.assertTrue(await member.receive_nothing(timeout=0.2))
        await member.disconnect()
        await agent.disconnect()

    async def test_a_socket_that_fails_while_joining_gives_its_place_back(self):
        from django.core.cache import cache

        from valar.support import services
        from valar.support.consumers import ChatConsumer

        key = services.socket_count_key(self.chat.pk, self.admin.pk)
        # The client goes away while the greeting is sent (the server raises on the send).
        with mock.patch.object(ChatConsumer, "joined", side_effect=ConnectionResetError("gone")):
            for _ in range(6):
                socket = self.socket(self.path(self.admin))
                await socket.connect()
                with self.assertRaises(ConnectionResetError):
                    await socket.receive_output(timeout=1)
        self.assertEqual(await sync_to_async(cache.get)(key), 0)
        socket = await self.join(self.admin)
        self.assertEqual(await sync_to_async(cache.get)(key), 1)
        await socket.disconnect()
        self.assertEqual(await sync_to_async(cache.get)(key), 0)

    async def test_a_marker_moving_over_notes_only_tells_members_nothing(self):
        member = await self.join(self.member, after=1)
        agent = await self.join(self.admin, after=1)
        await self.say(self.admin, "Public")
        await self.say(self.admin, "Note", internal=True)
        self.assertEqual(await self.seqs(agent, 2), [2, 3])
        self.assertEqual(await self.seqs(member, 1), [2])
        await sync_to_async(ChatReader.objects.filter(chat=self.chat, user=self.admin).update)(
            seq=2, public_count=2, public_seq=2
        )
        await agent.send_json_to({"type": "read", "seq": 3})
        self.assertEqual((await agent.receive_json_from(timeout=2))["seq"], 3)
        self.assertTrue(await member.receive_nothing(timeout=0.3))
        await member.disconnect()
        await agent.disconnect()

    async def test_a_session_cookie_joins_the_chat_from_an_allowed_origin_only(self):
        from rest_framework.test import APIClient

        from valar.core.testing.sockets import ALLOWED_ORIGIN

        client = APIClient(enforce_csrf_checks=True)
        await sync_to_async(self.session_login)(self.member, client=client)
        cookie = self.session_cookie(client)
        path = f"/ws/support/chats/{self.chat.pk}/?after=0"
        socket = self.socket(path, cookie=cookie, origin=ALLOWED_ORIGIN)
        connected, _ = await socket.connect()
        self.assertTrue(connected)
        self.assertEqual((await socket.receive_json_from())["type"], "hello")
        self.assertEqual(await self.seqs(socket, 1), [1])
        await socket.disconnect()
        foreign = self.socket(path, cookie=cookie, origin="http://evil.example")
        self.assertEqual(await foreign.connect(), (False, 4403))
