"""JWT for scripts and mobile clients (djangorestframework-simplejwt), on the same accounts.

An access token lives ``JWT_ACCESS_LIFETIME`` and carries a ``stamp`` claim derived from the
user's password hash and security stamp, so a password change, an admin reset or a lock ends
it at once. A refresh token is single use: refreshing blacklists it and returns a new pair,
and presenting a used (blacklisted) refresh token again is taken as theft: every refresh token
of that user is blacklisted.
"""

from datetime import datetime

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from valar.accounts.models import User

STAMP_CLAIM = "stamp"


class TokenRefused(Exception):
    """A JWT that is malformed, expired, blacklisted, or whose user or stamp changed.

    The API answers it as DRF's 401 ``token_not_valid`` (this module is imported by the
    authentication classes, before ``valar.core.errors`` can be).
    """

    code = "token_not_valid"

    def __init__(self, message: str) -> None:
        """Keep the message shown in the 401."""
        super().__init__(message)
        self.message = message


def jwt_stamp(user: User) -> str:
    """The claim that binds a token to the user's password and security stamp."""
    return salted_hmac(
        "valar.accounts.jwt.stamp",
        f"{user.password}:{user.security_stamp}",
        algorithm="sha256",
    ).hexdigest()[:32]


def user_for_token(token) -> User:
    """The active user a verified token names, whose stamp it still carries; else refuse."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None or not user.is_active or token.get(STAMP_CLAIM) != jwt_stamp(user):
        raise TokenRefused("The token's user signed out everywhere, changed or is disabled.")
    return user


def _pair(user: User) -> dict[str, str]:
    """A new refresh token (recorded as outstanding) and the access token it gives."""
    refresh = RefreshToken.for_user(user)
    refresh[STAMP_CLAIM] = jwt_stamp(user)
    # for_user recorded the token before the stamp claim was added: store the final text.
    OutstandingToken.objects.filter(jti=refresh[api_settings.JTI_CLAIM]).update(token=str(refresh))
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def jwt_issue(*, user: User) -> dict[str, str]:
    """Issue an access and refresh token to a user who just signed in (``signin.sign_in``)."""
    pair = _pair(user)
    user_logged_in.send(sender=User, request=None, user=user)
    return pair


def _decode_refresh(raw: str) -> RefreshToken:
    """Check a refresh token's signature, expiry and type; the blacklist is checked by callers."""
    try:
        token = UntypedToken(raw)
    except TokenError as exc:
        raise TokenRefused(str(exc)) from exc
    if token.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        raise TokenRefused("This is not a refresh token.")
    refresh = RefreshToken(raw, verify=False)  # verified above, blacklist apart
    return refresh


def _outstanding_locked(refresh: RefreshToken) -> OutstandingToken:
    """The refresh token's outstanding row, locked for this transaction (created if missing)."""
    jti = refresh[api_settings.JTI_CLAIM]
    OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user_id": refresh.get(api_settings.USER_ID_CLAIM),
            "token": str(refresh.token),
            "expires_at": datetime_from_epoch(refresh["exp"]),
        },
    )
    return OutstandingToken.objects.select_for_update().get(jti=jti)


def blacklist_all(*, user_id) -> int:
    """Blacklist every refresh token of a user that is not blacklisted yet; return how many."""
    fresh = OutstandingToken.objects.filter(user_id=user_id, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in fresh]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def jwt_rotate(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair, blacklisting it; detect the reuse of one.

    A refresh token that was already used is proof that someone else holds a copy: every
    refresh token of its user is blacklisted and the answer is 401.
    """
    token = _decode_refresh(refresh)
    reused = False
    with transaction.atomic():
        outstanding = _outstanding_locked(token)
        if BlacklistedToken.objects.filter(token=outstanding).exists():
            reused = True
            blacklist_all(user_id=outstanding.user_id or token.get(api_settings.USER_ID_CLAIM))
        else:
            user = user_for_token(token)
            BlacklistedToken.objects.create(token=outstanding)
            pair = _pair(user)
    if reused:
        raise TokenRefused(
            "This refresh token was used already; every refresh token of the account is revoked."
        )
    return pair


def jwt_verify(*, token: str) -> tuple[str, datetime]:
    """Check an access or refresh token as an API call would; return its type and expiry."""
    try:
        checked = UntypedToken(token)
    except TokenError as exc:
        raise TokenRefused(str(exc)) from exc
    kind = checked.get(api_settings.TOKEN_TYPE_CLAIM)
    if kind == RefreshToken.token_type:
        jti = checked.get(api_settings.JTI_CLAIM)
        if BlacklistedToken.objects.filter(token__jti=jti).exists():
            raise TokenRefused("Token is blacklisted")
    elif kind != AccessToken.token_type:
        raise TokenRefused("Unknown token type.")
    user_for_token(checked)
    return kind, datetime_from_epoch(checked["exp"])


def jwt_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token (signing out a JWT client); its access token runs out."""
    token = _decode_refresh(refresh)
    with transaction.atomic():
        outstanding = _outstanding_locked(token)
        BlacklistedToken.objects.get_or_create(token=outstanding)
