"""Routes of the accounts app under ``/api/v1/auth/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from valar.accounts import api

router = SimpleRouter()
router.register("tokens", api.ApiTokenViewSet, basename="token")
router.register("login-logs", api.LoginLogViewSet, basename="login-log")

urlpatterns = [
    path("csrf/", api.CsrfView.as_view(), name="csrf"),
    path("register/", api.RegisterView.as_view(), name="register"),
    path("login/", api.LoginView.as_view(), name="login"),
    path("logout/", api.LogoutView.as_view(), name="logout"),
    path("jwt/", api.JwtObtainView.as_view(), name="jwt-obtain"),
    path("jwt/refresh/", api.JwtRefreshView.as_view(), name="jwt-refresh"),
    path("jwt/verify/", api.JwtVerifyView.as_view(), name="jwt-verify"),
    path("jwt/logout/", api.JwtLogoutView.as_view(), name="jwt-logout"),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/preferences/", api.PreferencesView.as_view(), name="preferences"),
    path("password/change/", api.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset/", api.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        api.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("email/verify/", api.EmailVerifyView.as_view(), name="email-verify"),
    path(
        "email/verify/resend/",
        api.EmailVerificationResendView.as_view(),
        name="email-verify-resend",
    ),
    *router.urls,
]
