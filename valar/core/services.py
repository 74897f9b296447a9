"""Write helpers shared by every app's services."""

from typing import Any

from django.db import models


def model_change(
    *,
    instance: models.Model,
    fields: list[str],
    data: dict[str, Any],
    check_relations: bool = True,
) -> list[str]:
    """Set the given ``fields`` of ``instance`` from ``data`` and validate them; save nothing.

    Returns the names of the fields whose value changed. Only those are validated; with
    ``check_relations`` off, foreign keys are not looked up again (the bulk service checked
    every one of them against the organization in one query per field) and uniqueness and
    constraints are left to the database, so that validating a row costs no query.
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        instance.full_clean(
            exclude=[
                f.name
                for f in instance._meta.fields
                if f.name not in changed or (f.is_relation and not check_relations)
            ],
            validate_unique=check_relations,
            validate_constraints=check_relations,
        )
    return changed


def model_update(
    *, instance: models.Model, fields: list[str], data: dict[str, Any]
) -> tuple[models.Model, list[str]]:
    """Set the given ``fields`` of ``instance`` from ``data`` and save only what changed.

    Returns the instance and the names of the fields whose value changed (empty when nothing
    did, in which case nothing is written).
    """
    changed = model_change(instance=instance, fields=fields, data=data)
    if changed:
        if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            changed_with_timestamp = [*changed, "updated_at"]
        else:
            changed_with_timestamp = changed
        instance.save(update_fields=changed_with_timestamp)
    return instance, changed
