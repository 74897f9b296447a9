"""App configuration for tasks."""

from django.apps import AppConfig


class TasksConfig(AppConfig):
    """The ``tasks`` app (policy module ``tasks``)."""

    name = "valar.tasks"
    label = "tasks"
