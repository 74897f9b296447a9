"""``Authorization: Token <key>`` (hashed API tokens) and ``Bearer <access>`` (JWT) sign-in."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt.authentication import JWTAuthentication

from valar.accounts.jwt import TokenRefused, user_for_token
from valar.accounts.models import ApiToken, hash_token_key

#: ``last_used_at`` is refreshed at most this often, so a busy token is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticate scripts by API token; no session, so no CSRF.

    A missing header leaves the request to the next authenticator; a malformed, unknown,
    revoked or expired token, or one whose user is inactive, is a 401.
    """

    keyword = "Token"

    def authenticate(self, request):
        """Return ``(user, token)`` for a valid token header, ``None`` when there is none."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        return self.authenticate_key(key)

    def authenticate_key(self, key: str):
        """Return ``(user, token)`` for a token key, wherever it came from (header, socket).

        An unknown, revoked or expired key, or one whose user is inactive, is refused with
        ``AuthenticationFailed``.
        """
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token_key(key)).first()
        if token is None or not token.is_usable or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request) -> str:
        """Name the scheme in ``WWW-Authenticate`` so an anonymous caller gets a 401."""
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe token authentication in the OpenAPI schema."""

    target_class = "valar.accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        """Return the ``Authorization: Token <key>`` security scheme."""
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create keys at /api/v1/auth/tokens/.",
        }


class JwtAuthentication(JWTAuthentication):
    """Authenticate ``Authorization: Bearer <access>`` (no session, so no CSRF).

    Beyond simplejwt's checks (signature, expiry, type, active user), the token's ``stamp``
    must match the user's password and security stamp: a password change, a reset or a lock
    ends every access token at once. drf-spectacular's simplejwt extension documents the
    ``Bearer`` scheme for this subclass.
    """

    def get_user(self, validated_token):
        """Return the token's user while its stamp still holds, else refuse with 401."""
        try:
            return user_for_token(validated_token)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc


class JwtScheme(SimpleJWTScheme):
    """Describe ``Authorization: Bearer <access>`` (bearer format JWT) in the OpenAPI schema."""

    target_class = "valar.accounts.authentication.JwtAuthentication"
