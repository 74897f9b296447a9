"""The jobs row of ``make bench``: trivial jobs through a real worker, enqueue to succeeded.

Needs ``REDIS_URL`` (a broker) and PostgreSQL (the worker is another process); otherwise the
row says it is skipped and why. The worker runs on a queue of its own with ``bench.noop``
loaded (``-I valar.jobs.bench``), two threads.
"""

import os
import statistics
import time

from django.db import transaction

from valar.accounts.models import User
from valar.celery import app as celery_app
from valar.core.jobs import job
from valar.core.testing.jobs import celery_conf
from valar.core.testing.worker import running_worker, worker_unavailable_reason
from valar.jobs.models import Job
from valar.jobs.services import job_start
from valar.organizations.models import Organization
from valar.organizations.services import organization_create

ORGANIZATION_SLUG = "bench-jobs"
#: Seconds the whole batch may take before the row reports a timeout.
TIMEOUT = 300


@job("bench.noop")
def noop(self, index: int = 0) -> dict:
    """Do nothing but the bookkeeping every job pays."""
    return {"index": index}


def _organization() -> tuple[Organization, User]:
    """The bench's own organization and admin (created once)."""
    organization = Organization.objects.filter(slug=ORGANIZATION_SLUG).first()
    if organization is not None:
        return organization, User.objects.get(email="bench-jobs@valar.local")
    admin = User.objects.create_user(email="bench-jobs@valar.local", password=None)
    organization = organization_create(name="Bench jobs", actor=admin)
    Organization.objects.filter(pk=organization.pk).update(slug=ORGANIZATION_SLUG)
    organization.refresh_from_db()
    return organization, admin


def _wait(ids: list, deadline: float) -> bool:
    """Poll until every job of ``ids`` has finished; ``False`` on timeout."""
    while Job.objects.filter(pk__in=ids).exclude(state__in=Job.FINISHED).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def measure(count: int, *, latency_samples: int = 20) -> dict:
    """Jobs per second for ``count`` jobs started in one transaction, and one job's latency.

    Returns ``{"skipped": reason}`` when no real worker can run here.
    """
    reason = worker_unavailable_reason()
    if reason:
        return {"skipped": reason}
    organization, admin = _organization()
    queue = f"valar-bench-{os.getpid()}"
    with (
        celery_conf(task_always_eager=False, task_default_queue=queue),
        running_worker(queue, include=("valar.jobs.bench",)),
    ):
        # One untimed job warms the worker (connections, imports).
        warm = job_start(organization=organization, user=admin, kind="bench.noop")
        _wait([warm.pk], time.monotonic() + TIMEOUT)
        latencies = []
        for index in range(latency_samples):
            started = time.perf_counter()
            single = job_start(
                organization=organization, user=admin, kind="bench.noop", index=index
            )
            _wait([single.pk], time.monotonic() + TIMEOUT)
            latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with transaction.atomic():
            ids = [
                job_start(organization=organization, user=admin, kind="bench.noop", index=i).pk
                for i in range(count)
            ]
        finished = _wait(ids, time.monotonic() + TIMEOUT)
        elapsed = time.perf_counter() - started
    succeeded = Job.objects.filter(pk__in=ids, state=Job.State.SUCCEEDED).count()
    Job.objects.filter(organization=organization).delete()
    return {
        "jobs": count,
        "succeeded": succeeded,
        "finished": finished,
        "seconds": elapsed,
        "jobs_per_second": succeeded / elapsed if elapsed else 0.0,
        "latency_p50": statistics.median(latencies),
        "latency_p95": sorted(latencies)[max(0, round(0.95 * (len(latencies) - 1)))],
        "worker": "1 worker, 2 threads",
        "broker": celery_app.conf.broker_url.split("://", 1)[0],
    }
