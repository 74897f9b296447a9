"""Job reads: an organization's jobs, the list's filters, and the jobs' figures for ``/metrics``."""

from collections.abc import Iterator

import django_filters
from django.conf import settings
from django.db.models import Count, QuerySet
from prometheus_client.core import GaugeMetricFamily, Metric

from valar.core.filters import UserRefFilter
from valar.jobs.models import Job
from valar.organizations.models import Organization


class JobFilter(django_filters.FilterSet):
    """Filters of the job list: kind, state (several allowed), who started it."""

    kind = django_filters.CharFilter(help_text="The job's kind, exactly (`jobs.prune_finished`).")
    # distinct=False: a state is one column of the row (no duplicates, no sort of every row).
    state = django_filters.MultipleChoiceFilter(choices=Job.State.choices, distinct=False)
    started_by = UserRefFilter(field_name="started_by")

    class Meta:
        model = Job
        fields: list[str] = []


def job_list(*, organization: Organization) -> QuerySet[Job]:
    """The organization's jobs (the platform's own jobs belong to none)."""
    return Job.objects.filter(organization=organization)


def job_metrics() -> Iterator[Metric]:
    """What ``/metrics`` shows of the jobs, read at scrape time.

    ``valar_jobs`` counts job records by kind and state (one ``GROUP BY``); with a Redis broker
    and jobs not run eagerly, ``valar_celery_queue_depth`` gives the messages waiting in the
    jobs' queue (one ``LLEN`` round trip, ``ops.selectors.queue_depths``).
    """
    family = GaugeMetricFamily(
        "valar_jobs", "Job records by kind and state.", labels=["kind", "state"]
    )
    rows = Job.objects.values("kind", "state").annotate(total=Count("pk")).order_by()
    for row in rows:
        family.add_metric([row["kind"], row["state"]], row["total"])
    yield family
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from valar.ops.selectors import queue_depths

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    (depth,) = queue_depths([queue])
    if depth["depth"] is not None:
        yield _queue_family(queue, depth["depth"])


def _queue_family(queue: str, depth: int) -> GaugeMetricFamily:
    """The queue-depth gauge of one queue."""
    family = GaugeMetricFamily(
        "valar_celery_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    family.add_metric([queue], depth)
    return family
