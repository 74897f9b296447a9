"""Bulk writes: up to 1,000 creates, changes and deletes of one resource, all or nothing.

A resource takes part by registering a :class:`BulkResource`: its model, the serializer its
single-item endpoints validate with, and a :class:`Writer` whose methods are the business rules
of its services (the same functions its single-item services call, never a copy of them).

:func:`plan` validates every item (shape and types with the resource's serializer, foreign
keys against the organization, the rows named for change or deletion against what the caller
may reach and own, the services' rules) and collects every item's errors; :func:`bulk_write`
then writes, in one transaction, with one ``INSERT`` of the new rows, one ``UPDATE`` of the
changed rows and one ``DELETE`` of the deleted ones (plus one statement per relation that
points at them). What each single write causes besides (an audit row per row, version bumps
of the metrics cache) is batched by :mod:`valar.core.batch`: one ``INSERT`` of every audit
row and one bump of each version. So the number of statements does not grow with the items.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, router, transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone
from rest_framework import serializers
from rest_framework.serializers import as_serializer_error

from valar.core import batch
from valar.core.errors import Conflict, DomainError, flatten_errors
from valar.core.policy import Access, owns
from valar.core.serializers import pk_of, preload_related
from valar.core.tenancy import Tenant

#: The most items (creates, changes and deletes together) one bulk request or import holds.
MAX_ITEMS = 1000
#: Operations of a bulk request, in the order they are checked and written.
OPERATIONS = ("create", "update", "delete")
#: The policy action of each bulk operation, unless the resource names its own.
POLICY_ACTIONS = {"create": "create", "update": "change", "delete": "delete"}
NOT_FOUND = "Not found."
NOT_OWNED = "You may change or delete only the rows you created or are assigned to."
REPEATED = "This id is given more than once."
#: Names an item in errors from its operation and index.
ItemKey = Callable[[str, int], str]


class BulkError(DomainError):
    """Items of a bulk write broke rules: nothing was written; ``errors`` names each item."""


@dataclass(frozen=True)
class Changed:
    """A row a bulk write changed, with the values (by attribute name) it was loaded with."""

    row: models.Model
    before: dict[str, Any]


class Writer:
    """How a resource's rows are built, changed and refused deletion, without writing.

    The defaults fit a resource whose single-item writes are the serializer's own
    (``Model(**data)`` stamped with the organization and author; attributes set on change).
    A resource with business rules subclasses it in its ``services.py`` and calls the
    functions its single-item services call. Methods raise :class:`DomainError` (or Django's
    ``ValidationError``) for an item that breaks a rule; the error is reported for that item.
    """

    model: ClassVar[type[models.Model]]
    #: Foreign keys the rules read on a row loaded for change or deletion (loaded with it).
    related: ClassVar[tuple[str, ...]] = ()

    def build(self, *, tenant: Tenant, data: dict[str, Any]) -> models.Model:
        """A new, unsaved row from validated ``data``."""
        return self.model(
            organization=tenant.organization, created_by=tenant.membership.user, **data
        )

    def change(self, *, tenant: Tenant, instance: models.Model, data: dict[str, Any]) -> None:
        """Apply validated ``data`` to ``instance`` (a row loaded for change), unsaved."""
        for name, value in data.items():
            setattr(instance, name, value)

    def refuse_deletes(self, *, tenant: Tenant, instances: list[models.Model]) -> dict[Any, str]:
        """The rows that must not be deleted, by primary key, with why (one query at most)."""
        return {}

    def numbered(self, *, tenant: Tenant, created: list[models.Model]) -> None:
        """Just before the new rows are inserted, in the writing transaction: give them what
        is taken only when they are written (gap-free numbers, ``core.sequences``), in one
        statement. A dry run never calls it. By default nothing."""

    def written(
        self, *, tenant: Tenant, created: list[models.Model], updated: list[Changed]
    ) -> None:
        """After the rows are written, in the same transaction and write batch: the events a
        resource's single-item services record besides the row's own audit (a task completed
        or reassigned, its assignee notified). ``updated`` pairs each changed row with the
        values it was loaded with. Keep it to a bounded number of statements (audit events
        are batched; notify through ``core.notify.notify_many``). By default nothing."""


@dataclass(frozen=True)
class BulkResource:
    """A resource that takes bulk writes and imports: its policy module, serializer and writer.

    ``preview_fields`` are read-only fields the rules compute that an import's dry run shows
    with each row (a lead's ``score``, an entry's ``base_amount``). ``policy_actions`` are the
    policy actions its operations need, as its views' single writes do (by default ``create``,
    ``change`` and ``delete``; every one ``claim`` for expense claims).
    """

    name: str
    module: str
    serializer_class: type[serializers.ModelSerializer]
    writer: Writer
    preview_fields: tuple[str, ...] = ()
    policy_actions: Mapping[str, str] = field(
        default_factory=lambda: dict(POLICY_ACTIONS), compare=False
    )

    @property
    def model(self) -> type[models.Model]:
        """The resource's model."""
        return self.writer.model

    @cached_property
    def writable_fields(self) -> list[str]:
        """The fields a client may give (the columns an import reads)."""
        return [
            name for name, field in self.serializer_class().fields.items() if not field.read_only
        ]

    @cached_property
    def known_fields(self) -> set[str]:
        """Every field of the serializer (an export's columns: read-only ones are skipped)."""
        return set(self.serializer_class().fields)


#: Every registered resource by name (an import job finds its resource here).
RESOURCES: dict[str, BulkResource] = {}


def register(resource: BulkResource) -> BulkResource:
    """Register ``resource`` under its name (once per name) and return it."""
    existing = RESOURCES.setdefault(resource.name, resource)
    if existing is not resource:
        raise ValueError(f"A bulk resource named {resource.name!r} is registered already.")
    return resource


@dataclass
class Plan:
    """A checked bulk write: what to create, change and delete, or each item's errors.

    ``errors`` maps ``(operation, index)`` to the item's field errors (``{}`` when the item
    is fine is not stored); ``created`` keeps the built rows in the order of the request.
    """

    created: list[models.Model] = field(default_factory=list)
    updated: list[models.Model] = field(default_factory=list)
    deleted: list[models.Model] = field(default_factory=list)
    errors: dict[tuple[str, int], dict[str, list[str]]] = field(default_factory=dict)
    #: For each create item, its built row or ``None`` when it failed (import previews).
    create_rows: list[models.Model | None] = field(default_factory=list)

    def problem_errors(self, item_key: ItemKey | None = None) -> dict[str, list[str]]:
        """The errors as the problem's ``errors``: ``<operation>.<index>.<field>`` keys.

        ``item_key`` names an item otherwise (an import says ``row.<n>``, see
        :mod:`valar.core.imports`); an item's error about itself, not one of its fields, is
        keyed by the item alone (``delete.3``).
        """
        flat: dict[str, list[str]] = {}
        for (operation, index), errors in sorted(
            self.errors.items(), key=lambda pair: (OPERATIONS.index(pair[0][0]), pair[0][1])
        ):
            item = (item_key or default_item_key)(operation, index)
            for name, messages in errors.items():
                key = item if name == "non_field_errors" else f"{item}.{name}"
                flat.setdefault(key, []).extend(messages)
        return flat


def default_item_key(operation: str, index: int) -> str:
    """How a bulk request's item is named in errors: ``create.0``, ``delete.3``."""
    return f"{operation}.{index}"


def _item_errors(exc: Exception) -> dict[str, list[str]]:
    """One item's error as ``{field: [messages]}`` (``non_field_errors`` for the item)."""
    if isinstance(exc, DomainError):
        return {name: list(messages) for name, messages in (exc.errors or {}).items()} or {
            "non_field_errors": [exc.message]
        }
    if isinstance(exc, DjangoValidationError):
        return flatten_errors(as_serializer_error(exc))
    return flatten_errors(exc.detail)


def _validate(serializer: serializers.Serializer, item, *, instance=None) -> dict:
    """Validate one item with the resource's serializer (one instance reused for every item).

    The serializer's ``initial_data`` is the item, so a row read from a file (a ``QueryDict``)
    is parsed as text, as a form is, and a JSON item keeps its strict JSON types.
    """
    serializer.initial_data = item
    serializer.instance = instance
    if not isinstance(item, Mapping):
        raise serializers.ValidationError(
            {"non_field_errors": ["Each item must be an object."]}, code="invalid"
        )
    return serializer.run_validation(item)


def plan(
    *,
    tenant: Tenant,
    resource: BulkResource,
    rows: models.QuerySet,
    create: list,
    update: list,
    delete: list,
    access: Mapping[str, Access],
    context: dict[str, Any] | None = None,
) -> Plan:
    """Check every item of a bulk write and build what it would write; write nothing.

    ``rows`` are the rows the caller may reach (the resource's selection, scoped to the
    organization and to what the caller may read); a change or deletion of any other id is
    that item's error (``Not found.``), so another organization's rows are never touched.
    ``access`` is the caller's policy access per operation: ``OWN`` limits changes and
    deletions to the rows the caller owns. Run it inside the transaction that writes, so the
    rows it loads for change stay locked until then.
    """
    if sum(len(items) for items in (create, update, delete)) > MAX_ITEMS:
        raise DomainError(
            f"At most {MAX_ITEMS:,} items in one request.",
            code="too_many_items",
            errors={"non_field_errors": [f"At most {MAX_ITEMS:,} items in one request."]},
        )
    result = Plan()
    writer = resource.writer
    context = {**(context or {}), "tenant": tenant}
    context["preloaded"] = preload_related(
        resource.serializer_class(context=context),
        [*create, *(item for item in update if isinstance(item, Mapping))],
    )

    creator = resource.serializer_class(context=context)
    for index, item in enumerate(create):
        try:
            built = writer.build(tenant=tenant, data=dict(_validate(creator, item)))
        except (serializers.ValidationError, DomainError, DjangoValidationError) as exc:
            result.errors["create", index] = _item_errors(exc)
            result.create_rows.append(None)
        else:
            result.created.append(built)
            result.create_rows.append(built)

    model = resource.model
    wanted = {
        key
        for operation, items in (("update", update), ("delete", delete))
        for item in items
        if (
            key := pk_of(
                model,
                item.get("id") if operation == "update" and isinstance(item, Mapping) else item,
            )
        )
        is not None
    }
    found = {
        row.pk: row
        for row in (
            rows.filter(pk__in=wanted)
            .select_related(*writer.related)
            .select_for_update(of=("self",))
            if wanted
            else ()
        )
    }
    user = tenant.membership.user
    seen: set = set()

    def target(operation: str, index: int, reference) -> models.Model | None:
        """The reachable row an update or delete item names, or ``None`` (error recorded)."""
        key = pk_of(model, reference)
        where = "id" if operation == "update" else "non_field_errors"
        if key is None:
            result.errors[operation, index] = {where: ["Give the id of a row (a UUID)."]}
            return None
        if key in seen:
            result.errors[operation, index] = {where: [REPEATED]}
            return None
        seen.add(key)
        row = found.get(key)
        if row is None:
            result.errors[operation, index] = {where: [NOT_FOUND]}
            return None
        if access[operation] == Access.OWN and not owns(row, user):
            result.errors[operation, index] = {where: [NOT_OWNED]}
            return None
        return row

    changer = resource.serializer_class(context=context, partial=True)
    for index, item in enumerate(update):
        if not isinstance(item, Mapping):
            result.errors["update", index] = {"non_field_errors": ["Each item must be an object."]}
            continue
        row = target("update", index, item.get("id"))
        if row is None:
            continue
        data = {name: value for name, value in item.items() if name != "id"}
        try:
            writer.change(
                tenant=tenant, instance=row, data=dict(_validate(changer, data, instance=row))
            )
        except (serializers.ValidationError, DomainError, DjangoValidationError) as exc:
            result.errors["update", index] = _item_errors(exc)
        else:
            result.updated.append(row)

    deletable = []
    for index, reference in enumerate(delete):
        row = target("delete", index, reference)
        if row is not None:
            deletable.append((index, row))
    refused = writer.refuse_deletes(tenant=tenant, instances=[row for _, row in deletable])
    for index, row in deletable:
        if row.pk in refused:
            result.errors["delete", index] = {"non_field_errors": [refused[row.pk]]}
        else:
            result.deleted.append(row)
    return result


def bulk_write(
    *,
    tenant: Tenant,
    resource: BulkResource,
    rows: models.QuerySet,
    create: list,
    update: list,
    delete: list,
    access: Mapping[str, Access],
    context: dict[str, Any] | None = None,
    item_key: ItemKey | None = None,
) -> Plan:
    """Check every item, then write all of them in one transaction, or none (400).

    Raises :class:`BulkError` with every item's errors when any item fails (``item_key``
    names the items in its keys). Returns the plan, whose ``created``, ``updated`` and
    ``deleted`` rows were written.
    """
    with transaction.atomic(), batch.batch():
        checked = plan(
            tenant=tenant,
            resource=resource,
            rows=rows,
            create=create,
            update=update,
            delete=delete,
            access=access,
            context=context,
        )
        if checked.errors:
            raise BulkError(
                "Nothing was written: some items are invalid; see errors.",
                errors=checked.problem_errors(item_key),
            )
        before = [dict(getattr(row, "_audit_loaded", None) or {}) for row in checked.updated]
        resource.writer.numbered(tenant=tenant, created=checked.created)
        write(resource.model, created=checked.created, updated=checked.updated)
        delete_rows(resource.model, checked.deleted)
        resource.writer.written(
            tenant=tenant,
            created=checked.created,
            updated=[
                Changed(row, loaded) for row, loaded in zip(checked.updated, before, strict=True)
            ],
        )
    return checked


def write(model: type[models.Model], *, created: list, updated: list) -> None:
    """Insert ``created`` in one statement and save the changed fields of ``updated`` in one.

    ``post_save`` is sent for every row written, as a single save sends it, so the audit
    trail and the cache versions record each row (batched when a write batch is open).
    """
    using = router.db_for_write(model)
    if created:
        model._base_manager.using(using).bulk_create(created)
        for instance in created:
            post_save.send(
                sender=model, instance=instance, created=True, update_fields=None, raw=False,
                using=using,
            )  # fmt: skip
    changes = [(instance, _changed_fields(instance)) for instance in updated]
    changes = [(instance, names) for instance, names in changes if names]
    if not changes:
        return
    names = sorted({name for _, fields in changes for name in fields})
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        now = timezone.now()
        for instance, _ in changes:
            instance.updated_at = now
        names.append("updated_at")
    model._base_manager.using(using).bulk_update([instance for instance, _ in changes], names)
    for instance, fields in changes:
        post_save.send(
            sender=model, instance=instance, created=False, update_fields=frozenset(fields),
            raw=False, using=using,
        )  # fmt: skip


def _changed_fields(instance: models.Model) -> list[str]:
    """The fields of a loaded row whose values differ from those it was loaded with."""
    loaded = getattr(instance, "_audit_loaded", None)
    if loaded is None:
        raise TypeError(f"{type(instance).__name__} does not remember its loaded values.")
    return [
        f.name
        for f in instance._meta.concrete_fields
        if f.attname in loaded and loaded[f.attname] != getattr(instance, f.attname)
    ]


def _relations_to(model: type[models.Model]) -> Iterable:
    """The one-to-many and one-to-one relations pointing at ``model`` (hidden ones too)."""
    return (
        relation
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and (relation.one_to_many or relation.one_to_one)
    )


def delete_rows(model: type[models.Model], instances: list[models.Model]) -> None:
    """Delete ``instances`` with one ``DELETE``, doing what each relation's ``on_delete`` says.

    Rows pointing at them are set to null (one ``UPDATE`` per relation) or deleted first by
    the same function (one ``SELECT`` and one ``DELETE`` per relation); a protected relation
    still in use is a 409. ``pre_delete`` and ``post_delete`` are sent for every deleted row,
    as Django's own deletion sends them, so the audit trail and the versions see each one
    (and an attachment's file goes with its row). Django's collector would delete in chunks
    of 100 rows and update in chunks as well.
    """
    if not instances:
        return
    using = router.db_for_write(model)
    keys = [instance.pk for instance in instances]
    for relation in _relations_to(model):
        remote = relation.field
        related = relation.related_model._base_manager.using(using).filter(
            **{f"{remote.name}__in": keys}
        )
        on_delete = remote.remote_field.on_delete
        if on_delete is models.CASCADE:
            delete_rows(relation.related_model, list(related))
        elif on_delete is models.SET_NULL:
            related.update(**{remote.name: None})
        elif on_delete in (models.PROTECT, models.RESTRICT):
            if related.exists():
                used_by = relation.related_model._meta.verbose_name_plural
                raise Conflict(f"Some rows are still used by {used_by}.", code="in_use")
        elif on_delete is not models.DO_NOTHING:
            raise NotImplementedError(f"{remote} has an on_delete the bulk delete does not do.")
    for instance in instances:
        pre_delete.send(sender=model, instance=instance, using=using, origin=instance)
    model._base_manager.using(using).filter(pk__in=keys)._raw_delete(using)
    for instance in instances:
        post_delete.send(sender=model, instance=instance, using=using, origin=instance)
