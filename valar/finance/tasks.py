"""The finance app's jobs: e-mailing a document's PDF; expiring quotes and making the
recurring invoices and entries due (both hourly, Celery beat)."""

from django.db import OperationalError

from valar.core.jobs import job
from valar.core.mail import MailUnavailable
from valar.finance import recurring
from valar.finance.documents import document_email, expire_quotes


@job("finance.email_document", retry_for=(MailUnavailable, OperationalError), max_retries=5)
def email_document(self, document_id: str, to: str) -> dict[str, str]:
    """E-mail the document's PDF to ``to`` and record when (retried while mail is down)."""
    return document_email(document_id=document_id, to=to)


@job("finance.expire_quotes", retry_for=(OperationalError,))
def expire_due_quotes(self) -> dict[str, int]:
    """Expire every sent quote whose expiry date has passed; how many changed."""
    return {"expired": expire_quotes()}


@job("finance.run_schedules", retry_for=(OperationalError,))
def run_schedules(self) -> dict[str, int]:
    """Make every due period of the recurring invoices and entries, once each."""
    return recurring.run_due()
