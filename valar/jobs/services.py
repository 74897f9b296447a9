"""Job writes: start a job (row first, message on commit), cancel one, prune old ones.

The base task class (``valar.core.jobs.JobTask``) writes a running job's state; these are the
only other writes of the ``Job`` table.
"""

import datetime
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from valar.celery import app as celery_app
from valar.core.errors import Conflict
from valar.core.jobs import JobTask
from valar.jobs.models import Job

logger = logging.getLogger("valar.jobs")


def job_task(kind: str) -> JobTask:
    """The registered job named ``kind``; ``ValueError`` when there is none."""
    task = celery_app.tasks.get(kind)
    if not isinstance(task, JobTask):
        raise ValueError(f"No job is named {kind!r}.")
    return task


@transaction.atomic
def job_start(*, organization, user, kind: str, **params) -> Job:
    """Record a ``queued`` job of ``kind`` and send it to the workers once the caller commits.

    ``organization`` is the tenant the job works for (``None`` for a platform job), ``user``
    the member who started it (or ``None``), ``params`` the job's keyword parameters (JSON
    values). When the transaction of the caller rolls back, neither the row nor the message
    exists. In eager mode (no broker) the job runs in this process right after the commit.
    A broker that cannot be reached leaves the job ``failed`` with that reason.
    """
    try:
        job_task(kind).check_params(params)
    except TypeError as exc:
        raise ValueError(f"{kind}: {exc}") from exc
    job = Job.objects.create(
        organization=organization,
        started_by=user,
        kind=kind,
        params=params,
        task_id=str(uuid.uuid4()),
    )
    transaction.on_commit(lambda: _send(job.pk, kind, job.task_id, params))
    return job


def _send(job_id, kind: str, task_id: str, params: dict) -> None:
    """Publish the job's message (eager mode: run it now); record a publish failure."""
    try:
        job_task(kind).apply_async(
            kwargs={**params, "job_id": str(job_id)},
            task_id=task_id,
            queue=celery_app.conf.task_default_queue,
        )
    except Exception as exc:  # noqa: BLE001  the broker is unreachable: say so on the row
        logger.exception("job %s (%s) could not be queued", job_id, kind)
        now = timezone.now()
        Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
            state=Job.State.FAILED,
            error=f"The job could not be queued: {type(exc).__name__}.",
            finished_at=now,
            updated_at=now,
        )


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued or running job (409 when it has finished) and revoke its message.

    A queued job never starts; a running one stops at its next ``progress()`` or, at the
    latest, when its body ends: its transaction is rolled back (see ``valar.core.jobs``).
    """
    now = timezone.now()
    cancelled = Job.objects.filter(
        pk=job.pk, state__in=(Job.State.QUEUED, Job.State.RUNNING)
    ).update(state=Job.State.CANCELLED, finished_at=now, updated_at=now)
    job.refresh_from_db()
    if not cancelled:
        raise Conflict(f"The job has already {job.state}.", code="job_finished")
    if job.task_id and not celery_app.conf.task_always_eager:
        transaction.on_commit(lambda: _revoke(job.task_id))
    task = celery_app.tasks.get(job.kind)
    if isinstance(task, JobTask):
        transaction.on_commit(lambda: task.after_cancel(job))
    return job


def _revoke(task_id: str) -> None:
    """Tell the workers to drop the job's message (the row's state already stops it)."""
    try:
        celery_app.control.revoke(task_id)
    except Exception:  # noqa: BLE001  the cancelled state is what protects the job
        logger.warning("could not revoke task %s", task_id, exc_info=True)


def jobs_prune(*, days: int | None = None) -> int:
    """Delete finished jobs whose end is more than ``days`` (``JOBS_RETENTION_DAYS``) ago."""
    days = settings.JOBS_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted, _ = Job.objects.filter(state__in=Job.FINISHED, finished_at__lt=cutoff).delete()
    return deleted
