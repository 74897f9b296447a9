"""``POST <list>/bulk/`` and ``POST <list>/import/`` for every resource that names a bulk resource.

:class:`BulkMixin` adds both actions to a tenant viewset that sets ``bulk_resource`` (a
:class:`valar.core.bulk.BulkResource`). The views only parse, authorise and render; the work
is :func:`valar.core.bulk.bulk_write` and :func:`valar.core.imports.import_file`. The OpenAPI
document describes each resource's bodies with components built from its own serializer
(:func:`bulk_schemas`, read by ``core.schema.AutoSchema``).
"""

from dataclasses import dataclass
from functools import cache

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from valar.core import bulk, imports
from valar.core.policy import Access, decide
from valar.core.serializers import StrictBooleanField, StrictUUIDField

#: How a refusal names each operation.
OPERATION_VERBS = {"create": "create", "update": "change", "delete": "delete"}


PROBLEM = {"$ref": "#/components/schemas/Problem"}
#: The 400 of a bulk write: every bad item named, nothing written.
BULK_PROBLEM = OpenApiResponse(
    PROBLEM,
    description="Nothing was written. `errors` names each bad item by operation and index, "
    "then field: `create.0.title`, `update.2.id`, `delete.5` (an item's own error has no "
    "field). Also: more than 1,000 items in all (`too_many_items`), or a body that is not "
    "an object of three lists.",
)
#: The 400 of an import: the file, or its rows by spreadsheet row.
IMPORT_PROBLEM = OpenApiResponse(
    PROBLEM,
    description="Nothing was written. `errors.file`: not a CSV or XLSX (`unsupported_file`), "
    "an unknown or repeated column (`invalid_file`), more than 1,000 rows "
    "(`too_many_items`); otherwise each bad row by its row in the file, then field: "
    "`row.3.amount` (the header is row 1).",
)


class BoundedListSerializer(serializers.ListSerializer):
    """A list of a bulk body: at most 1,000 items, declared ``maxItems`` in the schema."""


class BoundedListSchema(OpenApiSerializerFieldExtension):
    """The schema of a :class:`BoundedListSerializer`: the list's, with ``maxItems``."""

    target_class = BoundedListSerializer

    def map_serializer_field(self, auto_schema, direction):
        """Add ``maxItems`` to the generated array."""
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "maxItems": self.target.max_length}


class BulkShapeSerializer(serializers.Serializer):
    """The outline of a bulk body: three lists (items are checked by the bulk service)."""

    create = serializers.ListField(
        child=serializers.DictField(), required=False, default=list, max_length=bulk.MAX_ITEMS
    )
    update = serializers.ListField(
        child=serializers.DictField(), required=False, default=list, max_length=bulk.MAX_ITEMS
    )
    delete = serializers.ListField(
        child=serializers.JSONField(), required=False, default=list, max_length=bulk.MAX_ITEMS
    )


class ImportFileSerializer(serializers.Serializer):
    """``POST <list>/import/`` (multipart): the file, and whether to write or only check."""

    file = serializers.FileField(
        help_text="A CSV (UTF-8, comma-separated, header row of field names) or an XLSX "
        "workbook (first sheet, header row of field names), at most 20 MB and 1,000 rows; "
        "its type is read from its bytes, not its name."
    )
    dry_run = StrictBooleanField(
        default=False,
        help_text="true: check every row and report it, write nothing (200). false: check "
        "every row (a 400 names the bad ones), then create every row or none in the "
        "background: 202 with the job (`jobs/{id}/`), whose result lists the rows created.",
    )


class RowErrorsField(serializers.DictField):
    """A row's errors: field name -> messages (``non_field_errors`` for the row itself)."""

    def __init__(self, **kwargs):
        """Messages are lists of strings."""
        super().__init__(child=serializers.ListField(child=serializers.CharField()), **kwargs)


@dataclass(frozen=True)
class BulkSchemas:
    """The serializers that describe one resource's bulk and import bodies."""

    request: type[serializers.Serializer]
    result: type[serializers.Serializer]
    import_result: type[serializers.Serializer]
    preview: type[serializers.Serializer]


def _base_name(serializer_class) -> str:
    """``TaskSerializer`` -> ``Task``: the component name drf-spectacular gives the resource."""
    name = serializer_class.__name__
    return name[: -len("Serializer")] if name.endswith("Serializer") else name


@cache
def bulk_schemas(serializer_class, preview_fields: tuple[str, ...]) -> BulkSchemas:
    """Build (once per serializer) the components of a resource's bulk and import bodies."""
    base = _base_name(serializer_class)
    writable = [name for name, field in serializer_class().fields.items() if not field.read_only]

    class UpdateItem(serializer_class):
        """An item of ``update``: the row's ``id`` and the fields to change (as PATCH)."""

        id = StrictUUIDField(help_text="The row to change.")

        class Meta(serializer_class.Meta):
            fields = ["id", *writable]
            read_only_fields: list[str] = []

        def get_fields(self):
            """Every field but ``id`` is optional, as in a PATCH."""
            fields = super().get_fields()
            for name, field in fields.items():
                if name != "id":
                    field.required = False
            return fields

    UpdateItem.__name__ = f"{base}BulkUpdateSerializer"
    UpdateItem.__qualname__ = UpdateItem.__name__

    request = type(
        f"{base}BulkSerializer",
        (serializers.Serializer,),
        {
            "__doc__": f"A bulk write of {base} rows: at most 1,000 items in all, all or none.",
            "create": BoundedListSerializer(
                child=serializer_class(),
                required=False,
                max_length=bulk.MAX_ITEMS,
                help_text="Rows to create.",
            ),
            "update": BoundedListSerializer(
                child=UpdateItem(),
                required=False,
                max_length=bulk.MAX_ITEMS,
                help_text="Rows to change, by id (only the fields given change).",
            ),
            "delete": serializers.ListField(
                child=StrictUUIDField(),
                required=False,
                max_length=bulk.MAX_ITEMS,
                help_text="Ids of rows to delete.",
            ),
        },
    )
    result = type(
        f"{base}BulkResultSerializer",
        (serializers.Serializer,),
        {
            "__doc__": "What a bulk write wrote.",
            "created": serializer_class(many=True, help_text="The rows created, in order."),
            "updated": serializer_class(many=True, help_text="The rows changed, in order."),
            "deleted": serializers.ListField(
                child=serializers.UUIDField(), help_text="Ids of the rows deleted."
            ),
        },
    )

    class Preview(serializer_class):
        """A row as an import would create it (the fields given, and what the rules set)."""

        class Meta(serializer_class.Meta):
            fields = list(dict.fromkeys([*writable, *preview_fields]))

    Preview.__name__ = f"{base}ImportPreviewSerializer"
    Preview.__qualname__ = Preview.__name__
    row = type(
        f"{base}ImportRowSerializer",
        (serializers.Serializer,),
        {
            "__doc__": "One data row of an import, checked.",
            "row": serializers.IntegerField(help_text="Its row in the file (the header is 1)."),
            "data": Preview(allow_null=True, help_text="The row as it would be created."),
            "errors": RowErrorsField(help_text="Field -> messages; empty when the row is fine."),
        },
    )
    import_result = type(
        f"{base}ImportResultSerializer",
        (serializers.Serializer,),
        {
            "__doc__": "What a dry run of an import checked (nothing was written).",
            "dry_run": serializers.BooleanField(help_text="Always true: a check only."),
            "total": serializers.IntegerField(help_text="Data rows read."),
            "valid": serializers.IntegerField(help_text="Rows without errors."),
            "rows": row(many=True, help_text="Each row checked, in the file's order."),
        },
    )
    return BulkSchemas(request=request, result=result, import_result=import_result, preview=Preview)


class BulkMixin:
    """Adds ``bulk/`` and ``import/`` to a tenant viewset that names its ``bulk_resource``.

    The viewset's ``select()``/``present()`` and policy module apply: rows another
    organization owns (or the caller may not read) are errors of their items, never touched.
    """

    bulk_resource: bulk.BulkResource

    def bulk_schemas(self) -> BulkSchemas:
        """The components of this resource's bulk and import bodies."""
        resource = self.bulk_resource
        return bulk_schemas(resource.serializer_class, resource.preview_fields)

    def action_schema(self, name: str | None):
        """``(request, responses)`` for ``core.schema.AutoSchema``, for the two actions."""
        if name == "bulk":
            schemas = self.bulk_schemas()
            return schemas.request, {
                200: schemas.result,
                (400, "application/problem+json"): BULK_PROBLEM,
            }
        if name == "import_file":
            schemas = self.bulk_schemas()
            from valar.jobs.api import JobSerializer

            return ImportFileSerializer, {
                200: schemas.import_result,
                202: OpenApiResponse(
                    JobSerializer,
                    description="Every row is valid: the job that creates them all (or, "
                    "should a row have become invalid meanwhile, none) was started. Its "
                    "`result` gives `created` and the new rows' `ids`.",
                ),
                (400, "application/problem+json"): IMPORT_PROBLEM,
            }
        return None

    def _shown(self, rows: list) -> list:
        """``rows`` as the resource's detail shows them (one query), in their order."""
        if not rows:
            return []
        found = {
            row.pk: row
            for row in self.present(self.reachable().filter(pk__in=[row.pk for row in rows]))
        }
        return [found[row.pk] for row in rows]

    def _render(self, rows: list) -> list:
        """``rows`` rendered by the resource's serializer."""
        return self.get_serializer(self._shown(rows), many=True).data

    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request, *args, **kwargs):
        """Create, change and delete up to 1,000 rows in one transaction, all or none.

        A 400 names each bad item by operation and index (``create.0.title``,
        ``update.2.id``, ``delete.5``) and nothing is written.
        """
        shape = BulkShapeSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        items = shape.validated_data
        membership = self.tenant.membership
        access = {
            operation: decide(
                role=membership.role,
                modules=membership.modules,
                module=self.module,
                action=self.bulk_resource.policy_actions[operation],
            )
            for operation in bulk.OPERATIONS
        }
        for operation in bulk.OPERATIONS:
            if items[operation] and access[operation] == Access.NONE:
                raise exceptions.PermissionDenied(
                    f"You may not {OPERATION_VERBS[operation]} rows here."
                )
        written = bulk.bulk_write(
            tenant=self.tenant,
            resource=self.bulk_resource,
            rows=self.reachable(),
            create=items["create"],
            update=items["update"],
            delete=items["delete"],
            access=access,
            context=self.get_serializer_context(),
        )
        return Response(
            {
                "created": self._render(written.created),
                "updated": self._render(written.updated),
                "deleted": [str(row.pk) for row in written.deleted],
            }
        )

    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser],
    )
    def import_file(self, request, *args, **kwargs):
        """Check a CSV or XLSX file's rows (at most 20 MB, 1,000 rows), then import them all.

        ``dry_run=true`` answers each row's errors and what it would create, writing nothing.
        Otherwise a file with a bad row is a 400 naming each; a good one is kept and imported
        by a background job (202 with the job, ``Location`` its URL).
        """
        form = ImportFileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        tenant = self.tenant
        arguments = {
            "organization": tenant.organization,
            "user": request.user,
            "resource": self.bulk_resource,
            "upload": form.validated_data["file"],
            "context": self.get_serializer_context(),
        }
        if not form.validated_data["dry_run"]:
            from valar.jobs.api import JobSerializer

            job = imports.start_import(**arguments)
            location = reverse("job-detail", kwargs={"pk": job.pk}, request=request)
            return Response(
                JobSerializer(job, context=self.get_serializer_context()).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": location},
            )
        result = imports.import_file(**arguments, dry_run=True)
        preview = self.bulk_schemas().preview
        rows = [
            {
                "row": number,
                "data": preview(built).data if built is not None else None,
                "errors": result.errors.get(number, {}),
            }
            for number, built in zip(result.numbers, result.rows, strict=True)
        ]
        return Response(
            {
                "dry_run": True,
                "total": result.total,
                "valid": result.valid,
                "rows": rows,
            },
            status=status.HTTP_200_OK,
        )
