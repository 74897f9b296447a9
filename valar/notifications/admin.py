"""Django admin for notifications (read-only: they are written by ``core.notify``)."""

from django.contrib import admin

from valar.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications, by organization, kind and level."""

    list_display = ["title", "user", "organization", "kind", "level", "read_at", "created_at"]
    list_filter = ["kind", "level", "organization"]
    search_fields = ["title", "user__email"]
    raw_id_fields = ["user", "organization", "created_by"]

    def has_add_permission(self, request) -> bool:
        """Notifications come from ``notify()``, not from the admin."""
        return False
