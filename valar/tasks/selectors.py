"""Task reads: the filtered list and the accomplishment figures, all in SQL."""

import datetime

import django_filters
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone

from valar.core.filters import DateFilter, DateRangeFilterSet, StrictBooleanFilter, UserRefFilter
from valar.organizations.models import Organization
from valar.tasks.models import Task


class TaskFilter(DateRangeFilterSet):
    """Filters of the task list; ``start_date``/``end_date`` apply to the due date."""

    date_field = "due_date"

    # distinct=False: a status is one column of the row, so no duplicates can arise, and
    # DISTINCT would force a sort of every matching row before the page is cut.
    status = django_filters.MultipleChoiceFilter(choices=Task.Status.choices, distinct=False)
    priority = django_filters.ChoiceFilter(choices=Task.Priority.choices)
    assignee = UserRefFilter(field_name="assignee")
    team = django_filters.UUIDFilter(field_name="team_id")
    overdue = StrictBooleanFilter(
        method="filter_overdue", help_text="Due before today and not done or cancelled."
    )
    completed_after = DateFilter(
        method="filter_completed_after", help_text="Completed on or after this date."
    )
    completed_before = DateFilter(
        method="filter_completed_before", help_text="Completed on or before this date."
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        """Keep (or drop) tasks past their due date that are still open."""
        overdue = Q(due_date__lt=timezone.localdate()) & ~Q(status__in=Task.CLOSED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_completed_after(self, queryset, name, value):
        """Keep tasks completed on or after the day."""
        return queryset.filter(completed_at__gte=self._day_start(value))

    def filter_completed_before(self, queryset, name, value):
        """Keep tasks completed on or before the day."""
        return queryset.filter(completed_at__lt=self._day_start(value + datetime.timedelta(days=1)))


def task_list(*, organization: Organization) -> QuerySet[Task]:
    """The organization's tasks (what the list counts; :func:`task_display` adds the names)."""
    return Task.objects.filter(organization=organization)


def task_display(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """``tasks`` with their assignee's display name and their team, for the page shown."""
    full_name = Trim(Concat("assignee__first_name", Value(" "), "assignee__last_name"))
    return tasks.select_related("team").annotate(
        assignee_name=Coalesce(
            NullIf(full_name, Value("")), "assignee__email", output_field=CharField()
        )
    )


def accomplishments(
    *,
    organization: Organization,
    start_date: datetime.date,
    end_date: datetime.date,
    group_by: str,
) -> list[dict]:
    """Tasks completed per ``assignee`` or ``team`` in a date range, on one ``GROUP BY``.

    Each row: the group's id, ``completed``, ``on_time`` (completed on or before the due date),
    ``on_time_rate`` (``on_time / completed`` over tasks that had a due date, ``None`` when
    none had one) and ``overdue`` (open tasks of the group past their due date today).
    """
    if group_by not in ("assignee", "team"):
        raise ValueError("group_by must be 'assignee' or 'team'")
    start = DateRangeFilterSet._day_start(start_date)
    end = DateRangeFilterSet._day_start(end_date + datetime.timedelta(days=1))
    completed_in_range = Q(status=Task.Status.DONE, completed_at__gte=start, completed_at__lt=end)
    rows = (
        Task.objects.filter(organization=organization, **{f"{group_by}__isnull": False})
        .values(group_by)
        .annotate(
            completed=Count("pk", filter=completed_in_range),
            with_due=Count("pk", filter=completed_in_range & Q(due_date__isnull=False)),
            on_time=Count(
                "pk",
                filter=completed_in_range
                & Q(due_date__isnull=False, completed_at__date__lte=F("due_date")),
            ),
            overdue=Count(
                "pk",
                filter=Q(due_date__lt=timezone.localdate()) & ~Q(status__in=Task.CLOSED),
            ),
        )
        .filter(Q(completed__gt=0) | Q(overdue__gt=0))
        .order_by("-completed", group_by)
    )
    return [
        {
            group_by: row[group_by],
            "completed": row["completed"],
            "on_time": row["on_time"],
            "on_time_rate": (row["on_time"] / row["with_due"]) if row["with_due"] else None,
            "overdue": row["overdue"],
        }
        for row in rows
    ]
