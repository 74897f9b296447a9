"""Operational writes: the demo data ``make run`` creates on an empty database."""

import secrets

from django.db import transaction

from valar.accounts.models import User
from valar.accounts.services import user_create

DEMO_EMAIL = "admin@valar.local"


@transaction.atomic
def demo_seed() -> tuple[User, str] | None:
    """Create the demo admin when the database has no users; return it and its password.

    Returns ``None`` (and changes nothing) when any user exists, so the credentials are
    printed once, on the first run.
    """
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_create(email=DEMO_EMAIL, password=password, first_name="Demo", last_name="Admin")
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user, password
