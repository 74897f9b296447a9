"""The job base class in eager mode: bookkeeping, failure, retry, cancel, progress, hooks."""

from unittest import mock

from django.test import TestCase

from valar.accounts.models import User
from valar.core.errors import DomainError
from valar.core.jobs import JobTask, error_message
from valar.jobs import services
from valar.jobs.models import Job
from valar.jobs.tests import probes
from valar.organizations.services import organization_create
from valar.tasks.models import Task


class JobTaskTests(TestCase):
    """Each job is run eagerly right after the transaction that started it commits."""

    def setUp(self) -> None:
        """An organization and its admin."""
        self.user = User.objects.create_user(email="admin@jobs.test", password="x-Long-pass-42")
        self.org = organization_create(name="Jobs", actor=self.user)

    def start(self, kind: str, **params) -> Job:
        """Start a job as the admin, run it (eagerly, on commit) and return its row."""
        with self.captureOnCommitCallbacks(execute=True):
            job = services.job_start(organization=self.org, user=self.user, kind=kind, **params)
        job.refresh_from_db()
        return job

    def test_a_job_that_returns_succeeds_with_its_result_and_its_write(self):
        job = self.start("probes.write", title="Written")
        self.assertEqual(job.state, Job.State.SUCCEEDED)
        self.assertEqual(job.progress, 100)
        self.assertEqual(job.attempts, 1)
        self.assertEqual(job.error, "")
        self.assertEqual(job.params, {"title": "Written"})
        self.assertIsNotNone(job.started_at)
        self.assertGreaterEqual(job.finished_at, job.started_at)
        self.assertTrue(job.task_id)
        task = Task.objects.get(pk=job.result["task"])
        self.assertEqual((task.title, task.organization_id), ("Written", self.org.pk))
        self.assertEqual(job.started_by, self.user)

    def test_a_job_that_raises_fails_with_its_message_and_leaves_no_write(self):
        job = self.start("probes.write", title="Half", fail="the ledger is closed")
        self.assertEqual(job.state, Job.State.FAILED)
        self.assertEqual(job.error, "ValueError: the ledger is closed")
        self.assertIsNone(job.result)
        self.assertIsNotNone(job.finished_at)
        self.assertFalse(Task.objects.filter(title="Half").exists())

    def test_the_member_who_started_a_job_is_notified_when_it_ends(self):
        from valar.notifications.models import Notification

        done = self.start("probes.write", title="Written")
        failed = self.start("probes.write", title="Half", fail="the ledger is closed")
        notes = {n.link: n for n in Notification.objects.filter(kind="jobs", user=self.user)}
        self.assertEqual(set(notes), {f"/api/v1/jobs/{done.pk}/", f"/api/v1/jobs/{failed.pk}/"})
        self.assertEqual(notes[f"/api/v1/jobs/{done.pk}/"].level, "success")
        failure = notes[f"/api/v1/jobs/{failed.pk}/"]
        self.assertEqual((failure.level, failure.body), ("error", failed.error))
        self.assertEqual({n.organization_id for n in notes.values()}, {self.org.pk})

    def test_metrics_count_job_records_by_kind_and_state(self):
        from valar.ops.tests.test_metrics import scrape, value

        self.start("probes.write", title="Written")
        self.start("probes.write", title="Half", fail="the ledger is closed")
        samples = scrape()
        for state in ("succeeded", "failed"):
            self.assertEqual(value(samples, "valar_jobs", kind="probes.write", state=state), 1)

    def test_a_domain_error_is_recorded_with_its_own_message(self):
        job = self.start("probes.write", domain_error="Nothing to import.")
        self.assertEqual((job.state, job.error), (Job.State.FAILED, "Nothing to import."))

    def test_progress_is_recorded_while_the_job_runs_and_ends_at_100(self):
        job = self.start("probes.write", progress=[25, 60, 250])
        self.assertEqual(job.result["progress_seen"], [25, 60, 100])
        self.assertEqual(job.progress, 100)

    def test_an_idempotent_job_is_retried_until_it_succeeds_and_counts_its_attempts(self):
        job = self.start("probes.flaky", failures=2)
        self.assertEqual(job.state, Job.State.SUCCEEDED)
        self.assertEqual(job.attempts, 3)
        self.assertEqual(job.result, {"attempts": 3})
        self.assertEqual(job.error, "")

    def test_a_job_that_keeps_failing_fails_after_its_retries(self):
        job = self.start("probes.flaky", failures=10)
        self.assertEqual(job.state, Job.State.FAILED)
        self.assertEqual(job.attempts, 4)  # the first attempt and max_retries (3) more
        self.assertEqual(job.error, "ConnectionError: attempt 4 failed")

    def test_a_job_without_retry_for_is_not_retried(self):
        job = self.start("probes.write", fail="once")
        self.assertEqual(job.attempts, 1)

    def test_the_backoff_doubles_per_retry_up_to_its_maximum(self):
        task = probes.flaky
        delays = []
        for retries in range(12):
            task.push_request(retries=retries)
            try:
                delays.append(task._backoff())
            finally:
                task.pop_request()
        self.assertEqual(delays[:4], [1, 2, 4, 8])
        self.assertEqual(delays[-1], task.retry_backoff_max)

    def test_a_retrying_job_is_queued_again_with_the_attempt_s_error(self):
        sent = []
        with mock.patch.object(
            JobTask, "retry", side_effect=lambda **kwargs: sent.append(kwargs) or RuntimeError()
        ):
            job = self.start("probes.flaky", failures=1)
        self.assertEqual(job.state, Job.State.QUEUED)
        self.assertEqual(job.attempts, 1)
        self.assertEqual(job.error, "ConnectionError: attempt 1 failed")
        self.assertEqual(sent[0]["countdown"], 1)
        self.assertEqual(sent[0]["kwargs"], {"failures": 1, "job_id": str(job.pk)})

    def test_a_cancelled_job_is_never_run(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            job = services.job_start(
                organization=self.org, user=self.user, kind="probes.write", title="Never"
            )
        services.job_cancel(job=job)
        for callback in callbacks:
            callback()
        job.refresh_from_db()
        self.assertEqual((job.state, job.attempts), (Job.State.CANCELLED, 0))
        self.assertIsNone(job.started_at)
        self.assertFalse(Task.objects.filter(title="Never").exists())

    def test_a_job_that_sees_its_cancel_is_rolled_back_and_cancelled(self):
        def cancel_then_look(task, percent):
            Job.objects.filter(pk=task.job.pk).update(state=Job.State.CANCELLED)
            return original(task, percent)

        original = JobTask.progress
        with mock.patch.object(JobTask, "progress", autospec=True, side_effect=cancel_then_look):
            job = self.start("probes.write", title="Stopped", check_cancel=True)
        self.assertEqual(job.state, Job.State.CANCELLED)
        self.assertIsNotNone(job.finished_at)
        self.assertFalse(Task.objects.filter(title="Stopped").exists())

    def test_cancelling_a_finished_job_is_a_conflict(self):
        job = self.start("probes.write")
        with self.assertRaises(DomainError) as caught:
            services.job_cancel(job=job)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "job_finished"))

    def test_on_finished_is_called_once_with_the_committed_outcome(self):
        seen = []
        with mock.patch.object(
            JobTask, "on_finished", autospec=True, side_effect=lambda task, job: seen.append(job)
        ):
            self.start("probes.write")
            self.start("probes.write", fail="no")
        self.assertEqual([job.state for job in seen], ["succeeded", "failed"])

    def test_a_failing_on_finished_hook_does_not_change_the_outcome(self):
        with (
            mock.patch.object(JobTask, "on_finished", side_effect=RuntimeError("hook")),
            self.assertLogs("valar.jobs", "ERROR"),
        ):
            job = self.start("probes.write")
        self.assertEqual(job.state, Job.State.SUCCEEDED)

    def test_a_job_the_broker_cannot_take_fails_with_that_reason(self):
        with (
            mock.patch.object(probes.write, "apply_async", side_effect=ConnectionError("down")),
            self.assertLogs("valar.jobs", "ERROR"),
        ):
            job = self.start("probes.write")
        self.assertEqual(job.state, Job.State.FAILED)
        self.assertEqual(job.error, "The job could not be queued: ConnectionError.")

    def test_no_row_and_no_message_when_the_starting_transaction_rolls_back(self):
        from django.db import transaction

        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    services.job_start(organization=self.org, user=self.user, kind="probes.write")
                    raise RuntimeError("the caller failed")
            except RuntimeError:
                pass
        self.assertEqual(callbacks, [])
        self.assertFalse(Job.objects.exists())

    def test_an_unknown_kind_is_refused(self):
        with self.assertRaises(ValueError):
            services.job_start(organization=self.org, user=self.user, kind="no.such.job")
        with self.assertRaises(ValueError):
            services.job_start(organization=self.org, user=self.user, kind="celery.ping")

    def test_jobs_take_keyword_parameters_only(self):
        with self.assertRaises(TypeError):
            probes.write(1)

    def test_celery_s_autoretry_is_refused_on_a_job(self):
        with self.assertRaises(TypeError):
            type("Bad", (JobTask,), {"autoretry_for": (OSError,)})

    def test_an_error_message_is_cut_to_its_maximum(self):
        self.assertEqual(len(error_message(ValueError("x" * 5000))), 2000)
        self.assertEqual(error_message(KeyError()), "KeyError")

    def test_parameters_the_job_does_not_take_are_refused_when_it_is_started(self):
        with self.assertRaises(ValueError):
            services.job_start(organization=self.org, user=self.user, kind="probes.write", x=1)
