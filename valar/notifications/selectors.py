"""Notification reads: a user's own notifications in one organization, and the unread count."""

import django_filters
from django.db.models import QuerySet

from valar.core.filters import StrictBooleanFilter
from valar.notifications.models import Notification
from valar.organizations.models import Organization


class NotificationFilter(django_filters.FilterSet):
    """Filters of the notification list."""

    unread = StrictBooleanFilter(
        method="filter_unread", help_text="`true`: only unread; `false`: only read."
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset, name, value):
        """Keep unread (or read) notifications."""
        return queryset.filter(read_at__isnull=value)


def notification_list(*, organization: Organization) -> QuerySet[Notification]:
    """The organization's notifications (the viewset keeps only the caller's own)."""
    return Notification.objects.filter(organization=organization)


def unread_count(*, organization: Organization, user) -> int:
    """How many of ``user``'s notifications in ``organization`` are unread (one ``COUNT``)."""
    return Notification.objects.filter(
        organization=organization, user=user, read_at__isnull=True
    ).count()
