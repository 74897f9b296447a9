"""``check_alerts``: figures from the metrics engine, firing once, clearing, delivering."""

import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from valar.accounts.models import User
from valar.alerts import selectors, services
from valar.alerts.models import AlertFiring, AlertRule, State
from valar.alerts.services import check_alerts, check_rule
from valar.alerts.tests.support import expense, rule, task
from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.organizations.models import Membership, Team, TeamMembership
from valar.organizations.services import organization_create


class CheckerTests(TestCase):
    """One organization (admin ``owner``) with rules over its ledger and tasks."""

    def setUp(self) -> None:
        """An organization and its admin."""
        self.owner = User.objects.create_user(email="owner@org.test", password="x" * 20)
        self.org = organization_create(name="Org", actor=self.owner)

    def firings(self, alert: AlertRule) -> list[AlertFiring]:
        """The rule's firings, oldest first."""
        return list(AlertFiring.objects.filter(rule=alert).order_by("fired_at", "created_at"))

    def test_a_rule_past_its_threshold_fires_once_and_not_again_until_it_clears(self):
        alert = rule(self.org)
        expense(self.org, "10000.01")
        report = check_alerts()
        self.assertEqual(len(report.fired), 1)
        firing = report.fired[0]
        self.assertEqual(firing.value, Decimal("10000.01"))
        self.assertEqual(firing.threshold, Decimal("10000.00"))
        self.assertIsNone(firing.cleared_at)
        alert.refresh_from_db()
        self.assertEqual(alert.state, State.FIRING)
        self.assertEqual(alert.last_value, Decimal("10000.01"))
        expense(self.org, "500.00")
        for _ in range(3):
            self.assertEqual(check_alerts().fired, [])
        self.assertEqual(len(self.firings(alert)), 1)

    def test_a_firing_clears_when_the_figure_is_back_within_the_threshold(self):
        alert = rule(self.org)
        big = expense(self.org, "12000.00")
        check_alerts()
        big.delete()
        expense(self.org, "9999.99")
        report = check_alerts()
        self.assertEqual(len(report.cleared), 1)
        (firing,) = self.firings(alert)
        self.assertIsNotNone(firing.cleared_at)
        self.assertEqual(firing.cleared_value, Decimal("9999.99"))
        alert.refresh_from_db()
        self.assertEqual(alert.state, State.OK)
        self.assertEqual(check_alerts().cleared, [])

    def test_a_rule_fires_again_after_it_cleared(self):
        alert = rule(self.org)
        first = expense(self.org, "10001.00")
        check_alerts()
        first.delete()
        check_alerts()
        expense(self.org, "20000.00")
        report = check_alerts()
        self.assertEqual(len(report.fired), 1)
        old, new = self.firings(alert)
        self.assertIsNotNone(old.cleared_at)
        self.assertIsNone(new.cleared_at)
        self.assertEqual(new.value, Decimal("20000.00"))

    def test_thresholds_compare_exact_decimals_strictly(self):
        at = rule(self.org, name="at", threshold=Decimal("10000.00"))
        just_below = rule(self.org, name="below", threshold=Decimal("10000.01"))
        under = rule(self.org, name="under", comparison="below", threshold=Decimal("10000.00"))
        under_by_a_cent = rule(
            self.org, name="under+", comparison="below", threshold=Decimal("10000.01")
        )
        # 0.1 + 0.2 style sums stay exact: 3333.33 + 3333.33 + 3333.34 is exactly 10000.00.
        for amount in ("3333.33", "3333.33", "3333.34"):
            expense(self.org, amount)
        report = check_alerts()
        values = {check.rule.name: check.value for check in report.checks}
        self.assertEqual(set(values.values()), {Decimal("10000.00")})
        fired = {firing.rule_id for firing in report.fired}
        self.assertEqual(fired, {under_by_a_cent.pk})
        self.assertNotIn(at.pk, fired)
        self.assertNotIn(just_below.pk, fired)
        self.assertNotIn(under.pk, fired)

    def test_a_negative_threshold_on_profit_below_it_fires(self):
        alert = rule(self.org, source="profit", comparison="below", threshold=Decimal("-500.00"))
        expense(self.org, "500.01")
        (firing,) = check_alerts().fired
        self.assertEqual(firing.rule_id, alert.pk)
        self.assertEqual(firing.value, Decimal("-500.01"))

    def test_only_the_period_counts(self):
        rule(self.org)
        last_year = timezone.localdate() - datetime.timedelta(days=400)
        expense(self.org, "50000.00", day=last_year)
        (check,) = check_alerts().checks
        self.assertEqual(check.value, Decimal("0.00"))
        self.assertFalse(check.crossing)

    def test_overdue_tasks_above_a_count(self):
        overdue = rule(
            self.org,
            name="Overdue",
            source="tasks",
            measure="count",
            date_field="due_date",
            period="before_today",
            filters={"status": ["blocked", "in_progress", "todo"]},
            threshold=Decimal("2"),
        )
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        for _ in range(3):
            task(self.org, due_date=yesterday)
        task(self.org, due_date=yesterday, status="done")
        task(self.org, due_date=timezone.localdate())
        (firing,) = check_alerts().fired
        self.assertEqual(firing.rule_id, overdue.pk)
        self.assertEqual(firing.value, Decimal("3.00"))

    def test_last_hours_counts_only_rows_of_the_last_hours(self):
        now = timezone.now()
        recent = rule(
            self.org,
            name="Recent",
            source="tasks",
            measure="count",
            date_field="created_at",
            period="last_hours",
            period_length=1,
            threshold=Decimal("0"),
        )
        task(self.org, created_at=now - datetime.timedelta(minutes=61))
        (check,) = check_alerts(now=now).checks
        self.assertEqual(check.value, Decimal("0.00"))
        task(self.org, created_at=now - datetime.timedelta(minutes=59))
        (firing,) = check_alerts(now=now).fired
        self.assertEqual(firing.rule_id, recent.pk)
        self.assertEqual(firing.value, Decimal("1.00"))
        # An hour later the row has left the window: the firing clears.
        (cleared,) = check_alerts(now=now + datetime.timedelta(hours=1)).cleared
        self.assertEqual(cleared.cleared_value, Decimal("0.00"))

    def test_calendar_periods_follow_the_organizations_time_zone(self):
        self.org.timezone = "Pacific/Kiritimati"  # UTC+14
        self.org.save()
        now = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)  # 11 March there
        start, end = selectors.window(
            period="today", length=None, datetime_field=False, time_zone=self.org.timezone, now=now
        )
        self.assertEqual((start, end), (datetime.date(2026, 3, 11), datetime.date(2026, 3, 12)))
        start, end = selectors.window(
            period="this_week", length=None, datetime_field=True, time_zone="UTC", now=now
        )
        self.assertEqual(start, datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC))
        self.assertEqual(end, datetime.datetime(2026, 3, 16, tzinfo=datetime.UTC))
        start, end = selectors.window(
            period="this_month",
            length=None,
            datetime_field=False,
            time_zone="UTC",
            now=datetime.datetime(2026, 12, 31, 23, 0, tzinfo=datetime.UTC),
        )
        self.assertEqual((start, end), (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)))
        start, end = selectors.window(
            period="last_days", length=7, datetime_field=False, time_zone="UTC", now=now
        )
        self.assertEqual((start, end), (datetime.date(2026, 3, 4), datetime.date(2026, 3, 11)))

    def test_two_checkers_never_fire_or_clear_a_rule_twice(self):
        alert = rule(self.org)
        expense(self.org, "10000.01")
        # Both checkers read the rule as ``ok`` before either moved it.
        first = list(selectors.enabled_rules())
        second = list(selectors.enabled_rules())
        now = timezone.now()
        self.assertEqual(len(services._check(first, now).fired), 1)
        self.assertEqual(services._check(second, now).fired, [])
        self.assertEqual(len(self.firings(alert)), 1)
        AlertRule.objects.filter(pk=alert.pk).update(threshold=Decimal("20000.00"))
        first = list(selectors.enabled_rules())
        second = list(selectors.enabled_rules())
        self.assertEqual(len(services._check(first, now).cleared), 1)
        self.assertEqual(services._check(second, now).cleared, [])
        self.assertEqual(AuditEvent.objects.filter(action="alert.cleared").count(), 1)

    def test_the_database_holds_at_most_one_open_firing_per_rule(self):
        alert = rule(self.org)
        now = timezone.now()
        values = {"organization": self.org, "rule": alert, "value": 1, "threshold": 0}
        AlertFiring.objects.create(**values, comparison="above", fired_at=now)
        with self.assertRaises(IntegrityError), transaction.atomic():
            AlertFiring.objects.create(**values, comparison="above", fired_at=now)
        AlertFiring.objects.create(**values, comparison="above", fired_at=now, cleared_at=now)

    def test_disabled_rules_are_not_checked(self):
        rule(self.org, enabled=False)
        expense(self.org, "99999.00")
        report = check_alerts()
        self.assertEqual(report.checks, [])
        self.assertFalse(AlertFiring.objects.exists())

    def test_checking_a_disabled_rule_computes_it_without_firing(self):
        alert = rule(self.org, enabled=False)
        expense(self.org, "99999.00")
        check = check_rule(rule=alert)
        self.assertTrue(check.crossing)
        self.assertIsNone(check.fired)
        self.assertFalse(AlertFiring.objects.exists())

    def test_one_organizations_check_leaves_the_others_rules_alone(self):
        other_admin = User.objects.create_user(email="o@other.test", password="x" * 20)
        other = organization_create(name="Other", actor=other_admin)
        mine, theirs = rule(self.org), rule(other)
        expense(self.org, "20000.00")
        expense(other, "20000.00")
        report = check_alerts(self.org)
        self.assertEqual([check.rule.pk for check in report.checks], [mine.pk])
        theirs.refresh_from_db()
        self.assertEqual(theirs.state, State.OK)
        self.assertIsNone(theirs.last_checked_at)
        # Figures never mix organizations: theirs counts only their own entry.
        self.assertEqual(check_alerts(other).checks[0].value, Decimal("20000.00"))

    def test_a_rule_whose_source_is_gone_is_skipped_and_the_others_checked(self):
        rule(self.org, name="gone", source="jobs", measure="count", date_field="finished_at")
        kept = rule(self.org, name="kept")
        expense(self.org, "20000.00")
        report = check_alerts()
        self.assertEqual([r.name for r in report.skipped], ["gone"])
        self.assertEqual([firing.rule_id for firing in report.fired], [kept.pk])

    def test_a_firing_is_delivered_to_its_members_and_teams_who_may_read_the_figure(self):
        def member(email: str, role: str, modules: list[str]) -> User:
            user = User.objects.create_user(email=email, password="x" * 20)
            Membership.objects.create(organization=self.org, user=user, role=role, modules=modules)
            return user

        manager = member("m@org.test", Role.MANAGER, ["finance"])
        in_team = member("t@org.test", Role.MANAGER, ["finance"])
        own_only = member("w@org.test", Role.WORKER, ["finance"])  # reads own entries only
        no_finance = member("n@org.test", Role.MANAGER, ["tasks"])
        outsider = User.objects.create_user(email="x@else.test", password="x" * 20)
        team = Team.objects.create(organization=self.org, name="Ops")
        for user in (in_team, own_only):
            TeamMembership.objects.create(team=team, user=user)
        alert = rule(self.org)
        alert.users.set([manager, no_finance, outsider])
        alert.teams.set([team])
        expense(self.org, "20000.00")
        (firing,) = check_alerts().fired
        event = AuditEvent.objects.get(action="alert.fired")
        self.assertEqual(event.organization_id, self.org.pk)
        self.assertEqual(event.object_id, str(alert.pk))
        self.assertEqual(event.changes["firing"], str(firing.pk))
        self.assertEqual(event.changes["value"], "20000.00")
        self.assertEqual(event.changes["threshold"], "10000.00")
        self.assertEqual(
            sorted(event.changes["recipients"]), sorted([str(manager.pk), str(in_team.pk)])
        )
        from valar.notifications.models import Notification

        notified = Notification.objects.filter(kind="alerts")
        self.assertEqual(
            sorted(str(user_id) for user_id in notified.values_list("user_id", flat=True)),
            sorted([str(manager.pk), str(in_team.pk)]),
        )
        self.assertEqual({n.organization_id for n in notified}, {self.org.pk})
        self.assertEqual({n.link for n in notified}, {f"/api/v1/ops/alerts/{alert.pk}/"})
        check_alerts()
        self.assertEqual(notified.count(), 2)  # still firing: not delivered again

    def test_changing_or_disabling_a_firing_rule_closes_its_firing(self):
        from valar.core.tenancy import Tenant

        alert = rule(self.org)
        expense(self.org, "20000.00")
        check_alerts()
        membership = Membership.objects.get(organization=self.org, user=self.owner)
        tenant = Tenant(organization=self.org, membership=membership)
        services.alert_rule_update(tenant=tenant, rule=alert, data={"threshold": Decimal("15000")})
        (firing,) = self.firings(alert)
        self.assertIsNotNone(firing.cleared_at)
        self.assertIsNone(firing.cleared_value)
        self.assertEqual(len(check_alerts().fired), 1)  # judged afresh under the new rule
        services.alert_rule_update(tenant=tenant, rule=alert, data={"enabled": False})
        self.assertFalse(AlertFiring.objects.filter(rule=alert, cleared_at=None).exists())
        alert.refresh_from_db()
        self.assertEqual(alert.state, State.OK)
        # A change of name only keeps the firing open.
        services.alert_rule_update(tenant=tenant, rule=alert, data={"enabled": True})
        check_alerts()
        services.alert_rule_update(tenant=tenant, rule=alert, data={"name": "Renamed"})
        self.assertTrue(AlertFiring.objects.filter(rule=alert, cleared_at=None).exists())

    def _queries(self) -> int:
        """The queries of one ``check_alerts`` call."""
        with CaptureQueriesContext(connection) as queries:
            check_alerts()
        return len(queries)

    def test_checking_many_alike_rules_costs_the_same_queries_as_checking_a_few(self):
        expense(self.org, "10.00")
        for index in range(2):
            rule(self.org, name=f"sum {index}", threshold=Decimal("1000000"))
            rule(self.org, name=f"count {index}", measure="count", threshold=Decimal("1000"))
        few = self._queries()
        for index in range(2, 30):
            rule(self.org, name=f"sum {index}", threshold=Decimal("1000000"))
            rule(self.org, name=f"count {index}", measure="count", threshold=Decimal("1000"))
        many = self._queries()
        # The rules, one aggregate for the one group, one bulk update of the figures.
        self.assertEqual(few, 3)
        self.assertEqual(many, 3)

    def test_each_group_of_rules_costs_one_query_and_each_firing_a_few(self):
        expense(self.org, "10.00")
        for index in range(5):
            rule(self.org, name=f"r{index}", period="last_days", period_length=index + 1)
        self.assertEqual(self._queries(), 2 + 5)
        AlertRule.objects.update(threshold=Decimal("0"))
        with CaptureQueriesContext(connection) as queries:
            fired = len(check_alerts().fired)
        self.assertEqual(fired, 5)
        per_firing = (len(queries) - 7) / 5
        # Savepoint + release, the claim, the firing, the recipients, the audit event.
        self.assertLessEqual(per_firing, 6)

    def test_the_command_checks_every_organization_or_one(self):
        rule(self.org)
        expense(self.org, "20000.00")
        out = StringIO()
        call_command("check_alerts", "--organization", self.org.slug, stdout=out)
        self.assertIn("checked 1 rules: fired 1, cleared 0, skipped 0", out.getvalue())
        out = StringIO()
        call_command("check_alerts", stdout=out)
        self.assertIn("checked 1 rules: fired 0, cleared 0, skipped 0", out.getvalue())
        out = StringIO()
        call_command("check_alerts", "--organization", str(self.org.pk), stdout=out)
        self.assertIn("checked 1 rules", out.getvalue())
        from django.core.management.base import CommandError

        with self.assertRaises(CommandError):
            call_command("check_alerts", "--organization", "nope", stdout=StringIO())
