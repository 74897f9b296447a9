"""Forms of the accounts app outside the API: the Django admin's sign-in."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from valar.accounts import signin
from valar.core.errors import DomainError
from valar.core.throttling import LoginThrottle, client_ip


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in form, checked by ``signin.sign_in`` (staff only) under the throttle.

    A refusal for too many attempts is kept in ``retry_after`` so the view answers 429.
    """

    retry_after: int | None = None

    def clean(self):
        """Throttle by IP, then check the credentials under the account's lockout."""
        identifier = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if identifier is None or not password:
            return self.cleaned_data
        throttle = LoginThrottle()
        if not throttle.allow_request(self.request, None):
            self.retry_after = max(int(throttle.wait()), 1)
            raise ValidationError("Too many sign-in attempts; try again later.", code="throttled")
        http = self.request
        client = signin.Client(
            ip_address=client_ip(http),
            user_agent=http.META.get("HTTP_USER_AGENT", "")[:512],
            platform="admin",
        )
        try:
            self.user_cache = signin.sign_in(
                identifier=identifier, password=password, client=client, staff_only=True
            )
        except signin.SignInLocked as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(exc.message, code="locked_out") from exc
        except DomainError as exc:
            raise self.get_invalid_login_error() from exc
        return self.cleaned_data
