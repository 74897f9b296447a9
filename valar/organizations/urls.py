"""Routes of the organizations app: ``organizations/`` (+ members, invitations), ``teams/``,
``users/``, and answering invitations under ``auth/invitations/``."""

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
    r"organizations/(?P<organization_pk>[0-9a-fA-F-]{36})/invitations",
    api.InvitationViewSet,
    basename="invitation",
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
    path(
        "auth/invitations/<str:token>/",
        api.InvitationTokenView.as_view(),
        name="invitation-token",
    ),
    path(
        "auth/invitations/<str:token>/accept/",
        api.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "auth/invitations/<str:token>/decline/",
        api.InvitationDeclineView.as_view(),
        name="invitation-decline",
    ),
    *router.urls,
]
