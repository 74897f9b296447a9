"""The base viewsets every resource of the API is declared with.

A resource names its serializers, its selector and its filterset; the base classes bring
authentication, pagination, django-filter + search + ordering, problem-details errors,
throttling and the CSV/XLSX export of the filtered list.
"""

import uuid

from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, filters, viewsets
from rest_framework.decorators import action
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from valar.core import counts, statements, tenancy
from valar.core.exports import EXPORT_FORMATS, export_response
from valar.core.permissions import IsPlatformOperator
from valar.core.policy import Access, decide, owns, permissions_of, visible_rows
from valar.core.rows import row_plan

EXPORT_MAX_ROWS = 100_000


def is_id_kwarg(name: str) -> bool:
    """Whether a URL kwarg names a record (``pk``, ``id``, ``<thing>_pk``, ``<thing>_id``)."""
    return name in ("pk", "id") or name.endswith(("_pk", "_id"))


def is_uuid(value) -> bool:
    """Whether ``value`` is a UUID in any spelling Django's UUID field accepts."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def refuse_undeclared_method(view, request) -> None:
    """Raise 405 (with ``Allow``) for a method ``view`` does not have, before any other check.

    DRF checks permissions first, so a view whose permission refuses the caller would answer
    403 for a method the route does not even take; the answer must be the same for everyone.
    """
    method = request.method.lower()
    if method not in view.http_method_names or not hasattr(view, method):
        raise exceptions.MethodNotAllowed(request.method)


class PlatformView(APIView):
    """An endpoint of the platform's operators (``ops/...``): superusers only, outside tenants.

    Anonymous callers get 401, other users 403; a method the view lacks is a 405 for everyone
    (checked before the permission, as :class:`BaseViewSet` does).
    """

    permission_classes = [IsPlatformOperator]

    def initial(self, request, *args, **kwargs):
        """Answer 405 (with ``Allow``) for a method the view lacks, before any permission."""
        refuse_undeclared_method(self, request)
        super().initial(request, *args, **kwargs)


class BaseViewSet(viewsets.GenericViewSet):
    """The root of every Valar viewset (settings supply auth, filters, pagination, errors).

    A resource declares ``model`` and implements :meth:`select`, which returns the queryset
    the caller may see, built by the app's selector. What a page only shows (names of related
    rows, figures of other tables, prefetches) is added by :meth:`present`, which a list applies
    after counting: the count reads the filtered rows and never a display join.
    """

    model: type[Model]
    #: The version sources (``core.versions``) whose writes change this list's rows; with
    #: ``count_cached_params`` they let ``LIST_COUNT_CACHE`` keep its count (``core.counts``).
    count_sources: tuple[str, ...] = ()
    #: The query parameters under which the count may be cached: filters on the sources' own
    #: columns (not dates relative to today, not users or teams a deletion clears silently).
    count_cached_params: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        """Answer 405 (with ``Allow``) for a method the route lacks, 404 for a non-UUID id, first.

        DRF would check permissions first, and a permission that has no action to look up
        (``PolicyPermission``) would answer 403 for a method the route does not have.
        """
        refuse_undeclared_method(self, request)
        # Every record's id is a UUID: a path id that is not one names nothing (404), whatever
        # route pattern or lookup the resource uses, never a 400 from the database field.
        if any(is_id_kwarg(name) and not is_uuid(value) for name, value in kwargs.items()):
            raise Http404
        super().initial(request, *args, **kwargs)

    def select(self) -> QuerySet:
        """Return the rows this caller may reach; every resource implements it.

        Only what decides which rows belong here goes in; columns the answer merely shows go
        in :meth:`present`.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement select()")

    def present(self, queryset: QuerySet) -> QuerySet:
        """Add what the answer shows but no filter reads (annotations, joins, prefetches).

        The default adds nothing; a resource whose serializer shows related names or figures
        returns its selector's display step here.
        """
        return queryset

    def reachable(self) -> QuerySet:
        """The rows the caller may reach, before :meth:`present` (the resource's selection)."""
        return self.select()

    def counts_before_presenting(self) -> bool:
        """Whether this request is a paginated ``list``: counted first, presented after."""
        return self.action == "list" and self.paginator is not None

    def get_queryset(self) -> QuerySet:
        """The selector's rows, presented (an empty queryset while the schema is generated).

        For a paginated ``list`` the rows stay unpresented here: the pagination counts them
        with the filters applied, then reads the page from :meth:`shown`.
        """
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        rows = self.reachable()
        if not self.counts_before_presenting():
            rows = self.present(rows)
        return ordered(rows)

    def _ordering_backend(self, backend) -> bool:
        """Whether ``backend`` orders rather than filters (it may order by what is presented)."""
        return issubclass(backend, filters.OrderingFilter)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Apply the filter backends; for a counted list, the ordering waits for :meth:`shown`."""
        if not self.counts_before_presenting():
            return super().filter_queryset(queryset)
        for backend in self.filter_backends:
            if not self._ordering_backend(backend):
                queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def shown(self, counted: QuerySet) -> QuerySet:
        """The page's rows: the filtered (counted) rows presented, then ordered."""
        queryset = ordered(self.present(counted))
        for backend in self.filter_backends:
            if self._ordering_backend(backend):
                queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def paginate_queryset(self, queryset):
        """Count ``queryset`` as filtered and read the page from :meth:`shown` (for ``list``)."""
        if not self.counts_before_presenting():
            return super().paginate_queryset(queryset)
        return self.paginator.paginate_rows(
            queryset, self.shown(queryset), self.request, count=counts.count(queryset, self)
        )


def ordered(queryset: QuerySet) -> QuerySet:
    """``queryset`` with a stable order for pages (aggregated querysets drop Meta.ordering)."""
    return queryset if queryset.ordered else queryset.order_by("pk")


class RowListMixin:
    """``list`` rendered from plain rows when the serializer allows it (see ``core.rows``).

    The list's statements are kept per process after the first request of their shape
    (``core.statements``); the next requests of that shape execute them without building
    the querysets again.
    """

    def list(self, request, *args, **kwargs):
        """One page of rows, counted on the filtered rows, rendered per field."""
        if self.paginator is None:
            return super().list(request, *args, **kwargs)
        key = statements.key(self)
        entry = None if key is None else statements.kept.get(key)
        if entry is None:
            queryset = self.filter_queryset(self.get_queryset())
            shown = self.shown(queryset)
            plan = row_plan(self.get_serializer_class(), shown)
            if plan is None:
                return super().list(request, *args, **kwargs)
            rows = shown.values(*plan.paths)
            compiled = None if key is None else statements.compile_list(queryset, rows)
            if compiled is None:
                count = counts.count(queryset, self)
                page = self.paginator.paginate_rows(queryset, rows, request, count=count)
                return self.get_paginated_response(plan.render_page(page))
            statements.keep(key, compiled, plan)
        else:
            compiled, plan = entry
        count = counts.count(None, self, counter=compiled.count)
        page = self.paginator.paginate_rows(None, compiled.page, request, count=count)
        return self.get_paginated_response(plan.render_page(page))


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


#: The policy action each standard viewset action performs.
ACTION_MAP = {
    "list": "view",
    "retrieve": "view",
    "export": "view",
    "metadata": "view",
    "create": "create",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "import_file": "create",
    "bulk": "write",
}
#: The policy actions a bulk request may perform: it passes the permission check when any of
#: them is allowed, and each operation in its body is then checked against its own.
WRITE_ACTIONS = ("create", "change", "delete")


#: What OPTIONS checks for each method it describes.
METHOD_ACTIONS = {"POST": "create", "PUT": "change", "PATCH": "change", "DELETE": "delete"}
#: The viewset action a request of each method runs (for the view's ``action_permissions``).
METHOD_VIEW_ACTIONS = {
    "POST": "create",
    "PUT": "update",
    "PATCH": "partial_update",
    "DELETE": "destroy",
}


class PolicyMetadata(SimpleMetadata):
    """OPTIONS: DRF's description plus what the caller may do in the view's module."""

    def determine_metadata(self, request, view):
        """Add ``permissions`` (action -> all/own/none) read from the policy table."""
        metadata = super().determine_metadata(request, view)
        module = getattr(view, "module", None)
        if module is not None:
            membership = view.tenant.membership
            metadata["permissions"] = permissions_of(
                role=membership.role, modules=membership.modules
            )[module]
        return metadata


class PolicyPermission(BasePermission):
    """Asks the policy table whether the caller's role may do this action in this module.

    The view names its ``module``; the action comes from the view's ``action_permissions``
    (for its own ``@action``s) or :data:`ACTION_MAP`. ``OWN`` for ``view`` is applied to the
    queryset by ``TenantViewSet.get_queryset`` (another owner's row is a 404); ``OWN`` for a
    write is checked per object (403 on a row the caller may see but not change).
    """

    def has_permission(self, request, view) -> bool:
        """Resolve the tenant, then look the action up (unknown actions are refused)."""
        tenant = view.tenant
        if view.action == "metadata" and request.method in METHOD_ACTIONS:
            # OPTIONS asks "could I POST/PUT here?" with a cloned request of that method: the
            # answer is the one that method's own request would get (the view's own rule for
            # ``create`` or ``update`` first, as for schedules that need ``approve``).
            action = (
                view.action_permissions.get(METHOD_VIEW_ACTIONS[request.method])
                or (METHOD_ACTIONS[request.method])
            )
        else:
            action = view.action_permissions.get(view.action or "") or ACTION_MAP.get(
                view.action or ""
            )
        view.policy_action = action
        if action is None:
            view.access = Access.NONE
            return False
        membership = tenant.membership
        accesses = [
            decide(role=membership.role, modules=membership.modules, module=view.module, action=a)
            for a in (WRITE_ACTIONS if action == "write" else (action,))
        ]
        view.access = next((a for a in accesses if a != Access.NONE), Access.NONE)
        return view.access != Access.NONE

    def has_object_permission(self, request, view, obj) -> bool:
        """With ``OWN`` access to a write, only rows the caller created or is assigned to.

        Reads were narrowed by the queryset already (shared reference rows stay readable).
        """
        if getattr(view, "access", Access.NONE) == Access.OWN:
            return getattr(view, "policy_action", None) == "view" or owns(obj, request.user)
        return True


class TenantViewSet(BaseViewSet):
    """The base of every tenant resource: scoped to the request's organization, always.

    A resource declares ``module``, ``model``, its serializers and :meth:`select`. The base
    resolves the organization once, asks the policy table, and filters every queryset by
    the organization and by what the caller may read in the module (``view: own`` keeps only
    the rows they own, :func:`core.policy.visible_rows`) after the resource's own narrowing,
    so no subclass can forget it. Overriding the sealed methods is refused when the class is
    defined.
    """

    module: str
    #: The lookup from the model to its organization (``organization`` for tenant models).
    tenant_field = "organization"
    #: The URL kwarg naming the organization, for resources nested under it.
    tenant_url_kwarg: str | None = None
    #: Policy actions of the resource's own ``@action``s (``{"complete": "change"}``).
    action_permissions: dict[str, str] = {}
    permission_classes = [IsAuthenticated, PolicyPermission]
    metadata_class = PolicyMetadata
    _sealed = (
        "get_queryset",
        "reachable",
        "filter_queryset",
        "paginate_queryset",
        "get_permissions",
        "check_permissions",
        "initial",
    )

    def __init_subclass__(cls, **kwargs):
        """Refuse a subclass that overrides the tenant pipeline."""
        super().__init_subclass__(**kwargs)
        for name in cls._sealed:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not override {name}(); narrow rows in select()."
                )

    @property
    def tenant(self) -> tenancy.Tenant:
        """The request's organization and the caller's membership."""
        reference = self.kwargs.get(self.tenant_url_kwarg) if self.tenant_url_kwarg else None
        return tenancy.resolve(self.request, reference=reference)

    def reachable(self) -> QuerySet:
        """The resource's rows, always filtered by the organization and the caller's reach."""
        tenant = self.tenant
        return visible_rows(
            self.select().filter(**{self.tenant_field: tenant.organization}),
            membership=tenant.membership,
            module=self.module,
        )

    def get_serializer_context(self) -> dict:
        """Give serializers the tenant, for scoping the foreign keys they accept."""
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request is not None:
            try:
                context["tenant"] = self.tenant
            except exceptions.APIException:
                pass
        return context

    def perform_create(self, serializer) -> None:
        """Stamp the organization and author from the request, never from the body."""
        serializer.save(organization=self.tenant.organization, created_by=self.request.user)
