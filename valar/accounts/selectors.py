"""Account reads: the caller's tokens and sign-in history."""

from django.db.models import QuerySet

from valar.accounts.models import ApiToken, LoginLog, User


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that have not been revoked, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def login_log_list(*, user: User) -> QuerySet[LoginLog]:
    """The user's own sign-in attempts, newest first."""
    return LoginLog.objects.filter(user=user).order_by("-created_at")
