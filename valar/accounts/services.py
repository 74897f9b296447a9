"""Account use cases: registration, profile, preferences, passwords, tokens, sign-in log."""

import secrets
import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from valar.accounts.models import ApiToken, LoginLog, User, hash_token_key, normalize_email
from valar.core.errors import Conflict, DomainError
from valar.core.services import model_update

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
        raise DomainError(
            "A user with this email already exists.",
            code="duplicate",
            errors={"email": ["A user with this email already exists."]},
        )
    user = User(email=email, first_name=first_name, last_name=last_name)
    password_check(password=password, user=user)
    user.set_password(password)
    user.save()
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
    return user


def sessions_end_all(*, user: User) -> None:
    """End every session of ``user`` (a new security stamp) and revoke all their tokens."""
    user.security_stamp = uuid.uuid4()
    user.save(update_fields=["security_stamp"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


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
    """Revoke a token at once; requests presenting it are 401 from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
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
