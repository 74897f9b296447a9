"""Sending e-mail, once: Django's mail API, and a failure that is logged, never raised.

Every e-mail the API sends (account e-mails, invitations) goes through :func:`send`, so an
answer never depends on whether a mail server accepted a message.
"""

import logging

from django.core.mail import send_mail

logger = logging.getLogger("valar.mail")


def send(*, to: str, subject: str, body: str) -> bool:
    """Send one plain-text e-mail to ``to``; log (never raise) when the transport fails."""
    try:
        send_mail(subject, body, None, [to])
    except Exception:  # noqa: BLE001  any transport failure
        logger.exception("Could not send %r", subject)
        return False
    return True
