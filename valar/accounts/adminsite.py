"""Django's admin whose sign-in takes the API's path: per-IP throttle, per-account lockout, log.

``/admin/login/`` would otherwise check passwords through ``authenticate()`` with neither,
letting staff and superuser passwords be guessed at will. This module is imported while apps
load, so the form lives in :mod:`valar.accounts.forms`.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminSite(admin.AdminSite):
    """The admin site: sign-in through :class:`AdminSignInForm`, 429 when refused for volume."""

    @property
    def login_form(self):
        """The sign-in form (imported late: it needs the user model)."""
        from valar.accounts.forms import AdminSignInForm

        return AdminSignInForm

    def login(self, request, extra_context=None):
        """Show or process the sign-in form; a throttled or locked attempt answers 429."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response


class AdminConfig(DjangoAdminConfig):
    """Django's admin app, with :class:`AdminSite` as ``admin.site``."""

    default_site = "valar.accounts.adminsite.AdminSite"
