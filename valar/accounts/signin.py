"""Signing in: the one path every sign-in takes (session, JWT, ``/admin/``).

The order is what makes the lockout hold under concurrency: the attempt first claims a slot
in the account's :class:`~valar.accounts.models.SignInCounter` with one conditional ``UPDATE``
(``failures = failures + 1`` while below the limit), and only then is the password hashed.
Once the limit is reached every attempt is refused, whatever the password, until the cool-off
ends; a success deletes the counter. Unknown identifiers get counters of their own, so a
lockout says nothing about whether an account exists.

Every attempt runs the password hasher exactly once (a throwaway hash for unknown users, for
accounts without a usable password and for refused attempts), so the answer takes as long
whether the identifier is known, the password right or the account locked.
"""

import hashlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from valar.accounts import services
from valar.accounts.models import LoginLog, SignInCounter, User, normalize_email
from valar.core.errors import DomainError

INVALID_CREDENTIALS = "Unable to sign in with these credentials."


class SignInLocked(DomainError):
    """Too many consecutive failures for this account: refused until ``retry_after`` passes."""

    status = 429
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        """Keep the seconds left in the cool-off."""
        minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
        super().__init__(
            f"Too many failed sign-in attempts for this account; try again in {minutes} minutes."
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Client:
    """Where an attempt comes from, for the sign-in log."""

    ip_address: str | None
    user_agent: str
    platform: str = ""


def normalize_identifier(identifier: str) -> str:
    """Return the stored form of a sign-in identifier (an email, or a username: no ``@``)."""
    identifier = identifier.strip()
    return normalize_email(identifier) if "@" in identifier else identifier


def user_for_identifier(identifier: str) -> User | None:
    """The account an email or a username (both ignoring case) names, if any."""
    identifier = normalize_identifier(identifier)
    if not identifier:
        return None
    lookup = Q(email__iexact=identifier) if "@" in identifier else Q(username__iexact=identifier)
    return User.objects.filter(lookup).first()


def _counter_key(identifier: str, user: User | None) -> str:
    """The lockout counter an attempt counts against: the account's, else the identifier's."""
    if user is not None:
        return f"user:{user.pk}"
    digest = hashlib.sha256(identifier.lower().encode()).hexdigest()[:64]
    return f"unknown:{digest}"


def _claim(key: str, user: User | None) -> int | None:
    """Count this attempt as a failure before the password is checked.

    Returns ``None`` when the slot was claimed, else the seconds left in the lockout. One
    ``UPDATE`` decides, so concurrent attempts can never claim more slots than the limit.
    """
    now = timezone.now()
    cooloff = settings.AXES_COOLOFF_TIME
    cutoff = now - cooloff
    SignInCounter.objects.bulk_create([SignInCounter(key=key, user=user)], ignore_conflicts=True)
    claimed = (
        SignInCounter.objects.filter(key=key)
        .filter(Q(failures__lt=settings.AXES_FAILURE_LIMIT) | Q(last_attempt_at__lt=cutoff))
        .update(
            failures=Case(
                When(last_attempt_at__lt=cutoff, then=Value(1)), default=F("failures") + 1
            ),
            last_attempt_at=now,
        )
    )
    if claimed:
        return None
    last = SignInCounter.objects.filter(key=key).values_list("last_attempt_at", flat=True).first()
    left = ((last or now) + cooloff - now).total_seconds()
    return max(math.ceil(left), 1)


def _hash_once(password: str) -> None:
    """Run the password hasher once for nothing, as checking a real password would."""
    make_password(password)


def sign_in(*, identifier: str, password: str, client: Client, staff_only: bool = False) -> User:
    """Check credentials under the lockout and log the attempt; return the user.

    ``identifier`` is an email or a username. Raises :class:`SignInLocked` (429) while the
    account is locked, and ``DomainError`` ``invalid_credentials`` (400) for an unknown
    identifier, a wrong password, an inactive account or, with ``staff_only``, a non-staff one.
    The caller starts the session or issues the tokens.
    """
    identifier = normalize_identifier(identifier)
    user = user_for_identifier(identifier)
    log = {
        "email": identifier,
        "user": user,
        "ip_address": client.ip_address,
        "user_agent": client.user_agent,
        "platform": client.platform,
    }
    key = _counter_key(identifier, user)
    retry_after = _claim(key, user)
    if retry_after is not None:
        _hash_once(password)
        services.login_log_record(reason=LoginLog.Reason.LOCKED_OUT, **log)
        raise SignInLocked(retry_after)

    if user is None or not user.has_usable_password():
        _hash_once(password)
        right = False
    else:
        right = user.check_password(password)
    if right and user.is_active and (user.is_staff or not staff_only):
        SignInCounter.objects.filter(key=key).delete()
        services.login_log_record(reason=LoginLog.Reason.SUCCESS, **log)
        return user

    reason = LoginLog.Reason.INACTIVE if right and not user.is_active else None
    services.login_log_record(reason=reason or LoginLog.Reason.BAD_CREDENTIALS, **log)
    user_login_failed.send(
        sender=__name__, credentials={"email": user.email if user else identifier}, request=None
    )
    raise DomainError(INVALID_CREDENTIALS, code="invalid_credentials")
