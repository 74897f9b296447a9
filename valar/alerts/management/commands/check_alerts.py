"""``manage.py check_alerts [--organization ID|SLUG]``: check alert rules now (cron, beat)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from valar.alerts.services import check_alerts
from valar.core.viewsets import is_uuid
from valar.organizations.models import Organization


class Command(BaseCommand):
    """Check every enabled alert rule (or one organization's): fire, clear and deliver."""

    help = "Check enabled alert rules now: fire those past their threshold, clear the others."

    def add_arguments(self, parser):
        """``--organization``: only this organization's rules (its id or slug)."""
        parser.add_argument("--organization", help="Only this organization (id or slug).")

    def handle(self, *args, organization=None, **options):
        """Run the check and report what it did, one line."""
        target = None
        if organization is not None:
            match = Q(slug=organization) | (Q(pk=organization) if is_uuid(organization) else Q())
            target = Organization.objects.filter(match).first()
            if target is None:
                raise CommandError(f"No organization {organization!r}.")
        report = check_alerts(target)
        self.stdout.write(
            f"checked {len(report.checks)} rules: fired {len(report.fired)}, "
            f"cleared {len(report.cleared)}, skipped {len(report.skipped)}"
        )
