"""``manage.py seed_demo``: create the demo admin on an empty database, once."""

from django.core.management.base import BaseCommand

from valar.ops.services import demo_seed


class Command(BaseCommand):
    """Create demo data when the database is empty and print the credentials once."""

    help = "Create the demo admin (and data) when the database has no users."

    def handle(self, *args, **options) -> None:
        """Seed, then print the credentials or say that nothing was needed."""
        created = demo_seed()
        if created is None:
            self.stdout.write("Demo data already present; nothing created.")
            return
        user, password = created
        self.stdout.write(
            self.style.SUCCESS(
                "Demo admin created (shown once):\n"
                f"  email:    {user.email}\n"
                f"  password: {password}"
            )
        )
