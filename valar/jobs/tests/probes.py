"""Jobs that exist only for the tests (and are loaded by the test worker with ``-I``).

``probes.write`` creates a task in the job's organization, optionally reporting progress,
waiting for a Redis key (so a test can watch it run, or cancel it), or failing after its
write; ``probes.flaky`` fails its first attempts with a retryable error.
"""

import time

import redis
from django.conf import settings

from valar.core.errors import DomainError
from valar.core.jobs import job
from valar.jobs.models import Job
from valar.tasks.models import Task

#: How long a waiting probe waits for its key before giving up.
WAIT_SECONDS = 60


def _wait_for(key: str) -> None:
    """Wait until ``key`` exists in Redis (a test sets it when it has seen enough)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while not client.exists(key):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} never came")
            time.sleep(0.05)
    finally:
        client.close()


def _mark_done(key: str) -> None:
    """Say the waiting body has gone past its wait (``<key>:done``), whatever it does next."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.set(f"{key}:done", "1", ex=300)
    finally:
        client.close()


@job("probes.write")
def write(
    self,
    title: str = "Probe",
    progress: list[int] | None = None,
    wait_key: str | None = None,
    fail: str | None = None,
    domain_error: str | None = None,
    check_cancel: bool = False,
) -> dict:
    """Create a task; report ``progress``; wait for ``wait_key``; then maybe fail.

    ``check_cancel`` reports progress once more after the wait (where a cancel is seen).
    """
    seen = []
    for step in progress or []:
        self.progress(step)
        seen.append(Job.objects.values_list("progress", flat=True).get(pk=self.job.pk))
    task = Task.objects.create(organization=self.job.organization, title=title)
    if wait_key:
        try:
            _wait_for(wait_key)
            if check_cancel:
                self.progress(99)
        finally:
            _mark_done(wait_key)
    elif check_cancel:
        self.progress(99)
    if fail:
        raise ValueError(fail)
    if domain_error:
        raise DomainError(domain_error)
    return {"task": str(task.pk), "progress_seen": seen}


@job(
    "probes.flaky",
    retry_for=(ConnectionError,),
    max_retries=3,
    retry_backoff=1,
    retry_jitter=False,
)
def flaky(self, failures: int = 2) -> dict:
    """Fail the first ``failures`` attempts with a retryable error, then succeed."""
    attempts = self.job.attempts
    if attempts <= failures:
        raise ConnectionError(f"attempt {attempts} failed")
    return {"attempts": attempts}
