"""Write helpers shared by every app's services."""

from typing import Any

from django.db import models


def model_update(
    *, instance: models.Model, fields: list[str], data: dict[str, Any]
) -> tuple[models.Model, list[str]]:
    """Set the given ``fields`` of ``instance`` from ``data`` and save only what changed.

    Returns the instance and the names of the fields whose value changed (empty when nothing
    did, in which case nothing is written).
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            changed_with_timestamp = [*changed, "updated_at"]
        else:
            changed_with_timestamp = changed
        instance.full_clean(
            exclude=[f.name for f in instance._meta.fields if f.name not in changed]
        )
        instance.save(update_fields=changed_with_timestamp)
    return instance, changed
