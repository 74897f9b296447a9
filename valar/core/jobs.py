"""The one base class of every background job: a Celery task that keeps its ``Job`` record.

A job is a function declared with :func:`job`; it receives the task (``self``) and its
keyword parameters (JSON values), does its work through the services, may call
``self.progress(n)``, and returns a JSON summary. Everything else is the base class's:

- it loads the job's row (``job_id``, from ``valar.jobs.services.job_start``), or creates one
  for a message that names none (a schedule of Celery beat), and refuses to run a job that
  is not ``queued`` (cancelled, or already run by a duplicate delivery);
- it marks the row ``running`` (``started_at``, ``attempts`` + 1, the Celery task id);
- it runs the body in one database transaction (``atomic = True``) whose last statement
  marks the row ``succeeded`` with the result and progress 100, so the body's writes and the
  success commit together or not at all;
- a body that raises leaves nothing written and ends ``failed`` with its message, unless
  the exception is one of the job's ``retry_for``: then the row goes back to ``queued``
  (``error`` tells why) and Celery runs it again after an exponential backoff
  (``retry_backoff`` seconds doubled per retry, at most ``retry_backoff_max``, with full
  jitter when ``retry_jitter``), up to ``max_retries`` times. Only idempotent jobs declare
  ``retry_for``;
- ``cancel`` (``valar.jobs.services.job_cancel``) moves the row to ``cancelled``; the base
  class never runs a cancelled job, ``self.progress()`` raises :class:`JobCancelled` in a
  running one, and a body that finishes after the cancel is rolled back (its final update
  finds the row no longer ``running``); a body may raise :class:`JobCancelled` itself to
  stop, which rolls it back and records the job ``cancelled``;
- :meth:`JobTask.on_finished` is called once the outcome is committed (``succeeded`` or
  ``failed``): by default it notifies the member who started the job (``core.notify``, kind
  ``jobs``); a scheduled job, which nobody started, notifies nobody.

Progress while the body's transaction is open is written on a second connection to the same
database (PostgreSQL), so readers see it at once; on SQLite, or when the job runs inside a
transaction that is already open (an eager job in a test), it is written on the job's own
connection. A long job that would rather commit in batches sets ``atomic = False`` and makes
each batch one transaction and the whole resumable.
"""

import inspect
import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from celery.utils.time import get_exponential_backoff_interval
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from valar.core import logs
from valar.core.errors import DomainError

logger = logging.getLogger("valar.jobs")

#: The longest error message a job's row keeps.
ERROR_MAX_LENGTH = 2000


class JobCancelled(Exception):
    """The job was cancelled while it ran: its transaction is rolled back, nothing is kept."""


def _job_model():
    """The ``Job`` model (``valar.jobs``; looked up late, the kernel sits below the apps)."""
    from valar.jobs.models import Job

    return Job


def error_message(exc: BaseException) -> str:
    """What a failed job's row says: a domain error's own message, else the exception's."""
    if isinstance(exc, DomainError):
        text = exc.message
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_MAX_LENGTH]


class JobTask(Task):
    """A Celery task that keeps its ``Job`` row; every job of Valar is one (see the module)."""

    #: Exceptions after which the job is run again (idempotent jobs only).
    retry_for: tuple[type[BaseException], ...] = ()
    max_retries = 3
    #: Seconds before the first retry; doubled for each further one.
    retry_backoff: float = 2
    retry_backoff_max: float = 600
    retry_jitter = True
    #: Run the body in one transaction with the success update (see the module).
    atomic = True
    #: Celery's own argument check would refuse ``job_id``; :meth:`check_params` does it.
    typing = False

    def __init_subclass__(cls, **kwargs):
        """Refuse Celery's ``autoretry_for``: it would retry inside the job's transaction."""
        super().__init_subclass__(**kwargs)
        if getattr(cls, "autoretry_for", ()):
            raise TypeError(f"{cls.__name__}: declare retry_for, not autoretry_for.")

    def check_params(self, params: dict) -> None:
        """Raise ``TypeError`` when the body does not take these keyword parameters."""
        inspect.signature(self.run).bind(**params)

    # -- what a job's body uses --------------------------------------------------------------

    @property
    def job(self):
        """The ``Job`` row of the running execution."""
        return self.request.valar_job

    def progress(self, percent: int) -> None:
        """Record how far the job is (0-100); raises :class:`JobCancelled` once it is cancelled.

        One UPDATE per call: call it per batch, not per row.
        """
        percent = max(0, min(100, int(percent)))
        job = self.job
        updated = self._update_running(job.pk, {"progress": percent})
        if not updated:
            raise JobCancelled(str(job.pk))
        job.progress = percent

    def on_cancelled(self, job) -> None:
        """Called once a cancel is committed (``valar.jobs.services.job_cancel``, or a body
        that stopped itself); by default nothing. A job that keeps a file for its run (an
        import) removes it here and in :meth:`on_finished`."""

    def on_finished(self, job) -> None:
        """Called once a job's outcome (``succeeded``/``failed``) is committed.

        Tells the member who started it, in the job's organization, that it finished (with
        its error when it failed); a job nobody started (a schedule's) tells nobody.
        """
        if job.organization_id is None or job.started_by_id is None:
            return
        from valar.core.notify import notify

        failed = job.state == "failed"
        notify(
            organization=job.organization,
            recipients=[job.started_by_id],
            title=f"Job {job.kind} {'failed' if failed else 'finished'}"[:200],
            body=job.error if failed else "",
            link=f"/api/v1/jobs/{job.pk}/",
            kind="jobs",
            level="error" if failed else "success",
        )

    # -- the bookkeeping -----------------------------------------------------------------

    def __call__(self, *args, job_id: str | None = None, **params) -> Any:
        """Run the job's body with its row kept up to date (see the module)."""
        if args:
            raise TypeError("Jobs take keyword parameters only.")
        job = self._begin(job_id, params)
        if job is None:
            return None
        self.request.valar_job = job
        self.request.valar_side = None
        try:
            with logs.bound(
                job_id=str(job.pk), job_kind=job.kind, organization=job.organization_id
            ):
                result = self._run_body(job, params)
        except JobCancelled:
            self._mark_cancelled(job)
            return None
        except Retry:
            raise
        except Exception as exc:
            if self._should_retry(exc) and self._mark_retrying(job, exc):
                raise self.retry(
                    kwargs={**params, "job_id": str(job.pk)},
                    exc=exc,
                    countdown=self._backoff(),
                    max_retries=self.max_retries,
                ) from exc
            self._mark_failed(job, exc)
            raise
        finally:
            self._close_side_connection()
        self._finished(job)
        return result

    def _begin(self, job_id: str | None, params: dict):
        """Mark the job ``running`` and return its row; ``None`` when it must not run."""
        Job = _job_model()
        now = timezone.now()
        task_id = self.request.id or ""
        if job_id is None:
            return Job.objects.create(
                kind=self.name,
                state=Job.State.RUNNING,
                params=params,
                task_id=task_id,
                attempts=1,
                started_at=now,
            )
        started = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
            state=Job.State.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
            task_id=task_id,
            updated_at=now,
        )
        if not started:
            logger.info("job %s (%s) not queued: not run", job_id, self.name)
            return None
        return Job.objects.select_related("organization", "started_by").get(pk=job_id)

    def _run_body(self, job, params: dict) -> Any:
        """The body, then the success update, in one transaction when ``atomic``."""
        if not self.atomic:
            result = self.run(**params)
            self._mark_succeeded(job, result)
            return result
        # Progress goes on a second connection only when the body's transaction is the
        # outermost one (another transaction would not see it before the end otherwise).
        self.request.valar_side_allowed = (
            connection.vendor == "postgresql" and not connection.in_atomic_block
        )
        with transaction.atomic():
            result = self.run(**params)
            self._mark_succeeded(job, result)
        return result

    def _mark_succeeded(self, job, result) -> None:
        """The row becomes ``succeeded``; :class:`JobCancelled` when it was cancelled meanwhile."""
        Job = _job_model()
        now = timezone.now()
        updated = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.SUCCEEDED,
            progress=100,
            result=result,
            error="",
            finished_at=now,
            updated_at=now,
        )
        if not updated:
            raise JobCancelled(str(job.pk))

    def _mark_cancelled(self, job) -> None:
        """Record a cancel seen while running (or a body that raised :class:`JobCancelled`)."""
        Job = _job_model()
        now = timezone.now()
        logger.info("job %s (%s) cancelled while running", job.pk, self.name)
        cancelled = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.CANCELLED, finished_at=now, updated_at=now
        )
        if cancelled:
            self.after_cancel(job)

    def after_cancel(self, job) -> None:
        """Call :meth:`on_cancelled` (its errors only logged)."""
        try:
            self.on_cancelled(job)
        except Exception:  # noqa: BLE001  a hook must not change the job's recorded outcome
            logger.exception("on_cancelled of job %s (%s) failed", job.pk, self.name)

    def _should_retry(self, exc: Exception) -> bool:
        """Whether ``exc`` is retried (declared in ``retry_for``, retries left)."""
        return (
            bool(self.retry_for)
            and isinstance(exc, self.retry_for)
            and (self.request.retries < self.max_retries)
        )

    def _backoff(self) -> int:
        """Seconds before the next attempt: exponential in the retries so far."""
        return get_exponential_backoff_interval(
            factor=self.retry_backoff,
            retries=self.request.retries,
            maximum=self.retry_backoff_max,
            full_jitter=self.retry_jitter,
        )

    def _mark_retrying(self, job, exc: Exception) -> bool:
        """Back to ``queued`` with the attempt's error; ``False`` when cancelled meanwhile."""
        Job = _job_model()
        return bool(
            Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.QUEUED, error=error_message(exc), updated_at=timezone.now()
            )
        )

    def _mark_failed(self, job, exc: Exception) -> None:
        """The row becomes ``failed`` with the error's message (unless cancelled meanwhile)."""
        Job = _job_model()
        now = timezone.now()
        logger.warning("job %s (%s) failed: %s", job.pk, self.name, exc)
        failed = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.FAILED, error=error_message(exc), finished_at=now, updated_at=now
        )
        if failed:
            self._finished(job)

    def _finished(self, job) -> None:
        """Reload the committed outcome and call :meth:`on_finished` (its errors only logged)."""
        job.refresh_from_db()
        try:
            self.on_finished(job)
        except Exception:  # noqa: BLE001  a hook must not change the job's recorded outcome
            logger.exception("on_finished of job %s (%s) failed", job.pk, self.name)

    # -- progress on a second connection -------------------------------------------------

    def _update_running(self, pk, values: dict) -> int:
        """Update the running row's ``values``; the number of rows changed (0: not running)."""
        Job = _job_model()
        values = {**values, "updated_at": timezone.now()}
        side = self._side_connection()
        if side is None:
            return Job.objects.filter(pk=pk, state=Job.State.RUNNING).update(**values)
        query = UpdateQuery(Job)
        query.add_update_values(values)
        query.add_q(Q(pk=pk, state=Job.State.RUNNING))
        sql, sql_params = query.get_compiler(connection=side).as_sql()
        with side.cursor() as cursor:
            cursor.execute(sql, sql_params)
            return cursor.rowcount

    def _side_connection(self):
        """A second connection for progress, or ``None`` to use the job's own (see module)."""
        if not getattr(self.request, "valar_side_allowed", False):
            return None
        if not connection.in_atomic_block:
            return None
        side = getattr(self.request, "valar_side", None)
        if side is None:
            side = connections.create_connection(DEFAULT_DB_ALIAS)
            self.request.valar_side = side
        return side

    def _close_side_connection(self) -> None:
        """Close (or give back to the pool) the progress connection, if one was opened."""
        side = getattr(self.request, "valar_side", None)
        if side is not None:
            side.close()
            self.request.valar_side = None
        self.request.valar_side_allowed = False


def job(
    name: str,
    *,
    retry_for: tuple[type[BaseException], ...] = (),
    max_retries: int = 3,
    retry_backoff: float = 2,
    retry_backoff_max: float = 600,
    retry_jitter: bool = True,
    atomic: bool = True,
    base: type[JobTask] = JobTask,
    **options: Any,
) -> Callable[[Callable[..., Any]], JobTask]:
    """Declare a job: ``@job("app.verb")`` over ``def body(self, **params) -> dict``.

    ``name`` is the job's ``kind``. ``retry_for`` (idempotent jobs only) and the backoff
    options are described in the module; ``base`` is a subclass of :class:`JobTask` whose
    hooks the job needs (``on_finished``, ``on_cancelled``); other options go to Celery's
    ``shared_task``.
    """
    if not issubclass(base, JobTask):
        raise TypeError("A job's base is a JobTask.")

    def declare(body: Callable[..., Any]) -> JobTask:
        return shared_task(
            name=name,
            base=base,
            bind=True,
            retry_for=tuple(retry_for),
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            retry_jitter=retry_jitter,
            atomic=atomic,
            **options,
        )(body)

    return declare
