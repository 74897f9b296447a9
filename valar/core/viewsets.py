"""The base viewsets every resource of the API is declared with.

A resource names its serializers, its selector and its filterset; the base classes bring
authentication, pagination, django-filter + search + ordering, problem-details errors,
throttling and the CSV/XLSX export of the filtered list.
"""

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action

from valar.core.exports import EXPORT_FORMATS, export_response

EXPORT_MAX_ROWS = 100_000


class BaseViewSet(viewsets.GenericViewSet):
    """The root of every Valar viewset (settings supply auth, filters, pagination, errors).

    A resource declares ``model`` and implements :meth:`select`, which returns the queryset
    the caller may see, built by the app's selector.
    """

    model: type[Model]

    def select(self) -> QuerySet:
        """Return the rows this caller may reach; every resource implements it."""
        raise NotImplementedError(f"{type(self).__name__} must implement select()")

    def get_queryset(self) -> QuerySet:
        """The selector's rows (an empty queryset while the schema is being generated)."""
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.select()


class ExportMixin:
    """Adds ``GET <list>/export/?format=csv|xlsx`` honouring the list's filters.

    Columns are the fields of ``export_serializer_class`` (the list serializer by default);
    ``export_filename`` names the file.
    """

    export_serializer_class = None
    export_filename = "export"

    def get_export_serializer_class(self):
        """Return the serializer whose fields become the export's columns."""
        return self.export_serializer_class or self.get_serializer_class()

    @extend_schema(
        filters=True,
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=list(EXPORT_FORMATS),
                default="csv",
                description="File format of the export.",
            )
        ],
        responses={
            (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description=f"{fmt} file")
            for fmt, mime in EXPORT_FORMATS.items()
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request, *args, **kwargs):
        """Download the filtered list as CSV or XLSX (at most 100,000 rows)."""
        fmt = request.query_params.get("format", "csv")
        if fmt not in EXPORT_FORMATS:
            raise exceptions.ValidationError(
                {"format": [f"Choose one of: {', '.join(EXPORT_FORMATS)}."]}
            )
        queryset = self.filter_queryset(self.get_queryset())[:EXPORT_MAX_ROWS]
        serializer_class = self.get_export_serializer_class()
        fields = [name for name, field in serializer_class().fields.items() if not field.write_only]

        def rows():
            for instance in queryset.iterator(chunk_size=2000):
                data = serializer_class(instance, context=self.get_serializer_context()).data
                yield [data.get(name) for name in fields]

        return export_response(fmt, fields, rows(), self.export_filename)
