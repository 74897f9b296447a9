"""Task use cases: create, change, complete, reopen, delete; completion time kept right."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core.errors import Conflict
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.tasks.models import Task

EDITABLE_FIELDS = ["title", "description", "status", "priority", "due_date", "assignee", "team"]


def _completed_at(status: str, current):
    """The completion time a task in ``status`` should have: kept, now, or none."""
    if status != Task.Status.DONE:
        return None
    return current or timezone.now()


@transaction.atomic
def task_create(*, tenant: Tenant, data: dict[str, Any]) -> Task:
    """Create a task in the organization, authored by the caller."""
    task = Task(organization=tenant.organization, created_by=tenant.membership.user, **data)
    task.completed_at = _completed_at(task.status, None)
    task.save()
    return task


@transaction.atomic
def task_update(*, task: Task, data: dict[str, Any]) -> Task:
    """Change a task; a change of assignee is also recorded as a reassignment."""
    previous_assignee = task.assignee_id
    completed_at = _completed_at(data.get("status", task.status), task.completed_at)
    task, changed = model_update(
        instance=task,
        fields=[*EDITABLE_FIELDS, "completed_at"],
        data={**data, "completed_at": completed_at},
    )
    if "assignee" in changed:
        audit_record(
            action="task.reassign",
            organization_id=task.organization_id,
            instance=task,
            changes={"assignee": {"old": previous_assignee, "new": task.assignee_id}},
        )
    return task


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
