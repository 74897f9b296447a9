"""Accounts endpoints under ``/api/v1/auth/``: CSRF, register, verify, sign-in/out, JWT, me,
password change and reset, tokens, sign-in log."""

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.middleware.csrf import get_token
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import AuthenticationFailed, ParseError, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.accounts import jwt, selectors, services, signin
from valar.accounts.models import ApiToken, LoginLog, User, username_validator
from valar.accounts.selectors import LoginLogFilter
from valar.accounts.signals import password_changed, token_signed_out
from valar.core import notify
from valar.core.permissions import AnonymousWithCsrf
from valar.core.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    TimeZoneField,
)
from valar.core.sockets import close_sockets
from valar.core.throttling import AnonThrottle, LoginThrottle, UserThrottle, client_ip
from valar.core.viewsets import BaseViewSet, ExportMixin

SIGN_IN_THROTTLES = [AnonThrottle, UserThrottle, LoginThrottle]
REGISTERED = "Check your e-mail to finish registering, then sign in."
RESET_REQUESTED = (
    "If an account uses this address, an e-mail with a link to reset its password is on its way."
)

DATE_FORMATS = ["YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY"]
NOTIFICATION_KINDS = list(notify.KINDS)
DEFAULT_PREFERENCES = {
    "language": "en",
    "timezone": "UTC",
    "date_format": "YYYY-MM-DD",
    "notification_opt_outs": [],
}


class UserSerializer(serializers.ModelSerializer):
    """A user as the API shows them; names and username are writable (by the user themself)."""

    username = StrictCharField(
        max_length=150,
        required=False,
        allow_null=True,
        allow_blank=True,
        validators=[username_validator],
        help_text=(
            "Optional; unique ignoring case; signs in like the email. "
            "`null` or an empty string removes it."
        ),
    )

    email_verified = StrictBooleanField(
        read_only=True, help_text="Whether the owner of the email has proved it is theirs."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "email_verified",
            "first_name",
            "last_name",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["id", "email", "email_verified", "date_joined", "last_login"]


class RegisterSerializer(serializers.Serializer):
    """Input of ``auth/register/``."""

    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    organization_name = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=False,
        help_text="Creates this organization with the new user as its admin.",
    )


class DetailSerializer(serializers.Serializer):
    """An answer that is only a sentence for the caller."""

    detail = StrictCharField()


class EmailTokenSerializer(serializers.Serializer):
    """The ``uid`` and ``token`` of a link sent by e-mail."""

    uid = StrictCharField(max_length=64)
    token = StrictCharField(max_length=64)


class PasswordResetEmailSerializer(serializers.Serializer):
    """Input of ``auth/password/reset/``."""

    email = StrictEmailField(max_length=254)


class PasswordResetConfirmSerializer(EmailTokenSerializer):
    """Input of ``auth/password/reset/confirm/``."""

    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class LoginSerializer(serializers.Serializer):
    """Input of ``auth/login/`` and ``auth/jwt/``: credentials and the client's platform."""

    email = StrictCharField(
        max_length=254, help_text="The account's email or its username (both ignoring case)."
    )
    password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)
    platform = StrictCharField(max_length=50, required=False, allow_blank=True, default="")


class PasswordChangeSerializer(serializers.Serializer):
    """Input of ``auth/password/change/``."""

    current_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class PreferencesSerializer(serializers.Serializer):
    """A user's preferences; keys it does not know are refused, not ignored."""

    language = serializers.ChoiceField(choices=[code for code, _ in settings.LANGUAGES])
    timezone = TimeZoneField()
    date_format = serializers.ChoiceField(choices=DATE_FORMATS)
    notification_opt_outs = serializers.ListField(
        child=serializers.ChoiceField(choices=NOTIFICATION_KINDS),
        max_length=len(NOTIFICATION_KINDS),
    )

    def to_internal_value(self, data):
        """Refuse unknown keys, then validate the known ones."""
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown preference."] for key in unknown})
        return super().to_internal_value(data)

    def validate_notification_opt_outs(self, value: list[str]) -> list[str]:
        """Keep each kind once, in a stable order."""
        return sorted(set(value))


class PreferencesSchema(OpenApiSerializerExtension):
    """The schema of a preferences body: no other keys (refused), none required (defaults)."""

    target_class = PreferencesSerializer

    def map_serializer(self, auto_schema, direction):
        """The serializer's schema; on input closed to other keys and with none required."""
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
            schema.pop("required", None)
        return schema


class ApiTokenSerializer(serializers.ModelSerializer):
    """An API token as listed: never its key."""

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """A token just created: the one response that carries its key."""

    key = StrictCharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class LoginLogSerializer(serializers.ModelSerializer):
    """One sign-in attempt."""

    class Meta:
        model = LoginLog
        fields = [
            "id",
            "created_at",
            "email",
            "successful",
            "reason",
            "ip_address",
            "user_agent",
            "platform",
        ]
        read_only_fields = fields


class JwtPairSerializer(serializers.Serializer):
    """A JWT pair: a short-lived access token and the single-use refresh token."""

    access = StrictCharField(read_only=True, help_text="Send as `Authorization: Bearer`.")
    refresh = StrictCharField(read_only=True, help_text="Single use: refreshing rotates it.")


class JwtRefreshSerializer(serializers.Serializer):
    """Input of ``auth/jwt/refresh/`` and ``auth/jwt/logout/``."""

    refresh = StrictCharField(max_length=4096)


class JwtVerifySerializer(serializers.Serializer):
    """Input of ``auth/jwt/verify/``: an access or refresh token."""

    token = StrictCharField(max_length=4096)


class JwtVerifiedSerializer(serializers.Serializer):
    """What ``auth/jwt/verify/`` says about a token that holds."""

    token_type = serializers.ChoiceField(choices=["access", "refresh"], read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)


def _sign_in(request, data: dict) -> User:
    """Run the one sign-in path for a DRF view; a lockout becomes a 429 with Retry-After."""
    http = getattr(request, "_request", request)
    client = signin.Client(
        ip_address=client_ip(http),
        user_agent=http.META.get("HTTP_USER_AGENT", ""),
        platform=data.get("platform", ""),
    )
    try:
        return signin.sign_in(identifier=data["email"], password=data["password"], client=client)
    except signin.SignInLocked as exc:
        raise Throttled(wait=exc.retry_after, detail=exc.message) from exc


class CsrfView(APIView):
    """Set the ``csrftoken`` cookie a browser sends back in ``X-CSRFToken``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        responses=inline_serializer("CsrfToken", {"csrf_token": StrictCharField()}),
    )
    def get(self, request):
        """Return the CSRF token (also set as the ``csrftoken`` cookie)."""
        return Response({"csrf_token": get_token(request._request)})


class AccountEmailThrottle(UserThrottle):
    """A few account e-mails a signed-in user may ask for per hour (``account_email`` rate)."""

    scope = "account_email"


class RegisterView(APIView):
    """Create an account; the same answer whether or not the email already has one."""

    permission_classes = [AnonymousWithCsrf]
    throttle_classes = SIGN_IN_THROTTLES

    @extend_schema(auth=[], request=RegisterSerializer, responses={202: DetailSerializer})
    def post(self, request):
        """Register with email and password, then verify the email and sign in.

        A new email gets an unverified account (and the organization named) and a
        verification e-mail; an email that has an account gets an e-mail telling its owner.
        Both answer 202 with the same body, and neither starts a session.
        """
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_register(**serializer.validated_data)
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


class EmailVerifyView(APIView):
    """Prove the email is the user's with the token e-mailed to it."""

    permission_classes = [AnonymousWithCsrf]
    throttle_classes = SIGN_IN_THROTTLES

    @extend_schema(auth=[], request=EmailTokenSerializer, responses={204: None})
    def post(self, request):
        """Mark the email verified; a token works once (400 ``invalid_token`` after)."""
        serializer = EmailTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_verify(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerificationResendView(APIView):
    """Send the caller's verification e-mail again."""

    throttle_classes = [UserThrottle, AccountEmailThrottle]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """Send it again (204; nothing is sent when the email is verified already)."""
        services.email_verification_send(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Ask for a password-reset e-mail; the same answer whether or not the email has one."""

    permission_classes = [AnonymousWithCsrf]
    throttle_classes = SIGN_IN_THROTTLES

    @extend_schema(auth=[], request=PasswordResetEmailSerializer, responses={202: DetailSerializer})
    def post(self, request):
        """E-mail a single-use reset link to the account using this email, if any."""
        serializer = PasswordResetEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(**serializer.validated_data)
        return Response({"detail": RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Choose a new password with the token of a reset e-mail."""

    permission_classes = [AnonymousWithCsrf]
    throttle_classes = SIGN_IN_THROTTLES

    @extend_schema(auth=[], request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        """Set the password; every session and token of the user ends, the email is verified."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginView(APIView):
    """Sign in with email or username and password; every attempt is logged; 5 failures lock."""

    permission_classes = [AnonymousWithCsrf]
    throttle_classes = SIGN_IN_THROTTLES

    @extend_schema(auth=[], request=LoginSerializer, responses={200: UserSerializer})
    def post(self, request):
        """Start a session (the session key is rotated) or say why not."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _sign_in(request, serializer.validated_data)
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(UserSerializer(user).data)


class JwtView(APIView):
    """Base of the JWT endpoints: no session (so no CSRF), a 401 names the Bearer scheme."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonThrottle]

    def get_authenticate_header(self, request) -> str:
        """Answer 401 (not 403) with ``WWW-Authenticate: Bearer`` when a token is refused."""
        return 'Bearer realm="api"'

    @staticmethod
    def refuse(exc: jwt.TokenRefused):
        """Turn a refused token into DRF's 401."""
        raise AuthenticationFailed(exc.message, code=exc.code) from exc


class JwtObtainView(JwtView):
    """Obtain a JWT pair with email or username and password (scripts and mobile clients)."""

    throttle_classes = [AnonThrottle, LoginThrottle]

    @extend_schema(auth=[], request=LoginSerializer, responses={200: JwtPairSerializer})
    def post(self, request):
        """Sign in (same lockout, throttle and log as ``auth/login/``) and return the pair."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _sign_in(request, serializer.validated_data)
        return Response(jwt.jwt_issue(user=user))


class JwtRefreshView(JwtView):
    """Exchange a refresh token for a new pair; the old one is blacklisted."""

    @extend_schema(auth=[], request=JwtRefreshSerializer, responses={200: JwtPairSerializer})
    def post(self, request):
        """Rotate; a refresh token used twice revokes every refresh token of the account."""
        serializer = JwtRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            pair = jwt.jwt_rotate(refresh=serializer.validated_data["refresh"])
        except jwt.TokenRefused as exc:
            self.refuse(exc)
        return Response(pair)


class JwtVerifyView(JwtView):
    """Say whether an access or refresh token would still be accepted."""

    @extend_schema(auth=[], request=JwtVerifySerializer, responses={200: JwtVerifiedSerializer})
    def post(self, request):
        """200 with the token's type and expiry, or 401."""
        serializer = JwtVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            kind, expires_at = jwt.jwt_verify(token=serializer.validated_data["token"])
        except jwt.TokenRefused as exc:
            self.refuse(exc)
        return Response(JwtVerifiedSerializer({"token_type": kind, "expires_at": expires_at}).data)


class JwtLogoutView(JwtView):
    """Sign a JWT client out: blacklist its refresh token."""

    @extend_schema(auth=[], request=JwtRefreshSerializer, responses={204: None})
    def post(self, request):
        """Blacklist the refresh token (idempotent); the access token runs out on its own."""
        serializer = JwtRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            jwt.jwt_revoke(refresh=serializer.validated_data["refresh"])
        except jwt.TokenRefused as exc:
            self.refuse(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(APIView):
    """End the session, or revoke the token the request was made with."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """Sign out."""
        if isinstance(request.auth, ApiToken):
            services.token_revoke(token=request.auth)
            token_signed_out.send(sender=User, user=request.user, token=request.auth)
        else:
            user_id = request.user.pk
            logout(request._request)
            # The session's sockets (and the user's others, which reconnect) close too.
            close_sockets(user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user's own profile."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        """Show the caller."""
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def patch(self, request):
        """Change the caller's names or username (409 ``duplicate`` when it is taken)."""
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)


class PreferencesView(APIView):
    """The signed-in user's preferences (language, time zone, date format, opt-outs)."""

    #: A PUT names no key it must carry, but it must carry a body (see ``_save``).
    body_required_methods = ("PUT",)

    def _current(self, request) -> dict:
        """The stored preferences over the defaults."""
        return {**DEFAULT_PREFERENCES, **(request.user.preferences or {})}

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        """Show the caller's preferences."""
        return Response(self._current(request))

    def _save(self, request, *, partial: bool):
        """Validate and store; PUT replaces, and keys it leaves out take their defaults."""
        if not partial and request.stream is None:
            raise ParseError("Send the preferences as a JSON object.")
        data = request.data
        if not partial and isinstance(data, dict):
            data = {**DEFAULT_PREFERENCES, **data}
        serializer = PreferencesSerializer(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        base = self._current(request) if partial else {}
        preferences = {**base, **serializer.validated_data}
        services.user_set_preferences(user=request.user, preferences=preferences)
        return Response(preferences)

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def put(self, request):
        """Replace the caller's preferences."""
        return self._save(request, partial=False)

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def patch(self, request):
        """Change some of the caller's preferences."""
        return self._save(request, partial=True)


class PasswordChangeView(APIView):
    """Change the caller's password; their other sessions and tokens end."""

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        """Check the current password, set the new one, keep only this session or token."""
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        keep = request.auth if isinstance(request.auth, ApiToken) else None
        services.password_change(user=request.user, keep_token=keep, **serializer.validated_data)
        password_changed.send(sender=User, user=request.user)
        if keep is None:
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, BaseViewSet
):
    """The caller's API tokens: create (the key is shown once), list, revoke."""

    model = ApiToken
    serializer_class = ApiTokenSerializer
    filter_backends: list = []

    def select(self):
        """Only the caller's live tokens."""
        return selectors.token_list(user=self.request.user)

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Create a token; the response is the only place its key appears."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        current = request.auth if isinstance(request.auth, ApiToken) else None
        if current is not None and current.expires_at is not None:
            # A token never mints a token that outlives it.
            wanted = data.get("expires_at")
            data["expires_at"] = min(wanted, current.expires_at) if wanted else current.expires_at
        token, key = services.token_create(user=request.user, **data)
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        """Revoke rather than delete, so the record of the token stays."""
        services.token_revoke(token=instance)


class LoginLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ExportMixin, BaseViewSet):
    """The caller's sign-in history, filterable by date or time range and outcome."""

    model = LoginLog
    serializer_class = LoginLogSerializer
    filterset_class = LoginLogFilter
    ordering_fields = ["created_at"]
    export_filename = "login-logs"

    def select(self):
        """Only the caller's own attempts."""
        return selectors.login_log_list(user=self.request.user)
