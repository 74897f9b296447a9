"""The account e-mails: verify your address, reset your password, "already registered".

Sent through Django's mail API (``EMAIL_BACKEND``; the console in the embedded default).
Links point at the web client (``PUBLIC_URL``); each e-mail also states ``uid`` and
``token`` so an API client can POST them itself. A failure to send is logged, never shown
to the caller: answers must not depend on whether an address has an account.
"""

import hashlib
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from valar.accounts.models import User
from valar.accounts.tokens import email_verification_tokens, password_reset_tokens, uid_for
from valar.core import mail

logger = logging.getLogger("valar.accounts.emails")

#: The web client's pages the links open; they POST ``uid`` and ``token`` to the API.
VERIFY_PATH = "/verify-email"
RESET_PATH = "/reset-password"
VERIFY_ENDPOINT = "/api/v1/auth/email/verify/"
RESET_ENDPOINT = "/api/v1/auth/password/reset/confirm/"


def _link(path: str, uid: str, token: str) -> str:
    """An absolute link to the web client's ``path`` carrying ``uid`` and ``token``."""
    return f"{settings.PUBLIC_URL}{path}?{urlencode({'uid': uid, 'token': token})}"


def _send(user: User, subject: str, body: str) -> bool:
    """Send one e-mail to ``user``; log (never raise) when the mail server refuses."""
    return mail.send(to=user.email, subject=subject, body=body)


def _greeting(user: User) -> str:
    """``Hello Ada,`` or ``Hello,`` when the user gave no name."""
    return f"Hello {user.first_name}," if user.first_name else "Hello,"


def send_verification(user: User) -> bool:
    """Ask the owner of ``user.email`` to prove it is theirs."""
    uid, token = uid_for(user), email_verification_tokens.make_token(user)
    body = "\n".join(
        [
            _greeting(user),
            "",
            "Please confirm that this address is yours by opening this link:",
            "",
            _link(VERIFY_PATH, uid, token),
            "",
            f"API clients: POST {{uid, token}} to {settings.PUBLIC_URL}{VERIFY_ENDPOINT}",
            f"uid: {uid}",
            f"token: {token}",
            "",
            "The link works once. If you did not create a Valar account, ignore this e-mail.",
        ]
    )
    return _send(user, "Confirm your e-mail address", body)


def send_password_reset(user: User) -> bool:
    """Send the owner of ``user.email`` a single-use link to choose a new password."""
    uid, token = uid_for(user), password_reset_tokens.make_token(user)
    hours = max(settings.PASSWORD_RESET_TIMEOUT // 3600, 1)
    body = "\n".join(
        [
            _greeting(user),
            "",
            "Someone (hopefully you) asked to reset the password of your Valar account.",
            "Choose a new password here:",
            "",
            _link(RESET_PATH, uid, token),
            "",
            f"API clients: POST {{uid, token, new_password}} to "
            f"{settings.PUBLIC_URL}{RESET_ENDPOINT}",
            f"uid: {uid}",
            f"token: {token}",
            "",
            f"The link works once, within {hours} hour(s). Resetting the password signs out",
            "every session and revokes every API token of the account.",
            "If you did not ask for this, ignore this e-mail: your password stays as it is.",
        ]
    )
    return _send(user, "Reset your password", body)


def send_registration_attempt(user: User) -> bool:
    """Tell the owner of ``user.email`` that someone tried to register with it."""
    body = "\n".join(
        [
            _greeting(user),
            "",
            "Someone tried to create a Valar account with this e-mail address, which already",
            "has one. If it was you, sign in instead; if you forgot your password, reset it:",
            "",
            f"{settings.PUBLIC_URL}{RESET_PATH}",
            f"(API clients: POST {{email}} to {settings.PUBLIC_URL}/api/v1/auth/password/reset/)",
            "",
            "If it was not you, nothing has changed and you can ignore this e-mail.",
        ]
    )
    return _send(user, "Your Valar account already exists", body)


def within_hourly_limit(*, kind: str, email: str) -> bool:
    """Count one more ``kind`` e-mail to ``email`` this hour; False past the limit.

    The count lives in the cache under a hash of the address (an atomic increment). When the
    cache cannot be reached the e-mail is allowed (and logged), as the rate limits do.
    """
    digest = hashlib.sha256(email.encode()).hexdigest()
    key = f"account-email:{kind}:{digest}"
    try:
        cache.add(key, 0, timeout=3600)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=3600)
            count = 1
    except Exception:  # noqa: BLE001  any cache failure
        logger.warning("E-mail limit unavailable; e-mail allowed", exc_info=True)
        return True
    return count <= settings.ACCOUNT_EMAILS_PER_HOUR
