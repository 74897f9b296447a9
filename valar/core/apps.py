"""App configuration for the shared kernel."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ``core`` app: no tables of its own, only the pieces every app reuses."""

    name = "valar.core"
    label = "core"

    def ready(self) -> None:
        """Connect the kernel's signal receivers; make every model date a bounded API date."""
        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from valar.core import middleware, versions  # noqa: F401  (connect their receivers)
        from valar.core.serializers import DateField

        # A model's date field in any serializer accepts only 1900-01-01..2200-12-31.
        ModelSerializer.serializer_field_mapping[models.DateField] = DateField
