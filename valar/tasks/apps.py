"""App configuration for tasks."""

from django.apps import AppConfig


class TasksConfig(AppConfig):
    """The ``tasks`` app (policy module ``tasks``)."""

    name = "valar.tasks"
    label = "tasks"

    def ready(self) -> None:
        """Register the tasks metric source."""
        from valar.tasks import metrics  # noqa: F401
