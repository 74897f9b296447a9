"""Sending e-mail, once: Django's mail API, and a failure that is logged, never raised.

Every e-mail the API sends (account e-mails, invitations) goes through :func:`send` (or
:func:`send_many` for a batch, such as notifications), so an answer never depends on whether a
mail server accepted a message. The sender is the runtime setting ``default_from_email``
(``core.sysconfig``; its default ``DEFAULT_FROM_EMAIL``).
"""

import logging

from django.core.mail import EmailMessage, get_connection, send_mail

from valar.core import sysconfig

logger = logging.getLogger("valar.mail")


def send(*, to: str, subject: str, body: str) -> bool:
    """Send one plain-text e-mail to ``to``; log (never raise) when the transport fails."""
    try:
        send_mail(subject, body, sysconfig.value("default_from_email"), [to])
    except Exception:  # noqa: BLE001  any transport failure
        logger.exception("Could not send %r", subject)
        return False
    return True


def send_many(messages: list[tuple[str, str, str]]) -> int:
    """Send ``(to, subject, body)`` e-mails over one connection; return how many were sent.

    A transport failure is logged, never raised (nothing, or part, was sent).
    """
    if not messages:
        return 0
    emails = [EmailMessage(subject, body, None, [to]) for to, subject, body in messages]
    try:
        return get_connection().send_messages(emails) or 0
    except Exception:  # noqa: BLE001  any transport failure
        logger.exception("Could not send %d e-mails", len(emails))
        return 0
