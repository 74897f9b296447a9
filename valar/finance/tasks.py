"""The finance app's jobs: quotes past their expiry date become ``expired`` (Celery beat)."""

from django.db import OperationalError

from valar.core.jobs import job
from valar.finance.documents import expire_quotes


@job("finance.expire_quotes", retry_for=(OperationalError,))
def expire_due_quotes(self) -> dict[str, int]:
    """Expire every sent quote whose expiry date has passed; how many changed."""
    return {"expired": expire_quotes()}
