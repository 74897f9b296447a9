"""Routes of the organizations app: ``organizations/`` (+ members), ``teams/``, ``users/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from valar.organizations import api

router = SimpleRouter()
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register(
    r"organizations/(?P<organization_pk>[0-9a-fA-F-]{36})/members",
    api.MemberViewSet,
    basename="member",
)
router.register(
    r"organizations/(?P<organization_pk>[0-9a-fA-F-]{36})/login-logs",
    api.MemberLoginLogViewSet,
    basename="member-login-log",
)
router.register("teams", api.TeamViewSet, basename="team")
router.register("users", api.UserViewSet, basename="user")

urlpatterns = [
    path("auth/me/permissions/", api.MyPermissionsView.as_view(), name="my-permissions"),
    *router.urls,
]
