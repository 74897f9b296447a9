"""Django admin for the audit trail (read only)."""

from django.contrib import admin

from valar.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Audit events, read only."""

    list_display = ["created_at", "organization", "actor", "action", "object_type", "channel"]
    list_filter = ["action", "channel"]
    search_fields = ["object_id", "object_repr", "actor__email"]

    def has_add_permission(self, request) -> bool:
        """The trail is append-only, written by the application."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """The trail is never edited."""
        return False
