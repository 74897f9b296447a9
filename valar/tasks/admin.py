"""Django admin for tasks."""

from django.contrib import admin

from valar.tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Tasks, by organization and status."""

    list_display = ["title", "organization", "status", "priority", "due_date", "assignee"]
    list_filter = ["status", "priority", "organization"]
    search_fields = ["title", "description"]
    raw_id_fields = ["assignee", "team", "created_by"]
