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


class MailUnavailable(Exception):
    """The mail server could not be reached: nothing was sent, so sending again is safe."""


def send_many(messages: list[tuple[str, str, str]], *, raise_unavailable: bool = False) -> int:
    """Send ``(to, subject, body)`` e-mails over one connection; return how many were sent.

    A transport failure is logged, never raised (nothing, or part, was sent); except that with
    ``raise_unavailable`` a connection that cannot be opened raises :class:`MailUnavailable`
    (nothing was sent), so a background job can try again later without sending twice.
    """
    if not messages:
        return 0
    sender = sysconfig.value("default_from_email")
    emails = [EmailMessage(subject, body, sender, [to]) for to, subject, body in messages]
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001  any transport failure: nothing was sent
        if raise_unavailable:
            raise MailUnavailable(f"{type(exc).__name__}: {exc}") from exc
        logger.exception("Could not send %d e-mails", len(emails))
        return 0
    try:
        return connection.send_messages(emails) or 0
    except Exception:  # noqa: BLE001  any transport failure, part may have been sent
        logger.exception("Could not send %d e-mails", len(emails))
        return 0
    finally:
        connection.close()


def send_file(
    *, to: str, subject: str, body: str, filename: str, content: bytes, mimetype: str
) -> None:
    """Send one e-mail with one attached file (a document's PDF).

    A mail server that cannot be reached raises :class:`MailUnavailable` (nothing was sent),
    so the job sending it may try again; any other transport failure is raised as it is.
    """
    message = EmailMessage(subject, body, sysconfig.value("default_from_email"), [to])
    message.attach(filename, content, mimetype)
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001  any transport failure: nothing was sent
        raise MailUnavailable(f"{type(exc).__name__}: {exc}") from exc
    try:
        connection.send_messages([message])
    finally:
        connection.close()
