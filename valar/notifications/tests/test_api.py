"""``/api/v1/notifications/``: own only, read marks, unread counts, admins' sends, e-mails."""

import datetime
from unittest import mock

from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem as mail_backend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from valar.audit.models import AuditEvent
from valar.core.mail import MailUnavailable
from valar.core.notify import deliver_due_emails, deliver_notification_emails, notify
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import ROLES, TenantFixtureMixin
from valar.jobs.models import Job
from valar.jobs.services import job_task
from valar.notifications.models import Notification
from valar.organizations.models import Membership, Team, TeamMembership

URL = "/api/v1/notifications/"


class NotificationApiTests(TenantFixtureMixin, ApiTestCase):
    """The caller's own notifications, in the request's organization only."""

    def note(self, user, organization=None, **extra):
        """One notification for ``user`` (in ``org`` by default)."""
        [row] = notify(
            organization=organization or self.org,
            recipients=[user],
            title=extra.pop("title", "Hello"),
            kind=extra.pop("kind", "tasks"),
            **extra,
        )
        return row

    def test_every_role_lists_only_its_own_notifications(self):
        mine = {role: self.note(self.users[role], title=f"For {role}") for role in ROLES}
        for role in ROLES:
            with self.subTest(role=role):
                response = self.clients[role].get(URL)
                self.assertEqual(response.status_code, 200, response.content)
                ids = [row["id"] for row in response.json()["results"]]
                self.assertEqual(ids, [str(mine[role].pk)])

    def test_another_users_notification_is_a_404_on_every_verb(self):
        theirs = self.note(self.users[Role.WORKER])
        for role in (Role.ADMIN, Role.MANAGER, Role.BASIC, Role.CLIENT):
            with self.subTest(role=role):
                client = self.clients[role]
                self.assert_problem(client.get(f"{URL}{theirs.pk}/"), 404)
                self.assert_problem(client.post(f"{URL}{theirs.pk}/read/"), 404)
        theirs.refresh_from_db()
        self.assertIsNone(theirs.read_at)

    def test_another_organizations_notification_is_a_404_and_never_listed(self):
        # The admin of B is also a member of A: their B notification is not in A's answers.
        Membership.objects.create(organization=self.org, user=self.other_admin, role="basic")
        in_b = self.note(self.other_admin, organization=self.other)
        in_a = self.note(self.other_admin)
        client = self.other_client
        org_a = {"HTTP_X_ORGANIZATION": str(self.org.pk)}
        self.assertEqual(
            [row["id"] for row in client.get(URL, **org_a).json()["results"]], [str(in_a.pk)]
        )
        self.assert_problem(client.get(f"{URL}{in_b.pk}/", **org_a), 404)
        self.assert_problem(client.post(f"{URL}{in_b.pk}/read/", **org_a), 404)
        self.assertEqual(client.get(f"{URL}unread-count/", **org_a).json(), {"unread": 1})
        self.assertEqual(client.get(f"{URL}unread-count/").json(), {"unread": 1})
        self.assertEqual(client.post(f"{URL}read-all/", **org_a).json(), {"updated": 1})
        in_b.refresh_from_db()
        self.assertIsNone(in_b.read_at)

    def test_reading_marks_once_and_the_unread_filter_and_count_follow(self):
        worker = self.clients[Role.WORKER]
        first = self.note(self.users[Role.WORKER], title="First")
        self.note(self.users[Role.WORKER], title="Second")
        self.assertEqual(worker.get(f"{URL}unread-count/").json(), {"unread": 2})

        read = worker.post(f"{URL}{first.pk}/read/")
        self.assertEqual(read.status_code, 200, read.content)
        read_at = read.json()["read_at"]
        self.assertIsNotNone(read_at)
        self.assertEqual(worker.post(f"{URL}{first.pk}/read/").json()["read_at"], read_at)

        unread = worker.get(URL, {"unread": "true"}).json()["results"]
        self.assertEqual([row["title"] for row in unread], ["Second"])
        done = worker.get(URL, {"unread": "false"}).json()["results"]
        self.assertEqual([row["title"] for row in done], ["First"])
        self.assertEqual(worker.get(f"{URL}unread-count/").json(), {"unread": 1})
        self.assert_problem(worker.get(URL, {"unread": "yes"}), 400)

        self.assertEqual(worker.post(f"{URL}read-all/").json(), {"updated": 1})
        self.assertEqual(worker.get(f"{URL}unread-count/").json(), {"unread": 0})

    def test_read_all_leaves_other_users_notifications_unread(self):
        theirs = self.note(self.users[Role.MANAGER])
        self.note(self.users[Role.WORKER])
        self.clients[Role.WORKER].post(f"{URL}read-all/")
        theirs.refresh_from_db()
        self.assertIsNone(theirs.read_at)

    def test_notify_drops_recipients_who_are_not_members(self):
        rows = notify(
            organization=self.org,
            recipients=[self.users[Role.WORKER], self.other_admin, self.users[Role.WORKER].pk],
            title="Members only",
            kind="tasks",
        )
        self.assertEqual([row.user_id for row in rows], [self.users[Role.WORKER].pk])
        self.assertFalse(Notification.objects.filter(user=self.other_admin).exists())


class NotificationSendTests(TenantFixtureMixin, ApiTestCase):
    """``notifications/send/``: admins only, recipients of the organization only."""

    url = f"{URL}send/"

    def test_only_admins_may_send(self):
        body = {"title": "Hi", "everyone": True}
        for role in ROLES:
            with self.subTest(role=role):
                response = self.clients[role].post(self.url, body, format="json")
                if role == Role.ADMIN:
                    self.assertEqual(response.status_code, 201, response.content)
                    self.assertEqual(response.json(), {"recipients": len(ROLES)})
                else:
                    self.assert_problem(response, 403)
        self.assertEqual(Notification.objects.count(), len(ROLES))

    def test_users_and_teams_get_it_once_each_and_the_send_is_audited(self):
        team = Team.objects.create(organization=self.org, name="Ops")
        for role in (Role.WORKER, Role.BASIC):
            TeamMembership.objects.create(team=team, user=self.users[role])
        response = self.clients[Role.ADMIN].post(
            self.url,
            {
                "title": "Standup",
                "body": "At ten.",
                "link": "/api/v1/tasks/",
                "level": "warning",
                "users": [str(self.users[Role.WORKER].pk), str(self.users[Role.MANAGER].pk)],
                "teams": [str(team.pk)],
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json(), {"recipients": 3})
        got = Notification.objects.filter(organization=self.org)
        self.assertEqual(
            sorted(got.values_list("user__email", flat=True)),
            ["basic@org.test", "manager@org.test", "worker@org.test"],
        )
        self.assertEqual(set(got.values_list("level", "kind")), {("warning", "announcements")})
        event = AuditEvent.objects.get(action="notification.send")
        self.assertEqual(event.actor, self.users[Role.ADMIN])
        self.assertEqual(event.changes["recipients"], 3)

    def test_ids_of_another_organization_are_a_400_and_nothing_is_sent(self):
        foreign_team = Team.objects.create(organization=self.other, name="Theirs")
        client = self.clients[Role.ADMIN]
        cases = {
            "users": {"title": "x", "users": [str(self.other_admin.pk)]},
            "teams": {"title": "x", "teams": [str(foreign_team.pk)]},
        }
        for field, body in cases.items():
            with self.subTest(field=field):
                self.assert_problem(client.post(self.url, body, format="json"), 400, field=field)
        # A mix of good and foreign ids: all or nothing.
        mixed = {"title": "x", "users": [str(self.users[Role.WORKER].pk), str(self.other_admin.pk)]}
        self.assert_problem(client.post(self.url, mixed, format="json"), 400, field="users")
        self.assertFalse(Notification.objects.exists())

    def test_the_other_organizations_admin_cannot_reach_this_organizations_members(self):
        body = {"title": "Phish", "users": [str(self.users[Role.WORKER].pk)]}
        self.assert_problem(self.other_client.post(self.url, body, format="json"), 400)
        sent = self.other_client.post(self.url, {"title": "Ours", "everyone": True}, format="json")
        self.assertEqual(sent.json(), {"recipients": 1})
        self.assertFalse(Notification.objects.filter(organization=self.org).exists())
        self.assertFalse(
            Notification.objects.exclude(user=self.other_admin).filter(title="Ours").exists()
        )

    def test_no_recipients_or_a_script_link_is_a_400(self):
        client = self.clients[Role.ADMIN]
        self.assert_problem(client.post(self.url, {"title": "x"}, format="json"), 400)
        for link in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x"):
            with self.subTest(link=link):
                body = {"title": "x", "everyone": True, "link": link}
                self.assert_problem(client.post(self.url, body, format="json"), 400, field="link")

    def test_sending_to_a_team_of_50_takes_as_many_queries_as_to_a_team_of_5(self):
        def send_to_team(size: int) -> int:
            team = Team.objects.create(organization=self.org, name=f"Team {size}")
            for index in range(size):
                user = self.make_user(f"m{size}-{index}@org.test")
                Membership.objects.create(organization=self.org, user=user, role="basic")
                TeamMembership.objects.create(team=team, user=user)
            with CaptureQueriesContext(connection) as queries:
                response = self.clients[Role.ADMIN].post(
                    self.url, {"title": "Team", "teams": [str(team.pk)]}, format="json"
                )
            self.assertEqual(response.json(), {"recipients": size})
            return len(queries)

        send_to_team(1)  # warms the token's last use and the membership cache entry
        small, large = send_to_team(5), send_to_team(50)
        self.assertEqual(small, large)
        self.assertLessEqual(large, 12)


class NotificationEmailTests(TenantFixtureMixin, ApiTestCase):
    """E-mails after the commit, to verified, active users who did not opt out."""

    def test_emails_go_after_commit_to_verified_users_who_did_not_opt_out(self):
        worker, basic, manager = (self.users[r] for r in (Role.WORKER, Role.BASIC, Role.MANAGER))
        now = timezone.now()
        for user in (worker, basic):
            user.email_verified_at = now
        basic.preferences = {"notification_opt_outs": ["tasks"]}
        worker.save()
        basic.save()
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            notify(
                organization=self.org,
                recipients=[worker, basic, manager],
                title="Review",
                body="Please look.",
                link="/api/v1/tasks/",
                kind="tasks",
            )
        self.assertEqual(mail.outbox, [])
        for callback in callbacks:
            callback()
        self.assertEqual([message.to for message in mail.outbox], [[worker.email]])
        self.assertEqual(mail.outbox[0].subject, "[Org] Review")
        self.assertIn("http://127.0.0.1:8000/api/v1/tasks/", mail.outbox[0].body)
        # Sent by the platform job `notifications.email`, which no organization lists.
        job = Job.objects.get(kind="notifications.email")
        self.assertEqual(
            (job.state, job.result, job.organization_id), ("succeeded", {"sent": 1}, None)
        )
        listed = self.clients[Role.ADMIN].get("/api/v1/jobs/").json()
        self.assertEqual(listed["count"], 0)

    def test_an_unreachable_mail_server_is_tried_again_and_nothing_is_sent_twice(self):
        worker = self.users[Role.WORKER]
        worker.email_verified_at = timezone.now()
        worker.save()
        [row] = notify(organization=self.org, recipients=[worker], title="x", kind="tasks")
        task = job_task("notifications.email")
        with mock.patch.object(
            mail_backend.EmailBackend, "open", side_effect=ConnectionRefusedError("down")
        ):
            with self.assertRaises(MailUnavailable):
                deliver_notification_emails([row.pk], retry=True)
            # Without retry (a caller that cannot wait) it is logged, never raised.
            with self.assertLogs("valar.mail", "ERROR"):
                self.assertEqual(deliver_notification_emails([row.pk]), 0)
        self.assertIn(MailUnavailable, task.retry_for)
        self.assertEqual(mail.outbox, [])
        self.assertEqual(deliver_notification_emails([row.pk], retry=True), 1)
        self.assertEqual(len(mail.outbox), 1)

    def test_an_inactive_user_gets_no_email(self):
        worker = self.users[Role.WORKER]
        worker.email_verified_at, worker.is_active = timezone.now(), False
        worker.save()
        [row] = notify(organization=self.org, recipients=[worker], title="x", kind="tasks")
        self.assertEqual(deliver_notification_emails([row.pk]), 0)
        self.assertEqual(mail.outbox, [])

    def test_a_delayed_email_goes_when_due_only_if_still_unread_and_survives_a_mail_outage(self):
        worker, manager = self.users[Role.WORKER], self.users[Role.MANAGER]
        for user in (worker, manager):
            user.email_verified_at = timezone.now()
            user.save()
        wait = datetime.timedelta(minutes=10)
        with self.captureOnCommitCallbacks(execute=True):
            rows = notify(
                organization=self.org,
                recipients=[worker, manager],
                title="Chat",
                kind="support",
                email_after=wait,
            )
        # No e-mail job now; nothing is due before ten minutes.
        self.assertFalse(Job.objects.filter(kind="notifications.email").exists())
        self.assertEqual(deliver_due_emails(), {"due": 0, "sent": 0})
        by_user = {row.user_id: row for row in rows}
        Notification.objects.filter(pk=by_user[manager.pk].pk).update(read_at=timezone.now())
        later = timezone.now() + wait + datetime.timedelta(seconds=1)
        with mock.patch.object(
            mail_backend.EmailBackend, "open", side_effect=ConnectionRefusedError("down")
        ):
            with self.assertRaises(MailUnavailable):
                deliver_due_emails(now=later)
        # The outage changed nothing: the next run sends the unread one, once.
        self.assertEqual(deliver_due_emails(now=later), {"due": 2, "sent": 1})
        self.assertEqual([message.to for message in mail.outbox], [[worker.email]])
        self.assertEqual(deliver_due_emails(now=later), {"due": 0, "sent": 0})
        self.assertEqual(Notification.objects.filter(email_due_at__isnull=False).count(), 0)
        # The beat job runs the same function.
        self.assertIn(
            "notifications.email_due", {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
        )
