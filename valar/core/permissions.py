"""Permission classes shared by every app."""

from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.permissions import SAFE_METHODS, BasePermission


def enforce_csrf(request) -> None:
    """Run Django's CSRF check on ``request``; raise 403 ``PermissionDenied`` if it fails."""

    def no_response(_request):  # the middleware needs a next handler it never calls here
        return None

    check = CSRFCheck(no_response)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class AnonymousWithCsrf(BasePermission):
    """Open to anyone, but an unsafe request not made with an API token must pass CSRF.

    Used by sign-in and registration: a browser first calls ``auth/csrf/``, then sends the
    token in ``X-CSRFToken``, so login CSRF is refused like any other.
    """

    def has_permission(self, request, view) -> bool:
        """Allow safe methods; check CSRF on unsafe ones unless a token authenticated."""
        if request.method in SAFE_METHODS or request.auth is not None:
            return True
        enforce_csrf(request._request)
        return True


class IsPlatformOperator(BasePermission):
    """Only platform operators (Django's ``is_superuser``), outside every tenant's roles.

    A signed-in member of any role is refused with 403: the endpoint is in the published
    schema, so hiding it behind a 404 would hide nothing. A method the view does not serve is
    let through, so that it answers 405 whoever asks (as every route does).
    """

    message = "Only platform operators may use this endpoint."

    def has_permission(self, request, view) -> bool:
        """Allow superusers only (and methods the view lacks, for their 405)."""
        if not hasattr(view, request.method.lower()):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser)
