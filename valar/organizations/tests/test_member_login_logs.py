"""Tests of ``organizations/{id}/login-logs/``: members' sign-ins for the organization's admins."""

import csv
import io
from datetime import timedelta

from django.utils import timezone

from valar.accounts.models import LoginLog, User
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.organizations.models import Membership, Organization
from valar.organizations.services import organization_create

URL = "/api/v1/organizations/{org}/login-logs/"


def make_log(user: User | None, *, email: str = "", when=None, **extra) -> LoginLog:
    """Store one sign-in attempt (now, successful, by ``user``, unless told otherwise)."""
    fields = {
        "email": email or (user.email if user else "nobody@example.com"),
        "successful": True,
        "reason": LoginLog.Reason.SUCCESS,
        "ip_address": "203.0.113.5",
        "user_agent": "Mozilla/5.0",
        "platform": "web",
        **extra,
    }
    return LoginLog.objects.create(user=user, created_at=when or timezone.now(), **fields)


class MemberLoginLogResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """The generic tests: other organizations' rows are 404, the role matrix, the query count."""

    url = URL
    verbs = ("list", "retrieve")
    list_queries = 3

    def make_object(self, organization: Organization, index: int = 0):
        member = Membership.objects.filter(organization=organization).first().user
        return make_log(member, platform=f"web-{index}")


class MemberLoginLogTests(ApiTestCase):
    """Admins see their members' attempts since joining; never anyone else's."""

    def setUp(self) -> None:
        super().setUp()
        self.admin = self.make_user("admin@a.test")
        self.org = organization_create(name="A", actor=self.admin)
        self.worker = self.make_user("worker@a.test")
        self.join(self.worker, self.org, Role.WORKER)
        self.other_admin = self.make_user("admin@b.test")
        self.other = organization_create(name="B", actor=self.other_admin)
        self.api = self.token_client(self.admin)
        self.other_api = self.token_client(self.other_admin)

    @staticmethod
    def join(user: User, organization: Organization, role: str) -> Membership:
        return Membership.objects.create(
            organization=organization,
            user=user,
            role=role,
            modules=[],
            is_default=not Membership.objects.filter(user=user).exists(),
        )

    def ids(self, response) -> list[str]:
        self.assertEqual(response.status_code, 200, response.content)
        return [row["id"] for row in response.json()["results"]]

    def url(self, organization: Organization | None = None) -> str:
        return URL.format(org=(organization or self.org).pk)

    def test_rows_show_the_member_and_the_attempt(self):
        log = make_log(self.worker, successful=False, reason=LoginLog.Reason.BAD_CREDENTIALS)
        row = self.api.get(self.url()).json()["results"][0]
        self.assertEqual(row["id"], str(log.id))
        self.assertEqual(row["user"], str(self.worker.id))
        self.assertEqual(row["email"], "worker@a.test")
        self.assertEqual(row["reason"], "bad_credentials")
        self.assertEqual(
            set(row),
            {
                "id",
                "user",
                "created_at",
                "email",
                "successful",
                "reason",
                "ip_address",
                "user_agent",
                "platform",
            },
        )

    def test_organization_b_never_sees_organization_a_members_attempts(self):
        a_logs = [make_log(self.admin), make_log(self.worker)]
        b_log = make_log(self.other_admin)
        self.assertEqual(self.ids(self.other_api.get(self.url(self.other))), [str(b_log.id)])
        for log in a_logs:
            with self.subTest(log=log.email):
                response = self.other_api.get(f"{self.url(self.other)}{log.id}/")
                self.assert_problem(response, 404)
        self.assert_problem(self.other_api.get(self.url()), 404)
        self.assert_problem(self.other_api.get(f"{self.url()}{a_logs[0].id}/"), 404)
        self.assert_problem(self.other_api.get(f"{self.url()}export/"), 404)

    def test_attempts_from_before_joining_and_of_former_members_are_left_out(self):
        shared = self.make_user("shared@example.com")
        joined = self.join(shared, self.other, Role.WORKER)
        before = make_log(shared, when=joined.created_at - timedelta(minutes=1))
        after = make_log(shared, when=joined.created_at + timedelta(minutes=1))
        self.join(shared, self.org, Role.WORKER)
        a_only = make_log(shared)
        self.assertEqual(
            set(self.ids(self.other_api.get(self.url(self.other)))),
            {str(after.id), str(a_only.id)},
        )
        self.assertNotIn(str(before.id), self.ids(self.api.get(self.url())))
        Membership.objects.filter(user=shared, organization=self.other).delete()
        self.assertEqual(self.ids(self.other_api.get(self.url(self.other))), [])

    def test_unknown_emails_and_non_members_are_never_listed(self):
        make_log(None, email="admin@a.test", successful=False, reason="bad_credentials")
        make_log(None, email="ghost@a.test", successful=False, reason="bad_credentials")
        make_log(self.make_user("stranger@example.com"))
        mine = make_log(self.worker)
        self.assertEqual(self.ids(self.api.get(self.url())), [str(mine.id)])

    def test_filters_by_member_outcome_and_time(self):
        now = timezone.now().replace(microsecond=0)
        early = make_log(self.worker, when=now + timedelta(hours=1))
        failed = make_log(
            self.worker,
            when=now + timedelta(hours=2),
            successful=False,
            reason=LoginLog.Reason.LOCKED_OUT,
        )
        own = make_log(self.admin, when=now + timedelta(hours=3))
        cases = [
            ({"user": str(self.worker.id)}, [failed, early]),
            ({"user": "me"}, [own]),
            ({"successful": "false"}, [failed]),
            (
                {
                    "start_time": (now + timedelta(hours=1)).isoformat(),
                    "end_time": (now + timedelta(hours=2)).isoformat(),
                },
                [failed, early],
            ),
        ]
        for params, expected in cases:
            with self.subTest(params=params):
                response = self.api.get(self.url(), params)
                self.assertEqual(self.ids(response), [str(log.id) for log in expected])
        body = self.assert_problem(self.api.get(self.url(), {"user": "nobody"}), 400)
        self.assertIn("user", body["errors"])

    def test_only_admins_may_read_it(self):
        make_log(self.worker)
        manager = self.make_user("manager@a.test")
        self.join(manager, self.org, Role.MANAGER)
        for user in (manager, self.worker):
            with self.subTest(user=user.email):
                self.assert_problem(self.token_client(user).get(self.url()), 403)

    def test_the_export_has_the_members_rows_only(self):
        log = make_log(self.worker, user_agent='=HYPERLINK("http://evil.example")')
        make_log(None, email="ghost@a.test")
        make_log(self.other_admin)
        response = self.api.get(f"{self.url()}export/", {"format": "csv"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="login-logs.csv"')
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        self.assertEqual(rows[0][:2], ["id", "user"])
        self.assertEqual([row[0] for row in rows[1:]], [str(log.id)])
        self.assertEqual(rows[1][7], '\'=HYPERLINK("http://evil.example")')
