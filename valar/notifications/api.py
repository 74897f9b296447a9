"""Notification endpoints under ``/api/v1/notifications/``: the caller's own, and admins' sends."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.core.notify import KINDS, LEVELS
from valar.core.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    StrictUUIDField,
)
from valar.core.viewsets import TenantViewSet
from valar.notifications import selectors, services
from valar.notifications.models import Notification

#: A link is a path of this site (``/api/v1/tasks/…``, not ``//host``) or an ``http(s)`` URL,
#: never a ``javascript:`` or ``data:`` one a client might follow; the schema states it.
#: No whitespace and no control character (Python's ``\s`` also holds \x1c-\x1f and \x85,
#: a JSON Schema validator's does not: both refuse them by name, so they agree).
LINK_PATTERN = (
    r"^(/([^/\s\x00-\x1f\x7f-\x9f\ufeff][^\s\x00-\x1f\x7f-\x9f\ufeff]*)?"
    r"|https?://[^\s\x00-\x1f\x7f-\x9f\ufeff/?#]+[^\s\x00-\x1f\x7f-\x9f\ufeff]*)?$"
)


class NotificationSerializer(serializers.ModelSerializer):
    """A notification as its recipient sees it (the same shape sockets receive)."""

    kind = serializers.ChoiceField(choices=KINDS, read_only=True)
    level = serializers.ChoiceField(choices=LEVELS, read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "level",
            "title",
            "body",
            "link",
            "read_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class SendSerializer(serializers.Serializer):
    """Input of ``notifications/send/``: the message and its recipients."""

    title = StrictCharField(max_length=200)
    body = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    link = StrictRegexField(
        LINK_PATTERN,
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="A path of this site (`/api/v1/...`) or an http(s) URL.",
        error_messages={"invalid": "Give a path starting with / or an http(s) URL."},
    )
    level = serializers.ChoiceField(choices=LEVELS, required=False, default="info")
    users = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        default=list,
        max_length=1000,
        help_text="Members of the organization (user ids).",
    )
    teams = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        default=list,
        max_length=100,
        help_text="Teams of the organization: each of their members.",
    )
    everyone = StrictBooleanField(
        required=False, default=False, help_text="Every member of the organization."
    )


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The caller's own notifications in the organization; admins send to members."""

    module = "notifications"
    model = Notification
    serializer_class = NotificationSerializer
    filterset_class = selectors.NotificationFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    action_permissions = {
        "read": "change",
        "read_all": "change",
        "unread_count": "view",
        "send": "send",
    }

    def select(self):
        """The organization's notifications (the policy keeps only the caller's own)."""
        return selectors.notification_list(organization=self.tenant.organization)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the notification read (a second time keeps the first time)."""
        notification = services.notification_read(notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        filters=False,
        responses=inline_serializer("NotificationsRead", {"updated": StrictIntegerField()}),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="read-all",
        pagination_class=None,
        filter_backends=[],
    )
    def read_all(self, request):
        """Mark every unread notification of the caller in the organization read."""
        return Response({"updated": services.notification_read_all(tenant=self.tenant)})

    @extend_schema(
        filters=False,
        responses=inline_serializer("UnreadCount", {"unread": StrictIntegerField()}),
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="unread-count",
        pagination_class=None,
        filter_backends=[],
    )
    def unread_count(self, request):
        """How many of the caller's notifications in the organization are unread."""
        tenant = self.tenant
        count = selectors.unread_count(organization=tenant.organization, user=request.user)
        return Response({"unread": count})

    @extend_schema(
        request=SendSerializer,
        filters=False,
        responses={
            201: inline_serializer("NotificationsSent", {"recipients": StrictIntegerField()})
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def send(self, request):
        """Admins: notify members, the members of teams, or everyone in the organization."""
        serializer = SendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.notification_send(tenant=self.tenant, **serializer.validated_data)
        return Response({"recipients": count}, status=status.HTTP_201_CREATED)
