"""Alert reads: the rules a member may manage, firings, windows and recipients."""

import datetime
import zoneinfo

import django_filters
from django.db.models import Q, QuerySet
from django.utils.choices import BaseChoiceIterator

from valar.alerts.models import AlertFiring, AlertRule, Period, State
from valar.core.filters import StrictBooleanFilter
from valar.core.limits import MIN_DATE
from valar.core.metrics import get_source, sources
from valar.core.metrics.engine import is_datetime_field
from valar.core.policy import Access, view_access
from valar.organizations.models import Membership, Organization


def watchable_sources(membership) -> list[str]:
    """The metric sources whose organization-wide figures ``membership`` may read.

    A source of a module the member reads only in part (``view: own``) or not at all is left
    out: a rule's figure counts every row of the organization.
    """
    return sorted(
        name
        for name, source in sources().items()
        if not source.module
        or view_access(membership=membership, module=source.module) == Access.ALL
    )


def alert_rule_list(*, organization: Organization, membership) -> QuerySet[AlertRule]:
    """The organization's rules over sources the member may read in full."""
    return AlertRule.objects.filter(
        organization=organization, source__in=watchable_sources(membership)
    )


def alert_rule_display(rules: QuerySet[AlertRule]) -> QuerySet[AlertRule]:
    """``rules`` with their recipients' ids (two prefetch queries per page)."""
    return rules.prefetch_related("users", "teams")


def firing_list(*, rule: AlertRule) -> QuerySet[AlertFiring]:
    """The rule's firings, newest first."""
    return AlertFiring.objects.filter(rule=rule).order_by("-fired_at", "-created_at")


def enabled_rules(organization: Organization | None = None) -> QuerySet[AlertRule]:
    """The enabled rules the checker evaluates (of one organization, or of all)."""
    rules = AlertRule.objects.filter(enabled=True).select_related("organization")
    if organization is not None:
        rules = rules.filter(organization=organization)
    return rules.order_by("organization_id", "source", "pk")


def window(
    *,
    period: str,
    length: int | None,
    datetime_field: bool,
    time_zone: str,
    now: datetime.datetime,
) -> tuple[datetime.date | datetime.datetime | None, datetime.date | datetime.datetime]:
    """The ``[start, end)`` a period covers at ``now`` in ``time_zone``.

    Dates for a date field, aware instants for a datetime field; ``start`` is ``None`` when
    open below. ``last_hours`` applies to datetime fields only (validation refuses it
    otherwise).
    """
    tz = zoneinfo.ZoneInfo(time_zone or "UTC")
    today = now.astimezone(tz).date()
    if period == Period.LAST_HOURS:
        return now - datetime.timedelta(hours=length or 1), now
    if period == Period.LAST_DAYS:
        if datetime_field:
            return now - datetime.timedelta(days=length or 1), now
        return today - datetime.timedelta(days=(length or 1) - 1), today + datetime.timedelta(1)
    if period == Period.BEFORE_TODAY:
        first, end = MIN_DATE, today
    elif period == Period.TODAY:
        first, end = today, today + datetime.timedelta(days=1)
    elif period == Period.THIS_WEEK:
        first = today - datetime.timedelta(days=today.weekday())
        end = first + datetime.timedelta(days=7)
    else:
        first = today.replace(day=1)
        end = (first + datetime.timedelta(days=32)).replace(day=1)
    if not datetime_field:
        return first, end
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end, datetime.time.min, tzinfo=tz),
    )


def rule_window(rule: AlertRule, now: datetime.datetime):
    """The window ``rule`` covers at ``now`` (see :func:`window`)."""
    source = get_source(rule.source)
    return window(
        period=rule.period,
        length=rule.period_length,
        datetime_field=is_datetime_field(source, rule.date_field),
        time_zone=rule.organization.timezone,
        now=now,
    )


def rule_recipients(rule: AlertRule) -> list:
    """The ids of the members told of the rule's firings, in one query.

    The rule's users and the members of its teams, who are members of the organization now
    and may read the source's figures in full (a recipient who lost the module, or reads it
    only in part, is left out: the figure counts every row).
    """
    source = get_source(rule.source)
    memberships = Membership.objects.filter(organization_id=rule.organization_id).filter(
        Q(user__in=rule.users.values("pk"))
        | Q(user__team_memberships__team__in=rule.teams.values("pk"))
    )
    allowed = {
        membership.user_id
        for membership in memberships.only("user_id", "role", "modules").distinct()
        if source is None
        or not source.module
        or view_access(membership=membership, module=source.module) == Access.ALL
    }
    return sorted(allowed, key=str)


class SourceChoices(BaseChoiceIterator):
    """The registered sources as choices, read from the registry each time they are listed.

    Not a callable, so the schema still lists them as an enum (drf-spectacular does not call
    choice functions), and a source registered later is offered without a change here.
    """

    def __iter__(self):
        """Each registered source as ``(name, name)``."""
        return iter([(name, name) for name in sorted(sources())])


class AlertRuleFilter(django_filters.FilterSet):
    """Filters of the rule list."""

    source = django_filters.ChoiceFilter(choices=SourceChoices())
    state = django_filters.ChoiceFilter(choices=State.choices)
    enabled = StrictBooleanFilter()

    class Meta:
        model = AlertRule
        fields: list[str] = []
