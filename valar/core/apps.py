"""App configuration for the shared kernel."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ``core`` app: no tables of its own, only the pieces every app reuses."""

    name = "valar.core"
    label = "core"

    def ready(self) -> None:
        """Connect the kernel's signal receivers."""
        from valar.core import middleware, versions  # noqa: F401  (connect their receivers)
