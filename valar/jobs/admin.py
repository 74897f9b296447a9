"""Django admin for jobs (read only: the base task class owns every field)."""

from django.contrib import admin

from valar.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs, by kind, state and organization."""

    list_display = ["kind", "organization", "state", "progress", "attempts", "created_at"]
    list_filter = ["state", "kind"]
    raw_id_fields = ["organization", "started_by"]

    def has_add_permission(self, request) -> bool:
        """Jobs are started by the services, never by hand."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """The base task class owns the record."""
        return False
