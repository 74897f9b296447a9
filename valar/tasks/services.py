"""Task use cases: create, change, complete, reopen, delete; completion time kept right."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core import bulk
from valar.core.errors import Conflict
from valar.core.services import model_change
from valar.core.tenancy import Tenant
from valar.tasks.models import Task

EDITABLE_FIELDS = ["title", "description", "status", "priority", "due_date", "assignee", "team"]


def _completed_at(status: str, current):
    """The completion time a task in ``status`` should have: kept, now, or none."""
    if status != Task.Status.DONE:
        return None
    return current or timezone.now()


def task_build(*, tenant: Tenant, data: dict[str, Any]) -> Task:
    """A new task of the organization, authored by the caller (unsaved)."""
    task = Task(organization=tenant.organization, created_by=tenant.membership.user, **data)
    task.completed_at = _completed_at(task.status, None)
    task.set_priority_rank()
    return task


@transaction.atomic
def task_create(*, tenant: Tenant, data: dict[str, Any]) -> Task:
    """Create a task in the organization, authored by the caller."""
    task = task_build(tenant=tenant, data=data)
    task.save()
    return task


def task_change(*, task: Task, data: dict[str, Any], check_relations: bool = True) -> list[str]:
    """Apply a change to a task, unsaved (completion time follows); return what changed."""
    completed_at = _completed_at(data.get("status", task.status), task.completed_at)
    changed = model_change(
        instance=task,
        fields=[*EDITABLE_FIELDS, "completed_at"],
        data={**data, "completed_at": completed_at},
        check_relations=check_relations,
    )
    task.set_priority_rank()
    return changed


def _record_reassignment(task: Task, previous_assignee, changed: list[str]) -> None:
    """Record a change of assignee as a reassignment."""
    if "assignee" in changed:
        audit_record(
            action="task.reassign",
            organization_id=task.organization_id,
            instance=task,
            changes={"assignee": {"old": previous_assignee, "new": task.assignee_id}},
        )


@transaction.atomic
def task_update(*, task: Task, data: dict[str, Any]) -> Task:
    """Change a task; a change of assignee is also recorded as a reassignment."""
    previous_assignee = task.assignee_id
    changed = task_change(task=task, data=data)
    if changed:
        task.save(update_fields=[*changed, "updated_at"])
    _record_reassignment(task, previous_assignee, changed)
    return task


class TaskWriter(bulk.Writer):
    """Bulk writes of tasks, by the same rules as :func:`task_create` and :func:`task_update`."""

    model = Task

    def build(self, *, tenant: Tenant, data: dict[str, Any]) -> Task:
        """A new task, as :func:`task_create` makes it."""
        return task_build(tenant=tenant, data=data)

    def change(self, *, tenant: Tenant, instance: Task, data: dict[str, Any]) -> None:
        """A change, as :func:`task_update` applies it (reassignments recorded)."""
        previous_assignee = instance.assignee_id
        changed = task_change(task=instance, data=data, check_relations=False)
        _record_reassignment(instance, previous_assignee, changed)


@transaction.atomic
def task_complete(*, task: Task) -> Task:
    """Mark a task done now; 409 when it already is."""
    if task.status == Task.Status.DONE:
        raise Conflict("The task is already done.", code="already_done")
    task.status = Task.Status.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    audit_record(action="task.complete", organization_id=task.organization_id, instance=task)
    return task


@transaction.atomic
def task_reopen(*, task: Task) -> Task:
    """Put a done or cancelled task back to ``todo``; 409 when it is open already."""
    if task.status not in Task.CLOSED:
        raise Conflict("The task is already open.", code="already_open")
    task.status = Task.Status.TODO
    task.completed_at = None
    task.save(update_fields=["status", "completed_at", "updated_at"])
    audit_record(action="task.reopen", organization_id=task.organization_id, instance=task)
    return task


def task_delete(*, task: Task) -> None:
    """Delete a task."""
    task.delete()
