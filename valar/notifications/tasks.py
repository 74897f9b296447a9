"""The notifications app's jobs: e-mailing new notifications to the recipients who want them,
at once or (``email_after``) when they are still unread after a while."""

from django.db import OperationalError

from valar.core.jobs import job
from valar.core.mail import MailUnavailable
from valar.core.notify import EMAIL_JOB, deliver_due_emails, deliver_notification_emails


@job(EMAIL_JOB, retry_for=(MailUnavailable, OperationalError), max_retries=5, atomic=False)
def email_notifications(self, notification_ids: list[str]) -> dict[str, int]:
    """E-mail the notifications ``notification_ids`` (``core.notify``); how many were sent.

    Retried with a growing delay while the mail server cannot be reached (nothing was sent
    then); it writes nothing, so it needs no transaction.
    """
    return {"sent": deliver_notification_emails(notification_ids, retry=True)}


@job("notifications.email_due", retry_for=(OperationalError,))
def email_due(self) -> dict[str, int]:
    """E-mail the notifications whose wait is over and that are still unread (Celery beat,
    every minute); a mail server that cannot be reached leaves them for the next run."""
    try:
        return deliver_due_emails()
    except MailUnavailable:
        return {"due": 0, "sent": 0, "mail_unavailable": 1}
