"""Alert use cases: define rules, check them, fire once, clear, deliver.

:func:`check_alerts` is what the schedule (and ``manage.py check_alerts``) runs: it computes
every enabled rule's figure through the metrics engine, one aggregate query per group of
rules that share an organization, source, date field, window and filters, and moves each
rule's state. A rule fires once when its figure crosses the threshold (one
:class:`AlertFiring`, delivered by :func:`deliver_firing`) and not again until the figure is
back within it (the firing is then closed). Both moves are conditional updates of the rule's
``state``, so two checkers running at once never fire (or clear) a rule twice; a partial
unique constraint keeps at most one open firing per rule in the database as well.
"""

import datetime
import json
import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.alerts import selectors
from valar.alerts.models import AlertFiring, AlertRule, Comparison, Period, State
from valar.audit.services import audit_record
from valar.core.errors import DomainError
from valar.core.metrics import MetricsError, figures, get_source
from valar.core.metrics.engine import is_datetime_field, validate
from valar.core.notify import notify
from valar.core.services import model_update
from valar.core.tenancy import Tenant

logger = logging.getLogger("valar.alerts")

CENT = Decimal("0.01")
#: The longest look-back of each rolling period.
MAX_PERIOD_LENGTH = {Period.LAST_HOURS: 24 * 31, Period.LAST_DAYS: 366}
#: What a rule is: changing any of these reopens the question (an open firing is closed).
DEFINITION_FIELDS = [
    "source",
    "measure",
    "date_field",
    "filters",
    "period",
    "period_length",
    "comparison",
    "threshold",
]
EDITABLE_FIELDS = ["name", *DEFINITION_FIELDS, "enabled"]


def _definition(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a rule's figure with the metrics engine; the normalised fields, or a 400.

    The source must be registered and readable in full by the caller (its module, ``view:
    all``); measure, date field and filters must be ones the source offers; the period's
    length is required for rolling periods only, and hours need a datetime field.
    """
    named = get_source(str(data.get("source"))) if isinstance(data.get("source"), str) else None
    try:
        spec = validate(
            {
                "source": data.get("source"),
                "measure": data.get("measure") or (named.measures[0] if named else "sum"),
                "date_field": data.get("date_field") or None,
                "filters": data.get("filters") or {},
                "start_date": timezone.localdate().isoformat(),
                "end_date": timezone.localdate().isoformat(),
            }
        )
    except MetricsError as error:
        raise DomainError(
            "The rule's figure is invalid; see errors.", code="invalid_query", errors=error.errors
        ) from error
    errors: dict[str, list[str]] = {}
    if spec["source"] not in selectors.watchable_sources(tenant.membership):
        source = get_source(spec["source"])
        errors["source"] = [
            f"The {spec['source']} source needs the {source.module} module, with every row."
        ]
    period, length = data.get("period", Period.THIS_MONTH), data.get("period_length")
    if period in MAX_PERIOD_LENGTH:
        if length is None:
            errors["period_length"] = [f"Give the number of {period.split('_')[1]}."]
        elif not 1 <= length <= MAX_PERIOD_LENGTH[period]:
            errors["period_length"] = [f"Give 1 to {MAX_PERIOD_LENGTH[period]}."]
    elif length is not None:
        errors["period_length"] = [f"Only last_hours and last_days take a length, not {period}."]
    if period == Period.LAST_HOURS and not is_datetime_field(
        get_source(spec["source"]), spec["date_field"]
    ):
        errors["period"] = [f"{spec['date_field']} is a date: choose a period of days."]
    if errors:
        raise DomainError(
            "The rule's figure is invalid; see errors.", code="invalid_query", errors=errors
        )
    return {
        "source": spec["source"],
        "measure": spec["measure"],
        "date_field": spec["date_field"],
        "filters": spec["filters"],
        "period": period,
        "period_length": length,
    }


@transaction.atomic
def alert_rule_create(*, tenant: Tenant, data: dict[str, Any]) -> AlertRule:
    """Create a rule in the organization, authored by the caller."""
    users, teams = data.pop("users", []), data.pop("teams", [])
    rule = AlertRule(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        name=data["name"],
        comparison=data.get("comparison", Comparison.ABOVE),
        threshold=data["threshold"],
        enabled=data.get("enabled", True),
        **_definition(tenant, data),
    )
    rule.save()
    rule.users.set(users)
    rule.teams.set(teams)
    return rule


@transaction.atomic
def alert_rule_update(*, tenant: Tenant, rule: AlertRule, data: dict[str, Any]) -> AlertRule:
    """Change a rule; a new definition, or disabling it, closes its open firing.

    The next check then judges the rule afresh (it fires again if its new figure is past its
    new threshold).
    """
    users, teams = data.pop("users", None), data.pop("teams", None)
    merged = {name: getattr(rule, name) for name in EDITABLE_FIELDS} | data
    if "period" in data and "period_length" not in data:
        merged["period_length"] = None  # a length belongs to the period it was given with
    if "source" in data and "date_field" not in data:
        merged["date_field"] = None
    merged |= _definition(tenant, merged)
    rule, changed = model_update(instance=rule, fields=EDITABLE_FIELDS, data=merged)
    if users is not None:
        rule.users.set(users)
    if teams is not None:
        rule.teams.set(teams)
    if set(changed) & {*DEFINITION_FIELDS, "enabled"}:
        _reset(rule)
    return rule


def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete a rule and its history."""
    rule.delete()


def _reset(rule: AlertRule) -> None:
    """Close the rule's open firing (no figure: the rule changed) and set it ``ok``."""
    now = timezone.now()
    if AlertRule.objects.filter(pk=rule.pk, state=State.FIRING).update(state=State.OK):
        AlertFiring.objects.filter(rule=rule, cleared_at__isnull=True).update(cleared_at=now)
    rule.state = State.OK


def crosses(value: Decimal | None, comparison: str, threshold: Decimal) -> bool:
    """Whether ``value`` is past ``threshold`` (strictly); no value never is."""
    if value is None:
        return False
    return value > threshold if comparison == Comparison.ABOVE else value < threshold


def shown(value: Decimal | None) -> Decimal | None:
    """A figure as rules keep and compare it: to the cent, half up."""
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class RuleCheck:
    """One rule's figure at a check, and what the check did."""

    rule: AlertRule
    value: Decimal | None
    crossing: bool
    fired: AlertFiring | None = None
    cleared: AlertFiring | None = None


@dataclass
class CheckReport:
    """What :func:`check_alerts` did: every rule's check, and the rules it could not check."""

    checks: list[RuleCheck] = field(default_factory=list)
    skipped: list[AlertRule] = field(default_factory=list)

    @property
    def fired(self) -> list[AlertFiring]:
        """The firings this check opened."""
        return [check.fired for check in self.checks if check.fired is not None]

    @property
    def cleared(self) -> list[AlertFiring]:
        """The firings this check closed."""
        return [check.cleared for check in self.checks if check.cleared is not None]


def _values(rules: list[AlertRule], now: datetime.datetime) -> tuple[dict, list[AlertRule]]:
    """Each rule's figure (by rule id), one aggregate query per group of alike rules.

    Rules of one organization over the same source, date field, window and filters share a
    query whatever their measures. A rule whose source is gone (an app no longer registers
    it) or whose filters the source no longer takes is skipped and logged.
    """
    groups: dict[tuple, list[AlertRule]] = {}
    skipped: list[AlertRule] = []
    for rule in rules:
        source = get_source(rule.source)
        if source is None or rule.measure not in source.measures:
            logger.warning("Alert rule %s: source %s is not registered", rule.pk, rule.source)
            skipped.append(rule)
            continue
        start, end = selectors.rule_window(rule, now)
        key = (
            rule.organization_id,
            rule.source,
            rule.date_field,
            start,
            end,
            json.dumps(rule.filters, sort_keys=True),
        )
        groups.setdefault(key, []).append(rule)
    values: dict = {}
    for (_, source_name, date_field, start, end, _filters), group in groups.items():
        first = group[0]
        try:
            result = figures(
                organization=first.organization,
                source=get_source(source_name),
                measures=sorted({rule.measure for rule in group}),
                date_field=date_field,
                start=start,
                end=end,
                filters=first.filters,
            )
        except Exception:  # a rule left invalid by a changed source must not stop the others
            logger.exception("Alert rules %s could not be checked", [str(r.pk) for r in group])
            skipped.extend(group)
            continue
        for rule in group:
            values[rule.pk] = shown(result[rule.measure])
    return values, skipped


def _fire(rule: AlertRule, value: Decimal, now: datetime.datetime) -> AlertFiring | None:
    """Open a firing when this checker is the one that moves the rule to ``firing``."""
    with transaction.atomic():
        claimed = AlertRule.objects.filter(pk=rule.pk, enabled=True, state=State.OK).update(
            state=State.FIRING
        )
        if not claimed:
            return None
        firing = AlertFiring.objects.create(
            organization_id=rule.organization_id,
            rule=rule,
            value=value,
            threshold=rule.threshold,
            comparison=rule.comparison,
            fired_at=now,
        )
        firing.rule = rule
        deliver_firing(firing)
    rule.state = State.FIRING
    return firing


def _clear(rule: AlertRule, value: Decimal | None, now: datetime.datetime) -> AlertFiring | None:
    """Close the open firing when this checker is the one that moves the rule to ``ok``."""
    with transaction.atomic():
        if not AlertRule.objects.filter(pk=rule.pk, state=State.FIRING).update(state=State.OK):
            return None
        firing = AlertFiring.objects.filter(rule=rule, cleared_at__isnull=True).first()
        if firing is not None:
            firing.cleared_at, firing.cleared_value = now, value
            firing.save(update_fields=["cleared_at", "cleared_value", "updated_at"])
            audit_record(
                action="alert.cleared",
                organization_id=rule.organization_id,
                instance=rule,
                changes={"firing": str(firing.pk), "value": str(value)},
            )
    rule.state = State.OK
    return firing


def _check(rules: list[AlertRule], now: datetime.datetime, *, move: bool = True) -> CheckReport:
    """Compute the rules' figures, keep them on the rules, and move their states."""
    values, skipped = _values(rules, now)
    report = CheckReport(skipped=skipped)
    checked = [rule for rule in rules if rule.pk in values]
    for rule in checked:
        rule.last_value, rule.last_checked_at = values[rule.pk], now
    if checked:
        AlertRule.objects.bulk_update(checked, ["last_value", "last_checked_at"])
    for rule in checked:
        value = values[rule.pk]
        crossing = crosses(value, rule.comparison, rule.threshold)
        check = RuleCheck(rule=rule, value=value, crossing=crossing)
        if move and rule.enabled:
            if check.crossing and rule.state == State.OK:
                check.fired = _fire(rule, value, now)
            elif not check.crossing and rule.state == State.FIRING:
                check.cleared = _clear(rule, value, now)
        report.checks.append(check)
    return report


def check_alerts(organization=None, *, now: datetime.datetime | None = None) -> CheckReport:
    """Check every enabled rule (of ``organization``, or of all): fire, clear, deliver.

    What the schedule runs every minute. Queries: one for the rules, one per group of alike
    rules (see :func:`_values`), one to keep the figures, and a few per rule that fires or
    clears; none per rule otherwise.
    """
    return _check(list(selectors.enabled_rules(organization)), now or timezone.now())


def check_rule(*, rule: AlertRule, now: datetime.datetime | None = None) -> RuleCheck:
    """Check one rule now (``ops/alerts/{id}/check/``); a disabled rule is only computed."""
    report = _check([rule], now or timezone.now())
    if report.skipped:
        raise DomainError(
            f"The rule's source {rule.source} cannot be computed now.", code="invalid"
        )
    return report.checks[0]


def deliver_firing(firing: AlertFiring) -> list:
    """Tell the rule's recipients that it fired; the one place a firing is delivered.

    Runs inside the transaction that opened the firing: the audit event (``alert.fired``,
    with the figure, the threshold and the recipients) and the recipients' notifications
    (``core.notify``, kind ``alerts``: live and e-mailed after the commit) are written with it
    or not at all. Returns the recipients' user ids.
    """
    rule = firing.rule
    recipients = selectors.rule_recipients(rule)
    audit_record(
        action="alert.fired",
        organization_id=rule.organization_id,
        instance=rule,
        changes={
            "firing": str(firing.pk),
            "value": str(firing.value),
            "comparison": firing.comparison,
            "threshold": str(firing.threshold),
            "recipients": [str(user_id) for user_id in recipients],
        },
    )
    notify(
        organization=rule.organization,
        recipients=recipients,
        title=f"Alert: {rule.name}"[:200],
        body=f"The figure is {firing.value}, {firing.comparison} {firing.threshold}.",
        link=f"/api/v1/ops/alerts/{rule.pk}/",
        kind="alerts",
        level="warning",
    )
    return recipients
