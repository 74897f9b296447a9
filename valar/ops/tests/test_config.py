"""``ops/config/``: runtime settings for platform operators, used from the next request."""

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from valar.audit.models import AuditEvent
from valar.core import sysconfig
from valar.core.middleware import SESSION_SEEN, SESSION_STARTED
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.ops.services import config_update
from valar.tasks.models import Task

URL = "/api/v1/ops/config/"


class ConfigTestsMixin(TenantFixtureMixin):
    """An operator (a superuser outside every organization) beside the tenant fixture."""

    module = "tasks"

    def setUp(self) -> None:
        """Create the operator and a token client for them."""
        super().setUp()
        self.operator = self.make_user("ops@platform.test", is_superuser=True, is_staff=True)
        self.ops = self.token_client(self.operator)

    def patch(self, body: dict, client: APIClient | None = None):
        """``PATCH ops/config/`` as the operator (or ``client``)."""
        return (client or self.ops).patch(URL, body, format="json")

    def item(self, key: str) -> dict:
        """The operator's view of one key."""
        response = self.ops.get(f"{URL}{key}/")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()


class ConfigApiTests(ConfigTestsMixin, ApiTestCase):
    """Listing, reading, changing and resetting keys; validation; audit."""

    def test_the_list_shows_every_key_with_its_default_and_nobody_changed_it(self):
        response = self.ops.get(URL)
        self.assertEqual(response.status_code, 200, response.content)
        items = {item["key"]: item for item in response.json()}
        self.assertEqual(list(items), list(sysconfig.SETTINGS))
        page = items["page_size"]
        self.assertEqual(
            (page["value"], page["default_value"], page["overridden"]), (25, 25, False)
        )
        self.assertIsNone(page["updated_by"])
        self.assertEqual(items["throttle_user"]["value"], "1200/min")
        self.assertEqual(items["session_idle_timeout"]["value"], 8 * 3600)
        self.assertEqual(items["screening_match_threshold"]["group"], "screening")
        self.assertIn("organization sets its own", items["screening_cutoff"]["description"])

    def test_a_change_shows_its_author_and_time_and_keeps_the_default(self):
        response = self.patch({"page_size": 10, "throttle_anon": "60/min"})
        self.assertEqual(response.status_code, 200, response.content)
        page = self.item("page_size")
        self.assertEqual((page["value"], page["default_value"], page["overridden"]), (10, 25, True))
        self.assertEqual(page["updated_by"], str(self.operator.pk))
        self.assertEqual(page["updated_by_email"], self.operator.email)
        self.assertIsNotNone(page["updated_at"])
        self.assertEqual(self.item("throttle_anon")["value"], "60/min")

    def test_reset_returns_to_the_default_and_remembers_who_reset(self):
        self.patch({"page_size": 10})
        response = self.ops.post(f"{URL}page_size/reset/")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual((body["value"], body["overridden"]), (25, False))
        self.assertEqual(body["updated_by"], str(self.operator.pk))
        self.assertEqual(self.ops.post(f"{URL}page_size/reset/").status_code, 200)  # no-op

    def test_scores_are_stored_as_decimal_strings(self):
        response = self.patch({"screening_match_threshold": "0.9", "screening_cutoff": "0.25"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.item("screening_match_threshold")["value"], "0.9")
        self.assertEqual(sysconfig.value("screening_cutoff"), "0.25")

    def test_unknown_keys_are_a_400_naming_them_and_nothing_changes(self):
        body = self.assert_problem(self.patch({"page_size": 5, "color": "red"}), 400, field="color")
        self.assertEqual(body["errors"]["color"], ["Unknown setting."])
        self.assertFalse(self.item("page_size")["overridden"])
        self.assert_problem(self.ops.get(f"{URL}color/"), 404)

    def test_every_error_is_reported_at_once_under_its_key(self):
        body = self.assert_problem(
            self.patch({"colour": 1, "page_size": 0, "throttle_user": "10/week"}), 400
        )
        self.assertEqual(set(body["errors"]), {"colour", "page_size", "throttle_user"})
        self.assertTrue(body["errors"]["throttle_user"][0].startswith("Give a rate such as"))
        self.assert_problem(self.ops.post(f"{URL}color/reset/"), 404)

    def test_each_key_is_checked_against_its_schema(self):
        cases = {
            "page_size": [0, 101, "10", 2.5, True, None],
            "session_idle_timeout": [299, 30 * 86400 + 1],
            "throttle_user": ["0/min", "10/week", "ten/min", " 10/min", 10],
            "screening_match_threshold": ["1.1", "-0.1", "0.12345", 0.5, ".5"],
            "default_from_email": ["not an address", "a@b", "A <a@b.co", "a@b.co\nBcc: x@y.z"],
        }
        for key, values in cases.items():
            for value in values:
                with self.subTest(key=key, value=value):
                    body = self.assert_problem(self.patch({key: value}), 400, field=key)
                    self.assertEqual(list(body["errors"]), [key])
        self.assert_problem(self.patch({}), 400)
        self.assert_problem(self.ops.patch(URL), 400)  # no body at all
        self.assertEqual(AuditEvent.objects.filter(action__startswith="config.").count(), 0)

    def test_valid_mailboxes_are_accepted(self):
        for value in ("ops@example.com", "Valar Ops <ops@mail.example.co>", "O'Neil & Co <a@b.io>"):
            with self.subTest(value=value):
                self.assertEqual(self.patch({"default_from_email": value}).status_code, 200)

    def test_the_cutoff_may_not_exceed_the_match_threshold(self):
        body = self.assert_problem(
            self.patch({"screening_cutoff": "0.8", "screening_match_threshold": "0.6"}),
            400,
            field="screening_cutoff",
        )
        self.assertIn("screening_match_threshold", body["errors"]["screening_cutoff"][0])
        self.patch({"screening_cutoff": "0.6"})
        self.assert_problem(self.patch({"screening_match_threshold": "0.5"}), 400)

    def test_every_change_and_reset_is_audited_with_old_and_new_values(self):
        self.patch({"page_size": 10})
        self.patch({"page_size": 10})  # unchanged: no event
        self.ops.post(f"{URL}page_size/reset/")
        events = list(
            AuditEvent.objects.filter(action__startswith="config.").order_by("created_at")
        )
        self.assertEqual([e.action for e in events], ["config.update", "config.reset"])
        self.assertEqual(events[0].changes, {"value": {"old": 25, "new": 10}})
        self.assertEqual(events[1].changes, {"value": {"old": 10, "new": 25}})
        for event in events:
            self.assertEqual((event.actor, event.object_id), (self.operator, "page_size"))
            self.assertEqual(event.channel, "token")
            self.assertIsNone(event.organization_id)


class ConfigPermissionTests(ConfigTestsMixin, ApiTestCase):
    """Only platform operators: organization admins (of any organization) are refused."""

    def calls(self, client):
        """Every operation of ``ops/config/`` with ``client``."""
        return [
            client.get(URL),
            client.get(f"{URL}page_size/"),
            client.patch(URL, {"page_size": 1}, format="json"),
            client.post(f"{URL}page_size/reset/"),
        ]

    def test_members_of_every_role_and_the_other_organizations_admin_get_403(self):
        clients = {**self.clients, "other admin": self.other_client}
        for name, client in clients.items():
            for response in self.calls(client):
                with self.subTest(who=name, path=response.wsgi_request.path):
                    self.assert_problem(response, 403)
        self.assertFalse(self.item("page_size")["overridden"])

    def test_anonymous_callers_get_401(self):
        for response in self.calls(APIClient()):
            self.assert_problem(response, 401)

    def test_an_operator_signed_in_by_session_needs_csrf_like_any_write(self):
        csrf = self.session_login(self.operator)
        self.assert_problem(self.client.patch(URL, {"page_size": 9}, format="json"), 403)
        response = self.client.patch(URL, {"page_size": 9}, format="json", HTTP_X_CSRFTOKEN=csrf)
        self.assertEqual(response.status_code, 200, response.content)


class ConfigTakesEffectTests(ConfigTestsMixin, ApiTestCase):
    """A change is used by the very next request: throttles, page size, idle timeout, mail."""

    def test_the_default_page_size_changes_on_the_next_request(self):
        for index in range(12):
            Task.objects.create(organization=self.org, title=f"T{index}")
        client = self.clients[Role.ADMIN]
        self.assertEqual(len(client.get("/api/v1/tasks/").json()["results"]), 12)
        self.patch({"page_size": 5})
        body = client.get("/api/v1/tasks/").json()
        self.assertEqual((len(body["results"]), body["count"]), (5, 12))
        self.assertEqual(len(client.get("/api/v1/tasks/", {"page_size": 7}).json()["results"]), 7)
        self.ops.post(f"{URL}page_size/reset/")
        self.assertEqual(len(client.get("/api/v1/tasks/").json()["results"]), 12)

    def test_a_lower_user_rate_applies_to_the_next_request(self):
        client = self.clients[Role.WORKER]
        self.assertEqual(client.get("/api/v1/tasks/")["X-RateLimit-Limit"], "1200")
        self.patch({"throttle_user": "3/min"})
        first = client.get("/api/v1/tasks/")
        self.assertEqual(first["X-RateLimit-Limit"], "3")
        client.get("/api/v1/tasks/")
        client.get("/api/v1/tasks/")
        refused = client.get("/api/v1/tasks/")
        self.assert_problem(refused, 429)
        self.patch({"throttle_user": "100/min"})
        self.assertEqual(client.get("/api/v1/tasks/").status_code, 200)

    def test_an_anonymous_rate_change_is_seen_by_the_pipeline_that_counts(self):
        self.patch({"throttle_anon": "2/hour"})
        anonymous = APIClient()
        self.assertEqual(anonymous.get("/api/v1/")["X-RateLimit-Limit"], "2")
        anonymous.get("/api/v1/")
        self.assert_problem(anonymous.get("/api/v1/"), 429)

    def test_a_shorter_idle_timeout_ends_sessions_idle_longer_on_their_next_request(self):
        user = self.users[Role.WORKER]
        self.session_login(user)
        session = self.client.session
        now = timezone.now().timestamp()
        session[SESSION_STARTED] = now - 3600
        session[SESSION_SEEN] = now - 1800  # idle for half an hour
        session.save()
        self.assertEqual(self.client.get("/api/v1/auth/me/").status_code, 200)
        session = self.client.session
        session[SESSION_SEEN] = now - 1800
        session.save()
        self.patch({"session_idle_timeout": 900})
        self.assert_problem(self.client.get("/api/v1/auth/me/"), 401)

    def test_mail_goes_out_from_the_configured_sender(self):
        self.patch({"default_from_email": "Valar Ops <ops@example.com>"})
        anonymous = APIClient()
        csrf = anonymous.get("/api/v1/auth/csrf/").json()["csrf_token"]
        response = anonymous.post(
            "/api/v1/auth/password/reset/",
            {"email": self.users[Role.WORKER].email},
            HTTP_X_CSRFTOKEN=csrf,
            format="json",
        )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual([m.from_email for m in mail.outbox], ["Valar Ops <ops@example.com>"])

    def test_another_process_reloads_once_then_reads_nothing_more(self):
        client = self.clients[Role.ADMIN]
        client.get("/api/v1/tasks/")
        config_update(actor=self.operator, changes={"page_size": 3})
        sysconfig.clear_local()  # this process now stands for one whose copy predates it
        with CaptureQueriesContext(connection) as first:
            self.assertEqual(len(client.get("/api/v1/tasks/").json()["results"]), 0)
        with CaptureQueriesContext(connection) as second:
            client.get("/api/v1/tasks/")
        reads = [q["sql"] for q in first.captured_queries if "core_systemsetting" in q["sql"]]
        self.assertEqual(len(reads), 1)
        self.assertEqual(len(second.captured_queries), len(first.captured_queries) - 1)

    def test_a_change_outside_any_request_is_seen_by_code_outside_requests(self):
        config_update(actor=self.operator, changes={"page_size": 4})
        self.assertEqual(sysconfig.value("page_size"), 4)

    def test_a_stored_value_that_no_longer_fits_its_schema_falls_back_to_the_default(self):
        from valar.core.models import SystemSetting

        SystemSetting.objects.create(key="page_size", value=1000, updated_at=timezone.now())
        sysconfig.bump()
        self.assertEqual(sysconfig.value("page_size"), 25)
        self.assertFalse(self.item("page_size")["overridden"])

    def test_without_a_cache_the_database_answers_and_nothing_fails(self):
        from unittest import mock

        config_update(actor=self.operator, changes={"page_size": 2})
        sysconfig.clear_local()
        for index in range(3):
            Task.objects.create(organization=self.org, title=f"T{index}")
        client = self.clients[Role.ADMIN]
        with mock.patch("django.core.cache.cache.get_many", side_effect=ConnectionError("down")):
            with mock.patch("django.core.cache.cache.get", side_effect=ConnectionError("down")):
                response = client.get("/api/v1/tasks/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(len(response.json()["results"]), 2)


class OperatorThrottleTests(ConfigTestsMixin, ApiTestCase):
    """A user rate set too low never locks the operator out of undoing it."""

    def test_the_operator_can_reset_a_user_rate_that_throttles_everything_else(self):
        self.patch({"throttle_user": "1/day"})
        self.ops.get("/api/v1/auth/me/")
        self.assert_problem(self.ops.get("/api/v1/auth/me/"), 429)
        listed = self.ops.get(URL)
        self.assertEqual(listed.status_code, 200)
        self.assertEqual(listed["X-RateLimit-Limit"], "600")
        self.assertEqual(self.ops.post(f"{URL}throttle_user/reset/").status_code, 200)
        self.assertEqual(self.ops.get("/api/v1/auth/me/").status_code, 200)
