"""App configuration for the shared kernel."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ``core`` app: no tables of its own, only the pieces every app reuses."""

    name = "valar.core"
    label = "core"

    def ready(self) -> None:
        """Connect the kernel's signal receivers; map model fields to the kernel's API fields."""
        import django_filters
        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from valar.core import middleware, versions  # noqa: F401  (connect their receivers)
        from valar.core.filters import StrictBooleanFilter
        from valar.core.serializers import STRICT_MODEL_FIELDS, DateField

        # A model's date field in any serializer accepts only 1900-01-01..2200-12-31.
        ModelSerializer.serializer_field_mapping[models.DateField] = DateField
        # A JSON body value must have the declared JSON type: no "5" for 5, no 1 for true.
        for name, field_class in STRICT_MODEL_FIELDS.items():
            ModelSerializer.serializer_field_mapping[getattr(models, name)] = field_class
        # A filter on a model's boolean takes true/false only (``?is_active=null`` is a 400).
        django_filters.FilterSet.FILTER_DEFAULTS[models.BooleanField] = {
            "filter_class": StrictBooleanFilter
        }
