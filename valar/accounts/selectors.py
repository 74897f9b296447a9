"""Account reads: the caller's tokens and sign-in history, and the sign-in log's filters."""

import django_filters
from django import forms
from django.db.models import QuerySet

from valar.accounts.models import ApiToken, LoginLog, User
from valar.core.filters import DateRangeFilterSet


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that have not been revoked, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def login_log_list(*, user: User) -> QuerySet[LoginLog]:
    """The user's own sign-in attempts, newest first."""
    return LoginLog.objects.filter(user=user).order_by("-created_at")


class TimeRangeForm(forms.Form):
    """Refuses an ``end_time`` before the ``start_time``."""

    def clean(self):
        """Check the order of the two instants when both are given."""
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and start > end:
            raise forms.ValidationError({"end_time": "end_time must not be before start_time."})
        return data


class LoginLogFilter(DateRangeFilterSet):
    """Filters of a sign-in log: ``start_date``/``end_date``, ``start_time``/``end_time``
    (inclusive, on the attempt's time) and ``successful``."""

    start_time = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="At or after this instant (ISO 8601, e.g. 2026-01-31T09:00:00Z).",
    )
    end_time = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lte",
        help_text="At or before this instant (ISO 8601).",
    )

    class Meta:
        model = LoginLog
        fields = ["successful"]

    def get_form_class(self):
        """The date-range form with the check of the time range's order mixed in."""
        form_class = super().get_form_class()
        return type(form_class.__name__, (TimeRangeForm, form_class), {})
