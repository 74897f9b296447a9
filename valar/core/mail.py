"""Sending e-mail, once: Django's mail API, and a failure that is logged, never raised.

Every e-mail the API sends (account e-mails, invitations) goes through :func:`send`, so an
answer never depends on whether a mail server accepted a message. The sender is the runtime
setting ``default_from_email`` (``core.sysconfig``; its default ``DEFAULT_FROM_EMAIL``).
"""

import logging

from django.core.mail import send_mail

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
