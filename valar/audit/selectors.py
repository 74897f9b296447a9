"""Audit reads: the organization's events, filterable by actor, action, type and date."""

import django_filters
from django.db.models import QuerySet

from valar.audit.models import AuditEvent
from valar.core.filters import DateRangeFilterSet


class AuditEventFilter(DateRangeFilterSet):
    """Filters of the audit trail."""

    actor = django_filters.UUIDFilter(field_name="actor_id")
    action = django_filters.CharFilter(field_name="action")
    object_type = django_filters.CharFilter(field_name="object_type")
    object_id = django_filters.CharFilter(field_name="object_id")
    resource = django_filters.CharFilter(
        method="filter_resource",
        help_text="An app's events: its object types (`screening`: lists, entries, reviews).",
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_resource(self, queryset, name, value):
        """Events on rows of the app ``value`` (object types ``<app>.<model>``)."""
        return queryset.filter(object_type__startswith=f"{value}.")


def audit_event_list(*, organization) -> QuerySet[AuditEvent]:
    """The organization's audit events, newest first, with their actors."""
    return (
        AuditEvent.objects.filter(organization=organization)
        .select_related("actor")
        .order_by("-created_at")
    )
