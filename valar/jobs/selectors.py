"""Job reads: an organization's jobs and the list's filters."""

import django_filters
from django.db.models import QuerySet

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
