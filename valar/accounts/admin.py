"""Django admin for operators: users, API tokens (never their keys), sign-in log and lockouts."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from valar.accounts.models import ApiToken, LoginLog, SignInCounter, User


class UserCreationForm(BaseUserCreationForm):
    """The admin's form to create a user by email and password."""

    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    """The admin's form to change a user."""

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users, found by email."""

    add_form = UserCreationForm
    form = UserEditForm

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "username", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "preferences")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens; the key is not stored, so it cannot be shown."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]
    search_fields = ["name", "user__email", "prefix"]


@admin.register(LoginLog)
class LoginLogAdmin(admin.ModelAdmin):
    """The sign-in log, read only."""

    list_display = ["created_at", "email", "successful", "reason", "ip_address", "platform"]
    list_filter = ["successful", "reason"]
    search_fields = ["email"]

    def has_change_permission(self, request, obj=None) -> bool:
        """The log is append-only."""
        return False


@admin.register(SignInCounter)
class SignInCounterAdmin(admin.ModelAdmin):
    """Failed sign-in counters; deleting one lifts that account's lockout at once."""

    list_display = ["key", "user", "failures", "last_attempt_at"]
    readonly_fields = ["key", "user", "failures", "last_attempt_at"]
    search_fields = ["user__email", "user__username"]

    def has_add_permission(self, request) -> bool:
        """Counters are written by sign-in only."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """Counters are written by sign-in only; an operator may delete one to unlock."""
        return False
