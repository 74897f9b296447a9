"""Jobs through a real Celery worker on Redis and the PostgreSQL test database (not eagerly).

Skipped, with the reason, without ``REDIS_URL`` or on SQLite. The class starts one worker
(``celery -A valar worker`` on a queue of its own, see ``core.testing.worker``) for all its
tests and stops it afterwards; rows are committed (``TransactionTestCase``) so the worker
sees them. Covers success, failure with its error, retry with backoff, progress seen while
the job runs, cancel of a queued and of a running job, tenant isolation of ``jobs/``, and
``ops/celery/`` reporting the worker.
"""

import os
import time
import unittest
import uuid
from contextlib import ExitStack

import redis
from django.conf import settings
from django.db import transaction
from django.test import TransactionTestCase
from rest_framework.test import APIClient

from valar.accounts.models import User
from valar.accounts.services import token_create
from valar.celery import app as celery_app
from valar.core.testing.jobs import celery_conf
from valar.core.testing.worker import running_worker, worker_unavailable_reason
from valar.jobs import services
from valar.jobs.models import Job
from valar.jobs.tests import probes  # noqa: F401  (registers the probe jobs here too)
from valar.organizations.services import organization_create
from valar.tasks.models import Task

SKIP_REASON = worker_unavailable_reason()
#: Seconds a job may take to reach the state a test waits for.
TIMEOUT = 30


@unittest.skipIf(SKIP_REASON, SKIP_REASON or "")
class RealWorkerTests(TransactionTestCase):
    """One worker for the class; each test starts jobs as an organization's members would."""

    @classmethod
    def setUpClass(cls) -> None:
        """Start the worker on this run's own queue, with the test probes loaded."""
        super().setUpClass()
        cls.queue = f"valar-test-{os.getpid()}"
        stack = ExitStack()
        cls.addClassCleanup(stack.close)
        stack.enter_context(celery_conf(task_always_eager=False, task_default_queue=cls.queue))
        cls.node = stack.enter_context(
            running_worker(cls.queue, include=("valar.jobs.tests.probes",))
        )
        cls.redis = redis.Redis.from_url(settings.REDIS_URL)
        stack.callback(cls.redis.close)

    def setUp(self) -> None:
        """Two organizations, each with an admin and an API token client."""
        super().setUp()
        self.admin = User.objects.create_user(email="admin@a.test", password="x-Long-pass-42")
        self.org = organization_create(name="A", actor=self.admin)
        self.other_admin = User.objects.create_user(email="admin@b.test", password="x-Long-pass-42")
        self.other = organization_create(name="B", actor=self.other_admin)
        self.client_a = self.api_client(self.admin)
        self.client_b = self.api_client(self.other_admin)
        self.operator = User.objects.create_user(
            email="op@platform.test", password="x-Long-pass-42", is_superuser=True
        )

    @staticmethod
    def api_client(user) -> APIClient:
        """A client signed in with a fresh API token of ``user``."""
        _, key = token_create(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    def start(self, kind: str = "probes.write", organization=None, **params) -> Job:
        """Start a job (committed at once: the message goes to the worker)."""
        return services.job_start(
            organization=organization or self.org, user=self.admin, kind=kind, **params
        )

    def wait(self, job: Job, condition, timeout: float = TIMEOUT) -> Job:
        """Poll the job's row until ``condition(row)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if condition(job):
                return job
            if time.monotonic() > deadline:
                self.fail(f"job {job.kind} stuck in {job.state} ({job.error!r})")
            time.sleep(0.05)

    def wait_state(self, job: Job, *states: str) -> Job:
        """Poll until the job is in one of ``states``."""
        return self.wait(job, lambda row: row.state in states)

    def wait_idle(self) -> None:
        """Wait until the worker runs nothing (so a rolled-back body has ended)."""
        deadline = time.monotonic() + TIMEOUT
        inspect = celery_app.control.inspect(destination=[self.node], timeout=1, limit=1)
        while (inspect.active() or {}).get(self.node):
            if time.monotonic() > deadline:
                self.fail("the worker never went idle")
            time.sleep(0.1)

    def key(self) -> str:
        """A fresh Redis key a waiting probe waits for."""
        key = f"valar-test:{uuid.uuid4().hex}"
        self.addCleanup(self.redis.delete, key, f"{key}:done")
        return key

    def test_a_job_succeeds_on_the_worker_with_its_result_and_write(self):
        job = self.wait_state(self.start(title="On the worker"), "succeeded")
        self.assertEqual((job.progress, job.attempts, job.error), (100, 1, ""))
        self.assertTrue(Task.objects.filter(pk=job.result["task"], organization=self.org).exists())
        body = self.client_a.get(f"/api/v1/jobs/{job.pk}/").json()
        self.assertEqual((body["state"], body["result"]), ("succeeded", job.result))

    def test_a_failing_job_records_its_error_and_leaves_no_write(self):
        job = self.wait_state(self.start(title="Half", fail="no ledger"), "failed")
        self.assertEqual(job.error, "ValueError: no ledger")
        self.assertIsNotNone(job.finished_at)
        self.assertFalse(Task.objects.filter(title="Half").exists())

    def test_a_retried_job_is_queued_with_its_error_between_attempts_then_succeeds(self):
        job = self.start("probes.flaky", failures=2)
        waiting = self.wait(job, lambda row: row.state == "queued" and row.attempts == 1)
        self.assertEqual(waiting.error, "ConnectionError: attempt 1 failed")
        job = self.wait_state(job, "succeeded", "failed")
        self.assertEqual((job.state, job.attempts, job.result), ("succeeded", 3, {"attempts": 3}))
        # Backoff: 1 s, then 2 s (retry_backoff=1, no jitter) between the three attempts.
        self.assertGreaterEqual((job.finished_at - job.started_at).total_seconds(), 3)

    def test_progress_is_visible_while_the_job_runs(self):
        key = self.key()
        job = self.start(progress=[40], wait_key=key)
        job = self.wait(job, lambda row: row.state == "running" and row.progress == 40)
        body = self.client_a.get(f"/api/v1/jobs/{job.pk}/").json()
        self.assertEqual((body["state"], body["progress"]), ("running", 40))
        self.redis.set(key, "1")
        job = self.wait_state(job, "succeeded")
        self.assertEqual(job.progress, 100)
        self.assertEqual(job.result["progress_seen"], [40])

    def test_a_running_job_that_is_cancelled_stops_and_keeps_nothing(self):
        for check_cancel in (True, False):
            with self.subTest(check_cancel=check_cancel):
                key = self.key()
                title = f"Cancelled {check_cancel}"
                job = self.wait_state(
                    self.start(title=title, wait_key=key, check_cancel=check_cancel), "running"
                )
                response = self.client_a.post(f"/api/v1/jobs/{job.pk}/cancel/")
                self.assertEqual(response.status_code, 200, response.content)
                self.redis.set(key, "1")
                self.wait_idle()
                job.refresh_from_db()
                self.assertEqual(job.state, "cancelled")
                self.assertFalse(Task.objects.filter(title=title).exists())

    def test_a_queued_job_that_is_cancelled_never_runs(self):
        with transaction.atomic():
            job = self.start(title="Never")
            services.job_cancel(job=job)
        marker = self.wait_state(self.start(title="After"), "succeeded")
        self.wait_idle()
        job.refresh_from_db()
        self.assertEqual((job.state, job.attempts, job.started_at), ("cancelled", 0, None))
        self.assertFalse(Task.objects.filter(title="Never").exists())
        self.assertEqual(marker.attempts, 1)

    def test_each_organization_sees_only_its_own_jobs(self):
        mine = self.wait_state(self.start(title="A's"), "succeeded")
        theirs = self.wait_state(self.start(title="B's", organization=self.other), "succeeded")
        self.assertEqual(
            [row["id"] for row in self.client_a.get("/api/v1/jobs/").json()["results"]],
            [str(mine.pk)],
        )
        self.assertEqual(
            [row["id"] for row in self.client_b.get("/api/v1/jobs/").json()["results"]],
            [str(theirs.pk)],
        )
        self.assertEqual(self.client_b.get(f"/api/v1/jobs/{mine.pk}/").status_code, 404)
        self.assertEqual(self.client_b.post(f"/api/v1/jobs/{mine.pk}/cancel/").status_code, 404)
        self.assertEqual(Task.objects.get(title="B's").organization, self.other)

    def test_ops_celery_shows_the_worker_its_running_job_and_the_queue(self):
        key = self.key()
        job = self.wait_state(self.start(wait_key=key), "running")
        body = self.api_client(self.operator).get("/api/v1/ops/celery/").json()
        self.redis.set(key, "1")
        self.assertEqual((body["eager"], body["broker"], body["reachable"]), (False, "redis", True))
        worker = next(row for row in body["workers"] if row["name"] == self.node)
        self.assertIn(str(job.pk), [task["job_id"] for task in worker["active"]])
        queue = next(row for row in body["queues"] if row["name"] == self.queue)
        self.assertIsInstance(queue["depth"], int)
        self.wait_state(job, "succeeded")
