"""The beat schedule (in code) and the scheduled jobs it sends, run as beat sends them."""

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import TestCase, override_settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from valar.accounts.models import SignInCounter, User
from valar.celery import app as celery_app
from valar.core.jobs import JobTask
from valar.jobs.models import Job
from valar.jobs.tasks import prune_finished


class ScheduleTests(TestCase):
    """Every scheduled task is a registered job; a message without a job id records its row."""

    def test_every_scheduled_task_is_a_registered_job(self):
        self.assertTrue(settings.CELERY_BEAT_SCHEDULE)
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            with self.subTest(name=name):
                self.assertIsInstance(celery_app.tasks[entry["task"]], JobTask)

    def test_the_prune_deletes_finished_jobs_older_than_the_retention_only(self):
        now = timezone.now()
        old = now - datetime.timedelta(days=settings.JOBS_RETENTION_DAYS + 1)
        recent = now - datetime.timedelta(days=1)
        keep = [
            Job.objects.create(kind="k", state="succeeded", finished_at=recent),
            Job.objects.create(kind="k", state="queued"),
            Job.objects.create(kind="k", state="running", started_at=old),
        ]
        for state in Job.FINISHED:
            Job.objects.create(kind="k", state=state, finished_at=old)
        prune_finished.apply()  # as beat sends it: no job id, no parameters
        run = Job.objects.get(kind="jobs.prune_finished")
        self.assertEqual((run.state, run.organization, run.started_by), ("succeeded", None, None))
        self.assertEqual(run.result, {"deleted": 3})
        self.assertEqual(set(Job.objects.exclude(pk=run.pk)), set(keep))

    @override_settings(JOBS_RETENTION_DAYS=0)
    def test_the_retention_is_a_setting(self):
        Job.objects.create(kind="k", state="failed", finished_at=timezone.now())
        prune_finished.apply()
        self.assertEqual(Job.objects.get(kind="jobs.prune_finished").result, {"deleted": 1})

    def test_the_account_prune_deletes_only_what_can_no_longer_be_used(self):
        now = timezone.now()
        user = User.objects.create_user(email="p@example.com", password="x-Long-pass-42")
        Session.objects.create(session_key="a" * 32, session_data="", expire_date=now)
        Session.objects.create(
            session_key="b" * 32, session_data="", expire_date=now + datetime.timedelta(hours=1)
        )
        for jti, expires in (("old", now), ("new", now + datetime.timedelta(days=1))):
            OutstandingToken.objects.create(
                user=user, jti=jti, token=jti, expires_at=expires - datetime.timedelta(seconds=1)
            )
        cooled = now - settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1)
        SignInCounter.objects.create(key="unknown:1", failures=5, last_attempt_at=cooled)
        SignInCounter.objects.create(key="unknown:2", failures=5, last_attempt_at=now)
        celery_app.tasks["accounts.prune_expired"].apply()
        run = Job.objects.get(kind="accounts.prune_expired")
        self.assertEqual(run.result, {"sessions": 1, "refresh_tokens": 1, "sign_in_counters": 1})
        self.assertEqual(list(Session.objects.values_list("session_key", flat=True)), ["b" * 32])
        self.assertEqual(list(OutstandingToken.objects.values_list("jti", flat=True)), ["new"])
        self.assertEqual(list(SignInCounter.objects.values_list("key", flat=True)), ["unknown:2"])
