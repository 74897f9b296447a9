"""Account use cases: registration, verification, profile, passwords, tokens, sign-in log."""

import secrets
import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from valar.accounts import emails
from valar.accounts.models import (
    ApiToken,
    LoginLog,
    SignInCounter,
    User,
    hash_token_key,
    normalize_email,
)
from valar.accounts.signals import password_reset, user_registered
from valar.accounts.tokens import email_verification_tokens, password_reset_tokens, pk_from_uid
from valar.core.errors import Conflict, DomainError
from valar.core.services import model_update
from valar.core.sockets import close_sockets

TOKEN_PREFIX = "vlr_"


def password_check(*, password: str, user: User, field: str = "password") -> None:
    """Run Django's password validators, raising ``{field: [...]}`` when they refuse."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create an active user after checking the email is free and the password is strong."""
    email = normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "A user with this email already exists.",
            code="duplicate",
            errors={"email": ["A user with this email already exists."]},
        )
    user = User(email=email, first_name=first_name, last_name=last_name)
    password_check(password=password, user=user)
    user.set_password(password)
    user.save()
    return user


def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    organization_name: str | None = None,
) -> User | None:
    """Register an account, or tell the owner of a taken address; the caller cannot tell which.

    The password is validated against the submitted data before anything else, so its errors
    are the same whether or not the address has an account, and it is hashed in both cases.
    A new address gets an unverified account (and the organization named, through
    ``user_registered``) and a verification e-mail; a taken one gets "someone tried to
    register with your address" (a few per hour at most). Returns the new user, or ``None``.
    """
    email = normalize_email(email)
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    password_check(password=password, user=candidate)
    candidate.set_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                candidate.save()
                user_registered.send(
                    sender=User,
                    user=candidate,
                    data={
                        "email": email,
                        "first_name": first_name,
                        "last_name": last_name,
                        "organization_name": organization_name,
                    },
                )
        except IntegrityError:  # registered concurrently with the same address
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            emails.send_verification(candidate)
            return candidate
    if emails.within_hourly_limit(kind="registration", email=email):
        emails.send_registration_attempt(existing)
    return None


def _invalid_token() -> DomainError:
    """The one answer for a link that is wrong, expired or already used."""
    message = "This link is invalid, has expired or has already been used."
    return DomainError(message, code="invalid_token", errors={"token": [message]})


def _user_for_token(*, uid: str) -> User | None:
    """The active user a link's ``uid`` names, locked for the rest of the transaction."""
    pk = pk_from_uid(uid)
    if pk is None:
        return None
    return User.objects.select_for_update().filter(pk=pk, is_active=True).first()


@transaction.atomic
def email_verify(*, uid: str, token: str) -> User:
    """Mark the user's email verified; the token works once (its hash covers the state)."""
    user = _user_for_token(uid=uid)
    if user is None or not email_verification_tokens.check_token(user, token):
        raise _invalid_token()
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def email_verification_send(*, user: User) -> bool:
    """Send the verification e-mail again; nothing when the email is verified already."""
    if user.email_verified:
        return False
    return emails.send_verification(user)


def password_reset_request(*, email: str) -> None:
    """E-mail a reset link to the active account using ``email``, if there is one.

    Callers learn nothing: unknown addresses, locked accounts and addresses past their hourly
    limit of e-mails are all silently skipped.
    """
    email = normalize_email(email)
    if not emails.within_hourly_limit(kind="password-reset", email=email):
        return
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None:
        emails.send_password_reset(user)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with an e-mailed token; every session and API token of the user ends.

    The token dies with the change (it covers the password and the security stamp). The reset
    proves the inbox, so the email becomes verified, the password is the user's own now, and a
    sign-in lockout of the account is lifted.
    """
    user = _user_for_token(uid=uid)
    if user is None or not password_reset_tokens.check_token(user, token):
        raise _invalid_token()
    password_check(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.password_is_temporary = False
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
    user.save(update_fields=["password", "password_is_temporary", "email_verified_at"])
    sessions_end_all(user=user)
    SignInCounter.objects.filter(user=user).delete()
    password_reset.send(sender=User, user=user)
    return user


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the user's own names and username (the profile fields a user sets on themselves).

    A username is unique ignoring case (409 ``duplicate`` when another account has it); an
    empty one removes it.
    """
    data = dict(data)
    if "username" in data:
        username = (data["username"] or "").strip() or None
        data["username"] = username
        taken = User.objects.filter(username__iexact=username).exclude(pk=user.pk)
        if username is not None and taken.exists():
            raise Conflict(
                "This username is taken.",
                code="duplicate",
                errors={"username": ["This username is taken."]},
            )
    user, _ = model_update(instance=user, fields=["first_name", "last_name", "username"], data=data)
    return user


def user_set_preferences(*, user: User, preferences: dict[str, Any]) -> User:
    """Store the user's validated preferences."""
    user.preferences = preferences
    user.save(update_fields=["preferences"])
    return user


@transaction.atomic
def password_change(
    *, user: User, current_password: str, new_password: str, keep_token: ApiToken | None = None
) -> User:
    """Change the password after checking the current one; end the user's other tokens.

    Other sessions end on their own: Django ties a session to the password hash. The caller
    keeps the session it used (``update_session_auth_hash`` in the view) or ``keep_token``.
    """
    if not user.check_password(current_password):
        raise DomainError(
            "The current password is wrong.",
            errors={"current_password": ["The current password is wrong."]},
        )
    password_check(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token is not None:
        tokens = tokens.exclude(pk=keep_token.pk)
    tokens.update(revoked_at=timezone.now())
    # Open sockets close; those of the session or token kept reconnect and are accepted.
    close_sockets(user_id=user.pk)
    return user


def sessions_end_all(*, user: User) -> None:
    """End every session of ``user`` (a new security stamp) and revoke all their tokens."""
    user.security_stamp = uuid.uuid4()
    user.save(update_fields=["security_stamp"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    close_sockets(user_id=user.pk)


def token_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create an API token and return it with its key, which is never stored or shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            "The expiry must be in the future.",
            errors={"expires_at": ["The expiry must be in the future."]},
        )
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:12],
        key_hash=hash_token_key(key),
        expires_at=expires_at,
    )
    return token, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token at once; requests presenting it are 401 from now on.

    The user's open sockets are closed (those opened with the token among them); the others
    reconnect with their own credentials.
    """
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        close_sockets(user_id=token.user_id)
    return token


def login_log_record(
    *,
    email: str,
    user: User | None,
    reason: str,
    ip_address: str | None,
    user_agent: str,
    platform: str,
) -> LoginLog:
    """Record one sign-in attempt, successful or not."""
    return LoginLog.objects.create(
        email=email[:254],
        user=user,
        successful=reason == LoginLog.Reason.SUCCESS,
        reason=reason,
        ip_address=ip_address,
        user_agent=user_agent[:512],
        platform=platform[:50],
    )


def accounts_prune_expired() -> dict[str, int]:
    """Delete what can no longer be used: expired sessions, JWT refresh tokens, idle counters.

    A sign-in counter whose last attempt is older than ``AXES_COOLOFF_TIME`` counts from 1
    again at the next attempt, exactly as a missing one, so deleting it changes nothing but
    the table's size (identifiers no account has accumulate there). Run nightly by beat.
    """
    from importlib import import_module

    from django.conf import settings
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = timezone.now()
    # What the engine's clear_expired() does (a cached_db session expires in the cache by
    # itself), counting the rows.
    sessions = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    _, expired_sessions = sessions.objects.filter(expire_date__lt=now).delete()
    _, expired_tokens = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    _, idle_counters = SignInCounter.objects.filter(
        last_attempt_at__lt=now - settings.AXES_COOLOFF_TIME
    ).delete()
    return {
        "sessions": expired_sessions.get(sessions._meta.label, 0),
        "refresh_tokens": expired_tokens.get(OutstandingToken._meta.label, 0),
        "sign_in_counters": idle_counters.get(SignInCounter._meta.label, 0),
    }
