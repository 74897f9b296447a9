"""The scheduled alert check: a job beat sends every minute, recorded like every job."""

from celery.schedules import crontab
from django.conf import settings
from django.test import TestCase

from valar.accounts.models import User
from valar.alerts.models import AlertFiring
from valar.alerts.tasks import check
from valar.alerts.tests.support import expense, rule
from valar.jobs.models import Job
from valar.notifications.models import Notification
from valar.organizations.services import organization_create


class ScheduledCheckTests(TestCase):
    """``alerts.check`` runs every minute and fires a crossing rule once."""

    def test_the_check_is_scheduled_every_minute(self):
        entry = settings.CELERY_BEAT_SCHEDULE["check-alerts"]
        self.assertEqual(entry["task"], "alerts.check")
        self.assertEqual(entry["schedule"], crontab())

    def test_the_job_fires_a_crossing_rule_once_and_records_its_run(self):
        owner = User.objects.create_user(email="owner@org.test", password="x" * 20)
        organization = organization_create(name="Org", actor=owner)
        alert = rule(organization)
        alert.users.set([owner])
        expense(organization, "20000.00")
        check.apply()  # as beat sends it: no job id, no parameters
        check.apply()
        runs = Job.objects.filter(kind="alerts.check").order_by("created_at")
        self.assertEqual([run.state for run in runs], ["succeeded", "succeeded"])
        self.assertEqual(runs[0].result["fired"], 1)
        self.assertEqual(runs[1].result["fired"], 0)
        self.assertEqual(AlertFiring.objects.filter(rule=alert).count(), 1)
        self.assertEqual(Notification.objects.filter(kind="alerts", user=owner).count(), 1)
