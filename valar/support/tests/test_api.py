"""``/api/v1/support/chats/``: the generic resource tests, get-or-create, assignment, messages."""

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.throttling import SimpleRateThrottle

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase, MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.finance.tests.support import HTML, PDF, PNG
from valar.notifications.models import Notification
from valar.organizations.models import Membership
from valar.support.models import Chat, Message

URL = "/api/v1/support/chats/"


def chat(organization, index: int = 0, **fields) -> Chat:
    """A chat of ``organization`` opened by its first admin (closed unless told otherwise)."""
    opener = fields.pop("created_by", None) or organization.memberships.get(role="admin").user
    fields.setdefault("status", Chat.Status.CLOSED)
    return Chat.objects.create(
        organization=organization, created_by=opener, subject=f"Chat {index}", **fields
    )


class ChatResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """Isolation, the role matrix, pagination and the pinned list query count."""

    module = "support"
    url = URL
    verbs = ("list", "retrieve", "create", "delete")
    list_queries = 3  # the token, the count, the page

    def make_object(self, organization, index=0):
        # Closed: a member who is given one still opens a new chat with POST (get-or-create
        # returns only open ones).
        return chat(organization, index)

    def create_data(self, index):
        return {"subject": f"Help {index}"}


class ChatLifecycleTests(TenantFixtureMixin, ApiTestCase):
    """Opening, assignment, closing, messages and their visibility."""

    module = "support"

    def post(self, role: str, path: str = "", body=None):
        """POST ``body`` to ``support/chats/<path>`` as ``role``."""
        return self.clients[role].post(f"{URL}{path}", body or {}, format="json")

    def test_a_member_gets_their_open_chat_back_and_the_message_lands_in_it(self):
        first = self.post(Role.BASIC, body={"subject": "Login fails", "message": "Hello"})
        self.assertEqual(first.status_code, 201, first.content)
        again = self.post(Role.BASIC, body={"subject": "Still", "message": "  Anyone?  "})
        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual(again.json()["id"], first.json()["id"])
        texts = list(Message.objects.filter(chat_id=first.json()["id"]).values_list("seq", "text"))
        self.assertEqual(texts, [(1, "Hello"), (2, "Anyone?")])
        # Closed, the next POST opens a new one; an agent always opens a new one.
        self.post(Role.BASIC, f"{first.json()['id']}/close/")
        self.assertEqual(self.post(Role.BASIC, body={"subject": "New"}).status_code, 201)
        agent = [self.post(Role.WORKER, body={"subject": "For a customer"}) for _ in range(2)]
        self.assertEqual([r.status_code for r in agent], [201, 201])
        self.assertNotEqual(agent[0].json()["id"], agent[1].json()["id"])

    def test_a_new_chat_goes_to_the_least_loaded_agent_then_the_longest_idle(self):
        # Agents: admin, manager, worker (the fixture grants `support`); basic is not one.
        admin, manager, worker = (self.users[r] for r in (Role.ADMIN, Role.MANAGER, Role.WORKER))
        chat(self.org, 1, status=Chat.Status.OPEN, assignee=admin)
        chat(self.org, 2, status=Chat.Status.OPEN, assignee=manager)
        chat(self.org, 3, status=Chat.Status.CLOSED, assignee=worker)
        response = self.post(Role.BASIC, body={"subject": "Who takes it?"})
        self.assertEqual(response.json()["assignee"], str(worker.pk))
        self.assertTrue(
            Notification.objects.filter(user=worker, kind="support", organization=self.org).exists()
        )
        # Now one each: the tie goes to the agent assigned a chat the longest ago (admin's
        # and manager's chats have no assignment time: they come first, by id).
        self.post(Role.BASIC, f"{response.json()['id']}/close/")
        chat(self.org, 4, status=Chat.Status.OPEN, assignee=worker)
        second = self.post(Role.CLIENT, body={"subject": "Next"})
        self.assertIn(second.json()["assignee"], {str(admin.pk), str(manager.pk)})

    def test_only_agents_are_assigned_and_assignments_are_audited(self):
        opened = self.post(Role.WORKER, body={"subject": "Billing"}).json()
        basic = self.users[Role.BASIC]
        refused = self.post(Role.MANAGER, f"{opened['id']}/assign/", {"assignee": str(basic.pk)})
        self.assert_problem(refused, 400, field="assignee")
        outsider = self.other.memberships.get().user
        refused = self.post(Role.MANAGER, f"{opened['id']}/assign/", {"assignee": str(outsider.pk)})
        self.assert_problem(refused, 400, field="assignee")
        manager = self.users[Role.MANAGER]
        done = self.post(Role.ADMIN, f"{opened['id']}/assign/", {"assignee": str(manager.pk)})
        self.assertEqual(done.json()["assignee"], str(manager.pk))
        self.assertTrue(
            AuditEvent.objects.filter(action="chat.assign", object_id=opened["id"]).exists()
        )
        # A member who is not an agent may not assign (the policy: 403).
        self.assertEqual(self.post(Role.BASIC, f"{opened['id']}/assign/", {}).status_code, 403)

    def test_close_reopen_and_delete_are_audited_and_delete_is_for_admins(self):
        opened = self.post(Role.BASIC, body={"subject": "Bug", "message": "It breaks"}).json()
        self.assertEqual(self.post(Role.BASIC, f"{opened['id']}/close/").json()["status"], "closed")
        self.assert_problem(
            self.post(Role.BASIC, f"{opened['id']}/close/"), 409, code="already_closed"
        )
        self.assertEqual(self.post(Role.WORKER, f"{opened['id']}/reopen/").json()["status"], "open")
        self.assertEqual(
            self.clients[Role.MANAGER].delete(f"{URL}{opened['id']}/").status_code, 403
        )
        self.assertEqual(self.clients[Role.ADMIN].delete(f"{URL}{opened['id']}/").status_code, 204)
        self.assertFalse(Message.objects.filter(chat_id=opened["id"]).exists())
        actions = set(
            AuditEvent.objects.filter(object_id=opened["id"]).values_list("action", flat=True)
        )
        self.assertTrue({"chat.close", "chat.reopen", "delete"} <= actions, actions)

    def test_messages_are_numbered_resumed_after_and_internal_notes_stay_with_agents(self):
        opened = self.post(Role.BASIC, body={"subject": "Order", "message": "Where is it?"}).json()
        path = f"{opened['id']}/messages/"
        # The opener's own messages and internal notes are no response; an agent's answer is.
        self.post(Role.WORKER, path, {"text": "Looking", "internal": True})
        self.assertIsNone(Chat.objects.get(pk=opened["id"]).first_response_at)
        self.assertEqual(self.post(Role.WORKER, path, {"text": "Checking"}).json()["seq"], 3)
        answered = self.clients[Role.BASIC].get(f"{URL}{opened['id']}/").json()
        self.assertIsNotNone(answered["first_response_at"])
        Message.objects.filter(chat_id=opened["id"], seq__in=[2, 3]).delete()
        Chat.objects.filter(pk=opened["id"]).update(last_seq=1, last_public_seq=1)
        self.assertEqual(self.post(Role.WORKER, path, {"text": "Checking"}).json()["seq"], 2)
        note = self.post(Role.WORKER, path, {"text": "Warehouse late", "internal": True})
        self.assertEqual((note.status_code, note.json()["seq"]), (201, 3))
        self.assertEqual(self.post(Role.BASIC, path, {"text": "Thanks"}).json()["seq"], 4)
        self.assert_problem(
            self.post(Role.BASIC, path, {"text": "x", "internal": True}), 400, field="internal"
        )
        self.assert_problem(self.post(Role.BASIC, path, {"text": "   "}), 400, field="text")
        self.assert_problem(self.post(Role.BASIC, path, {"text": "x" * 4001}), 400, field="text")
        agent_view = self.clients[Role.WORKER].get(f"{URL}{path}").json()
        self.assertEqual([m["seq"] for m in agent_view["results"]], [1, 2, 3, 4])
        member_view = self.clients[Role.BASIC].get(f"{URL}{path}").json()
        self.assertEqual([m["seq"] for m in member_view["results"]], [1, 2, 4])
        resumed = self.clients[Role.BASIC].get(f"{URL}{path}", {"after": 2}).json()
        self.assertEqual([m["text"] for m in resumed["results"]], ["Thanks"])
        self.assert_problem(
            self.clients[Role.BASIC].get(f"{URL}{path}", {"after": -1}), 400, field="after"
        )
        # A closed chat takes no message.
        self.post(Role.BASIC, f"{opened['id']}/close/")
        self.assert_problem(
            self.post(Role.BASIC, path, {"text": "Hello?"}), 409, code="chat_closed"
        )

    def test_other_peoples_and_other_organizations_chats_are_404(self):
        mine = self.post(Role.BASIC, body={"subject": "Mine"}).json()
        theirs = chat(self.other, 9, status=Chat.Status.OPEN)
        for path in ("", "messages/", "close/", "reopen/"):
            with self.subTest(path=path):
                url = f"{URL}{theirs.pk}/{path}"
                self.assertEqual(
                    self.clients[Role.ADMIN].get(url).status_code,
                    404 if not path or path == "messages/" else 405,
                )
                self.assertEqual(
                    self.clients[Role.ADMIN].post(url, {"text": "x"}, format="json").status_code,
                    404 if path else 405,
                )
        # The client of the same organization does not see the basic member's chat.
        for path in ("", "messages/"):
            self.assertEqual(
                self.clients[Role.CLIENT].get(f"{URL}{mine['id']}/{path}").status_code, 404
            )
        self.assertEqual(
            self.clients[Role.CLIENT]
            .post(f"{URL}{mine['id']}/messages/", {"text": "hi"}, format="json")
            .status_code,
            404,
        )

    def test_a_member_keeps_one_open_chat_even_by_reopening(self):
        first = self.post(Role.BASIC, body={"subject": "One"}).json()
        self.post(Role.BASIC, f"{first['id']}/close/")
        second = self.post(Role.BASIC, body={"subject": "Two"}).json()
        refused = self.post(Role.BASIC, f"{first['id']}/reopen/")
        self.assert_problem(refused, 409, code="open_chat_exists")
        # An agent may reopen it for them.
        self.assertEqual(self.post(Role.WORKER, f"{first['id']}/reopen/").status_code, 200)
        self.assertNotEqual(first["id"], second["id"])

    def test_an_empty_after_is_a_400(self):
        opened = self.post(Role.BASIC, body={"subject": "x"}).json()
        response = self.clients[Role.BASIC].get(f"{URL}{opened['id']}/messages/?after=")
        self.assert_problem(response, 400, field="after")

    def test_a_member_without_the_module_is_refused(self):
        Membership.objects.filter(organization=self.org, user=self.users[Role.BASIC]).update(
            modules=[]
        )
        self.assertEqual(self.clients[Role.BASIC].get(URL).status_code, 403)


class ChatReadingTests(TenantFixtureMixin, ApiTestCase):
    """Read markers and unread counts, PATCH, and search over messages."""

    module = "support"

    def setUp(self) -> None:
        super().setUp()
        member, agent = self.clients[Role.BASIC], self.clients[Role.WORKER]
        self.chat = member.post(URL, {"subject": "Order", "message": "Late"}, format="json").json()
        self.path = f"{URL}{self.chat['id']}/"
        for text, internal in (("Checking", False), ("Courier lost it", True), ("Found it", False)):
            body = {"text": text, "internal": internal}
            self.assertEqual(
                agent.post(f"{self.path}messages/", body, format="json").status_code, 201
            )

    def shown(self, role: str) -> dict:
        """The chat as ``role`` reads it."""
        return self.clients[role].get(self.path).json()

    def test_unread_counts_follow_the_marker_and_internal_notes_count_for_agents_only(self):
        member = self.shown(Role.BASIC)
        # The member wrote 1 (read: their own), agents wrote 2, 3 (a note), 4.
        self.assertEqual((member["read_seq"], member["unread"], member["last_seq"]), (1, 2, 4))
        agent = self.shown(Role.WORKER)
        self.assertEqual((agent["read_seq"], agent["unread"]), (4, 0))
        manager = self.shown(Role.MANAGER)
        self.assertEqual((manager["read_seq"], manager["unread"]), (0, 4))
        read = self.clients[Role.BASIC].post(f"{self.path}read/", {"seq": 2}, format="json")
        self.assertEqual(read.status_code, 200, read.content)
        self.assertEqual((read.json()["seq"], read.json()["unread"]), (2, 1))
        # Read up to the note: the member is told of the last message they can read.
        read = self.clients[Role.BASIC].post(f"{self.path}read/", {"seq": 3}, format="json")
        self.assertEqual((read.json()["seq"], read.json()["unread"]), (2, 1))
        # Markers do not move back; past the last message is a 400.
        back = self.clients[Role.BASIC].post(f"{self.path}read/", {"seq": 1}, format="json")
        self.assertEqual(back.json()["unread"], 1)
        self.assert_problem(
            self.clients[Role.BASIC].post(f"{self.path}read/", {"seq": 99}, format="json"),
            400,
            field="seq",
        )
        everything = self.clients[Role.BASIC].post(f"{self.path}read/", {}, format="json").json()
        self.assertEqual((everything["seq"], everything["unread"]), (4, 0))
        listed = self.clients[Role.MANAGER].get(URL).json()["results"]
        self.assertEqual([(c["id"], c["unread"]) for c in listed], [(self.chat["id"], 4)])
        # Another organization's chat cannot be marked.
        theirs = chat(self.other, 9, status=Chat.Status.OPEN)
        refused = self.clients[Role.ADMIN].post(f"{URL}{theirs.pk}/read/", {}, format="json")
        self.assertEqual(refused.status_code, 404)

    def test_the_opener_and_agents_change_the_subject_and_priority_audited(self):
        changed = self.clients[Role.BASIC].patch(
            self.path, {"subject": "Order 42", "priority": "high"}, format="json"
        )
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual(
            (changed.json()["subject"], changed.json()["priority"]), ("Order 42", "high")
        )
        self.assertEqual(changed.json()["unread"], 2)
        self.assertTrue(
            AuditEvent.objects.filter(object_id=self.chat["id"], action="update").exists()
        )
        self.assert_problem(
            self.clients[Role.WORKER].patch(self.path, {"priority": "asap"}, format="json"),
            400,
            field="priority",
        )
        # Not the client's chat, not the other organization's.
        self.assertEqual(
            self.clients[Role.CLIENT].patch(self.path, {"subject": "x"}, format="json").status_code,
            404,
        )
        theirs = chat(self.other, 9, status=Chat.Status.OPEN)
        self.assertEqual(
            self.clients[Role.ADMIN]
            .patch(f"{URL}{theirs.pk}/", {"subject": "x"}, format="json")
            .status_code,
            404,
        )

    def test_search_reads_subjects_and_messages_but_not_notes_for_members(self):
        def found(role: str, term: str) -> list[str]:
            response = self.clients[role].get(URL, {"search": term})
            return [row["id"] for row in response.json()["results"]]

        self.assertEqual(found(Role.WORKER, "courier"), [self.chat["id"]])
        self.assertEqual(found(Role.BASIC, "courier"), [])
        self.assertEqual(found(Role.BASIC, "found it"), [self.chat["id"]])
        self.assertEqual(found(Role.BASIC, "order late"), [self.chat["id"]])  # every word
        self.assertEqual(found(Role.BASIC, "order nothing"), [])
        # Messages matching twice still list the chat once; other organizations' never.
        self.clients[Role.WORKER].post(f"{self.path}messages/", {"text": "found"}, format="json")
        self.assertEqual(found(Role.WORKER, "found"), [self.chat["id"]])
        self.assertEqual(found(Role.ADMIN, "found"), [self.chat["id"]])
        Message.objects.create(
            organization=self.other, chat=chat(self.other, 9), seq=1, text="found"
        )
        self.assertEqual(found(Role.ADMIN, "found"), [self.chat["id"]])

    def test_edits_keep_edited_at_and_deletes_leave_tombstones(self):
        member, agent, admin = (self.clients[r] for r in (Role.BASIC, Role.WORKER, Role.ADMIN))
        one = f"{self.path}messages/1/"
        edited = member.patch(one, {"text": "  Very late  "}, format="json")
        self.assertEqual(edited.status_code, 200, edited.content)
        self.assertEqual(edited.json()["text"], "Very late")
        self.assertIsNotNone(edited.json()["edited_at"])
        self.assertTrue(
            AuditEvent.objects.filter(
                object_id=self.chat["id"], action="chat.message_edit"
            ).exists()
        )
        # Only the author edits; nobody edits into nothing; a note is no member's to see.
        self.assertEqual(agent.patch(one, {"text": "x"}, format="json").status_code, 403)
        self.assert_problem(member.patch(one, {"text": " "}, format="json"), 400, field="text")
        self.assertEqual(
            member.patch(f"{self.path}messages/3/", {"text": "x"}, format="json").status_code, 404
        )
        self.assertEqual(member.delete(f"{self.path}messages/3/").status_code, 404)
        self.assertEqual(
            member.patch(f"{self.path}messages/99/", {"text": "x"}, format="json").status_code, 404
        )
        # The agent's message: not the member's to delete; an admin's or its author's.
        self.assertEqual(member.delete(f"{self.path}messages/2/").status_code, 403)
        self.assertEqual(admin.delete(f"{self.path}messages/2/").status_code, 204)
        self.assert_problem(agent.delete(f"{self.path}messages/2/"), 409, code="message_deleted")
        self.assert_problem(
            agent.patch(f"{self.path}messages/2/", {"text": "x"}, format="json"),
            409,
            code="message_deleted",
        )
        listed = member.get(f"{self.path}messages/").json()["results"]
        self.assertEqual(
            [(m["seq"], m["text"], m["deleted_at"] is not None) for m in listed],
            [(1, "Very late", False), (2, "", True), (4, "Found it", False)],
        )
        self.assertEqual(
            self.clients[Role.BASIC].get(URL, {"search": "checking"}).json()["count"], 0
        )
        # Closed: no edit, but a delete still.
        member.post(f"{self.path}close/")
        self.assert_problem(
            member.patch(one, {"text": "x"}, format="json"), 409, code="chat_closed"
        )
        self.assertEqual(member.delete(one).status_code, 204)
        # Another organization's chat and message: 404.
        theirs = chat(self.other, 9, status=Chat.Status.OPEN)
        Message.objects.create(organization=self.other, chat=theirs, seq=1, text="x")
        self.assertEqual(admin.delete(f"{URL}{theirs.pk}/messages/1/").status_code, 404)
        self.assertEqual(
            admin.patch(f"{URL}{theirs.pk}/messages/1/", {"text": "y"}, format="json").status_code,
            404,
        )
        self.assertEqual(Message.objects.get(chat=theirs).text, "x")

    def test_messages_page_by_number_with_a_next_link_and_a_pinned_query_count(self):
        agent = self.clients[Role.WORKER]
        first = agent.get(f"{self.path}messages/", {"page_size": 2}).json()
        self.assertEqual([m["seq"] for m in first["results"]], [1, 2])
        self.assertIn("after=2", first["next"])
        # A message posted between two pages comes in its turn: nothing skipped or repeated.
        agent.post(f"{self.path}messages/", {"text": "Late one"}, format="json")
        second = agent.get(first["next"]).json()
        self.assertEqual([m["seq"] for m in second["results"]], [3, 4])
        third = agent.get(second["next"]).json()
        self.assertEqual(([m["seq"] for m in third["results"]], third["next"]), ([5], None))
        # The member's pages skip the note; bad parameters are 400s.
        member = self.clients[Role.BASIC].get(f"{self.path}messages/", {"page_size": 2}).json()
        self.assertEqual([m["seq"] for m in member["results"]], [1, 2])
        after = self.clients[Role.BASIC].get(member["next"]).json()
        self.assertEqual([m["seq"] for m in after["results"]], [4, 5])
        for params, field in (({"page_size": 0}, "page_size"), ({"after": "x"}, "after")):
            self.assert_problem(agent.get(f"{self.path}messages/", params), 400, field=field)
        # The token, the chat, the page: whatever the page's size.
        for size in (1, 50):
            with self.subTest(size=size), self.assertNumQueries(3):
                agent.get(f"{self.path}messages/", {"page_size": size})

    def test_members_open_chats_at_a_rate_and_numbers_are_read_strictly(self):
        member = self.clients[Role.BASIC]
        with mock.patch.dict(SimpleRateThrottle.THROTTLE_RATES, {"chat_open": "2/hour"}):
            # setUp opened one: closing and reopening it is the second; then no more.
            member.post(f"{self.path}close/")
            self.assertEqual(member.post(f"{self.path}reopen/").status_code, 200)
            member.post(f"{self.path}close/")
            refused = member.post(URL, {"subject": "Again"}, format="json")
            self.assert_problem(refused, 429, code="throttled")
            self.assertTrue(refused["Retry-After"])
            self.assertEqual(member.post(f"{self.path}reopen/").status_code, 429)
            # Agents open chats on customers' behalf without that limit.
            for _ in range(3):
                self.assertEqual(
                    self.clients[Role.WORKER]
                    .post(URL, {"subject": "x"}, format="json")
                    .status_code,
                    201,
                )
        for body in ({"seq": "1"}, {"seq": True}, {"seq": None}, {"seq": 1.5}):
            with self.subTest(body=body):
                self.assert_problem(
                    member.post(f"{self.path}read/", body, format="json"), 400, field="seq"
                )
        for after in ("1.0", "٣", "+1", "1e1"):
            with self.subTest(after=after):
                self.assert_problem(
                    member.get(f"{self.path}messages/", {"after": after}), 400, field="after"
                )
        self.assertEqual(
            member.post(f"{self.path}read/", {"seq": 1.0}, format="json").status_code, 200
        )

    def test_an_internal_note_moves_nothing_a_member_is_shown(self):
        before = self.shown(Role.BASIC)
        self.clients[Role.WORKER].post(
            f"{self.path}messages/", {"text": "Just a note", "internal": True}, format="json"
        )
        after = self.shown(Role.BASIC)
        for field in ("updated_at", "last_seq", "last_message_at", "unread"):
            self.assertEqual(after[field], before[field], field)


class ChatFileTests(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """Files in messages: the attachment rules of core.files, downloads, tombstones."""

    module = "support"

    def setUp(self) -> None:
        super().setUp()
        member = self.clients[Role.BASIC]
        self.chat = member.post(URL, {"subject": "Receipt"}, format="json").json()
        self.path = f"{URL}{self.chat['id']}/"

    def upload(self, role: str, content: bytes, name: str = "scan.pdf", **fields):
        """Post ``content`` as a message's file (multipart) as ``role``."""
        body = {"file": SimpleUploadedFile(name, content), **fields}
        return self.clients[role].post(f"{self.path}attachments/", body, format="multipart")

    def test_a_file_is_checked_by_its_bytes_shown_downloaded_and_gone_with_a_tombstone(self):
        posted = self.upload(Role.BASIC, PDF, "march.pdf", text="  Here  ")
        self.assertEqual(posted.status_code, 201, posted.content)
        message = posted.json()
        self.assertEqual(message["text"], "Here")
        self.assertEqual(
            {k: message["attachment"][k] for k in ("name", "content_type", "size")},
            {"name": "march.pdf", "content_type": "application/pdf", "size": len(PDF)},
        )
        stored = Message.objects.get(pk=message["id"]).file
        self.assertNotIn("march", stored.name)
        # The agent downloads it; the client of the organization cannot reach the chat.
        got = self.clients[Role.WORKER].get(message["attachment"]["url"])
        self.assertEqual((got.status_code, got["Content-Type"]), (200, "application/pdf"))
        self.assertEqual(b"".join(got.streaming_content), PDF)
        self.assertEqual(
            self.clients[Role.CLIENT].get(message["attachment"]["url"]).status_code, 404
        )
        # A file with no text is a message; the rules refuse what is not a document.
        self.assertEqual(self.upload(Role.WORKER, PNG, "shot.png").json()["text"], "")
        self.assert_problem(self.upload(Role.BASIC, HTML, "page.pdf"), 400, code="unsupported_file")
        self.assertEqual(
            self.clients[Role.BASIC].get(f"{self.path}messages/1/file/").status_code, 200
        )
        self.assertEqual(
            self.clients[Role.BASIC].get(f"{self.path}messages/9/file/").status_code, 404
        )
        # An internal note's file is the agents' only.
        note = self.upload(Role.WORKER, PDF, internal="true").json()
        self.assertEqual(self.clients[Role.BASIC].get(note["attachment"]["url"]).status_code, 404)
        self.assertEqual(self.clients[Role.ADMIN].get(note["attachment"]["url"]).status_code, 200)
        # Deleted: the tombstone has no file, and the stored file is gone.
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(
                self.clients[Role.BASIC].delete(f"{self.path}messages/1/").status_code, 204
            )
        self.assertFalse(stored.storage.exists(stored.name))
        listed = self.clients[Role.BASIC].get(f"{self.path}messages/").json()["results"]
        self.assertIsNone(listed[0]["attachment"])
        self.assertEqual(
            self.clients[Role.BASIC].get(f"{self.path}messages/1/file/").status_code, 404
        )
        # Deleting the chat removes its files.
        kept = Message.objects.get(pk=note["id"]).file
        self.assertTrue(kept.storage.exists(kept.name))
        self.assertEqual(self.clients[Role.ADMIN].delete(self.path).status_code, 204)
        self.assertFalse(kept.storage.exists(kept.name))

    def test_another_organizations_chat_takes_no_file(self):
        theirs = chat(self.other, 9, status=Chat.Status.OPEN)
        body = {"file": SimpleUploadedFile("x.pdf", PDF)}
        response = self.clients[Role.ADMIN].post(
            f"{URL}{theirs.pk}/attachments/", body, format="multipart"
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Message.objects.filter(chat=theirs).exists())

    def test_agents_move_a_chat_between_open_and_pending_only(self):
        agent, member = self.clients[Role.WORKER], self.clients[Role.BASIC]
        pending = agent.patch(self.path, {"status": "pending"}, format="json")
        self.assertEqual((pending.status_code, pending.json()["status"]), (200, "pending"))
        listed = agent.get(URL, {"status": "pending"}).json()["results"]
        self.assertEqual([c["id"] for c in listed], [self.chat["id"]])
        self.assert_problem(
            member.patch(self.path, {"status": "open"}, format="json"), 400, field="status"
        )
        self.assert_problem(
            agent.patch(self.path, {"status": "closed"}, format="json"), 400, field="status"
        )
        # The same status from a member is no change, so no refusal.
        self.assertEqual(
            member.patch(self.path, {"status": "pending"}, format="json").status_code, 200
        )
        self.assertEqual(
            agent.patch(self.path, {"status": "open"}, format="json").json()["status"], "open"
        )
        agent.post(f"{self.path}close/")
        self.assert_problem(
            agent.patch(self.path, {"status": "pending"}, format="json"), 409, code="chat_closed"
        )
