"""Users (email login), API tokens (stored hashed) and the sign-in log."""

import hashlib
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from valar.core.models import BaseModel


class UserManager(BaseUserManager):
    """Creates users with a normalised, case-insensitively unique email as the login."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        """Find a user by email, ignoring case."""
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **extra):
        """Create and save a user with a hashed (or unusable) password."""
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        """Create an ordinary user."""
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        """Create a platform operator (Django admin, outside every tenant's roles)."""
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


#: A username is 3-150 letters, digits, ``.``, ``_`` or ``-``; never an ``@``, so a sign-in
#: identifier with an ``@`` is always an email.
username_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{3,150}\Z",
    "Use 3 to 150 letters, digits, dots, underscores or hyphens.",
)


def normalize_email(email: str) -> str:
    """Return ``email`` stripped and lower-cased, the one stored form of a login."""
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email; ``preferences`` holds their UI settings."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    username = models.CharField(  # noqa: DJ001  NULL, not "", so many users may have none
        max_length=150,
        null=True,
        blank=True,
        validators=[username_validator],
        help_text="Optional; unique ignoring case; signs in like the email.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner proved the email is theirs."
    )
    password_is_temporary = models.BooleanField(
        default=False,
        help_text="The password was set by an organization's admin, not chosen by the user.",
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    preferences = models.JSONField(default=dict, blank=True)
    security_stamp = models.UUIDField(
        default=uuid.uuid4, editable=False, help_text="Changing it ends every session."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        """Show the user's email."""
        return self.email

    def save(self, *args, **kwargs) -> None:
        """Store the email in its normalised form."""
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret=None) -> str:
        """Tie sessions to the password and the security stamp: changing either ends them."""
        return salted_hmac(
            "valar.accounts.User.session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def email_verified(self) -> bool:
        """Whether the owner of the email has proved it (a link sent to it was used)."""
        return self.email_verified_at is not None

    @property
    def full_name(self) -> str:
        """Return first and last name, or the email when both are empty."""
        return f"{self.first_name} {self.last_name}".strip() or self.email


def hash_token_key(key: str) -> str:
    """Return the SHA-256 hex digest a token key is stored and looked up by."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(BaseModel):
    """An API token for scripts: only its hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        """Show the token's name and prefix, never its key."""
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        """Whether the token is neither revoked nor expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class LoginLog(models.Model):
    """One sign-in attempt: who, when, whether it worked and why not, from where."""

    class Reason(models.TextChoices):
        """Why an attempt ended as it did."""

        SUCCESS = "success", "Signed in"
        BAD_CREDENTIALS = "bad_credentials", "Wrong email or password"
        INACTIVE = "inactive", "Account disabled"
        LOCKED_OUT = "locked_out", "Too many failed attempts"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="login_logs"
    )
    email = models.CharField(max_length=254, help_text="The email the attempt was made with.")
    created_at = models.DateTimeField(default=timezone.now)
    successful = models.BooleanField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    platform = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        """Describe the attempt."""
        return f"{self.email} {self.reason} at {self.created_at:%Y-%m-%d %H:%M}"


class SignInCounter(models.Model):
    """Consecutive failed sign-ins of one account (or of one identifier no account has).

    The lockout: an attempt first claims a slot by adding one to ``failures`` in a single
    conditional ``UPDATE`` (refused once ``AXES_FAILURE_LIMIT`` is reached, until
    ``AXES_COOLOFF_TIME`` after ``last_attempt_at``), and only then is the password checked;
    a success deletes the row.
    """

    key = models.CharField(
        max_length=80,
        primary_key=True,
        help_text="``user:<id>`` for an account, ``unknown:<hash>`` for an identifier without one.",
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="sign_in_counters"
    )
    failures = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_attempt_at"]

    def __str__(self) -> str:
        """Describe the counter."""
        return f"{self.user or self.key}: {self.failures} failures"
