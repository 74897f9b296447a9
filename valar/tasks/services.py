"""Task use cases: create, change, complete, reopen, delete; completion time kept right.

Every path to a state change goes through the service that owns it: a change of ``status``
to ``done`` is :func:`task_complete`, from done or cancelled back to an open status is
:func:`task_reopen` (then the wanted status), so both audit alike; a task assigned to
someone other than the person assigning it notifies the assignee.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.audit.services import audit_record
from valar.core import bulk
from valar.core.errors import Conflict
from valar.core.notify import Message, notify_many
from valar.core.services import model_change, model_update
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
    _notify_assignee(task, tenant.membership.user)
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


def _assignment_message(task: Task, actor) -> Message:
    """What a task's assignee is told when someone gives them the task."""
    return Message(
        recipients=[task.assignee_id],
        title=f"Task assigned: {task.title}"[:200],
        body=f"{actor.full_name} assigned you this task." if actor is not None else "",
        link=f"/api/v1/tasks/{task.pk}/",
    )


def _notify_assignee(task: Task, actor) -> None:
    """Tell the task's assignee they were given it, unless they assigned it to themselves."""
    if task.assignee_id is None or (actor is not None and task.assignee_id == actor.pk):
        return
    notify_many(
        organization=task.organization,
        messages=[_assignment_message(task, actor)],
        kind="tasks",
        actor=actor,
    )


@transaction.atomic
def task_update(*, task: Task, data: dict[str, Any], actor=None) -> Task:
    """Change a task; a change of assignee is also recorded as a reassignment.

    ``status: done`` on an open task completes it (:func:`task_complete`), an open status on
    a closed task reopens it (:func:`task_reopen`) first; ``actor`` is who changes it.
    """
    previous_assignee = task.assignee_id
    wanted = data.get("status", task.status)
    completing = wanted == Task.Status.DONE and task.status != Task.Status.DONE
    reopening = task.status in Task.CLOSED and wanted not in Task.CLOSED
    fields = dict(data)
    if completing or reopening:
        # The status (and with it the completion time) is the service's to change.
        fields.pop("status")
    else:
        fields["completed_at"] = _completed_at(wanted, task.completed_at)
    task, changed = model_update(
        instance=task, fields=[*EDITABLE_FIELDS, "completed_at"], data=fields
    )
    if completing:
        task = task_complete(task=task)
    if reopening:
        task = task_reopen(task=task)
        if wanted != task.status:
            task, _ = model_update(instance=task, fields=["status"], data={"status": wanted})
    _record_reassignment(task, previous_assignee, changed)
    if "assignee" in changed:
        _notify_assignee(task, actor)
    return task


class TaskWriter(bulk.Writer):
    """Bulk writes of tasks, by the same rules as :func:`task_create` and :func:`task_update`."""

    model = Task

    def build(self, *, tenant: Tenant, data: dict[str, Any]) -> Task:
        """A new task, as :func:`task_create` makes it."""
        return task_build(tenant=tenant, data=data)

    def change(self, *, tenant: Tenant, instance: Task, data: dict[str, Any]) -> None:
        """A change, as :func:`task_update` applies it (its events follow in :meth:`written`)."""
        task_change(task=instance, data=data, check_relations=False)

    def written(self, *, tenant: Tenant, created: list[Task], updated: list[bulk.Changed]) -> None:
        """What the single-item services record besides the rows: for each task changed, a
        completion (``task.complete``), a reopening (``task.reopen``) and a reassignment
        (``task.reassign``) as :func:`task_update` records them; every assignee given a task by
        someone else is notified (one ``notify_many`` for the whole write)."""
        actor = tenant.membership.user
        given = [task for task in created if task.assignee_id is not None]
        for change in updated:
            task, before = change.row, change.before
            was = before.get("status", task.status)
            if task.status == Task.Status.DONE and was != Task.Status.DONE:
                audit_record(
                    action="task.complete", organization_id=task.organization_id, instance=task
                )
            elif was in Task.CLOSED and task.status not in Task.CLOSED:
                audit_record(
                    action="task.reopen", organization_id=task.organization_id, instance=task
                )
            previous_assignee = before.get("assignee_id", task.assignee_id)
            if previous_assignee != task.assignee_id:
                _record_reassignment(task, previous_assignee, ["assignee"])
                if task.assignee_id is not None:
                    given.append(task)
        notify_many(
            organization=tenant.organization,
            messages=[
                _assignment_message(task, actor) for task in given if task.assignee_id != actor.pk
            ],
            kind="tasks",
            actor=actor,
        )


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
