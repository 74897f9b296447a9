"""The tasks source of the metrics engine."""

from django.db.models import F

from valar.core.metrics import Dimension, Source, register
from valar.tasks.models import Task

register(
    Source(
        name="tasks",
        model=Task,
        date_field="created_at",
        date_fields=("completed_at", "due_date"),
        value=F("pk"),
        measures=("count",),
        dimensions={
            "status": Dimension("status", kind="text"),
            "priority": Dimension("priority", kind="text"),
            "assignee": Dimension("assignee_id", "assignee__email"),
            "team": Dimension("team_id", "team__name"),
        },
        version="tasks",
        money=False,
        module="tasks",
        description="Tasks, counted by when they were created, completed or are due.",
    )
)
