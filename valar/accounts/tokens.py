"""Single-use tokens sent by e-mail: password reset and e-mail verification.

Both follow Django's ``PasswordResetTokenGenerator``: a token is a timestamp and an HMAC of
the user's state, so nothing is stored and a token dies as soon as that state changes (or
after ``PASSWORD_RESET_TIMEOUT`` seconds). The user is named by ``uid``, the urlsafe base64
of their id, as in Django's own reset views.
"""

import uuid

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from valar.accounts.models import User


def _stamp(value) -> str:
    """A datetime without microseconds or zone (stable across databases), or ``""``."""
    return "" if value is None else str(value.replace(microsecond=0, tzinfo=None))


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Reset tokens that die when the password, last sign-in or security stamp changes."""

    key_salt = "valar.accounts.tokens.PasswordResetTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        """Django's state (id, password, last login, email) plus the security stamp."""
        return f"{super()._make_hash_value(user, timestamp)}{user.security_stamp}"


class EmailVerificationTokens(PasswordResetTokenGenerator):
    """Verification tokens that die once used or when the email or security stamp changes."""

    key_salt = "valar.accounts.tokens.EmailVerificationTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        """The user's id, email, verification time and security stamp."""
        return (
            f"{user.pk}{user.email}{_stamp(user.email_verified_at)}{user.security_stamp}{timestamp}"
        )


password_reset_tokens = PasswordResetTokens()
email_verification_tokens = EmailVerificationTokens()


def uid_for(user: User) -> str:
    """The ``uid`` that names ``user`` in an e-mailed link."""
    return urlsafe_base64_encode(force_bytes(user.pk))


def pk_from_uid(uid: str) -> uuid.UUID | None:
    """The user id a ``uid`` names, or ``None`` when it is not one."""
    try:
        return uuid.UUID(urlsafe_base64_decode(uid).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
