"""Support endpoints under ``/api/v1/support/``: chats (get-or-create, assign, close, reopen,
delete) and their messages (read oldest first, ``after`` to resume; post)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.accounts.models import User
from valar.core.serializers import (
    QuerySerializer,
    StrictBooleanField,
    StrictCharField,
    TenantRelatedField,
)
from valar.core.viewsets import TenantViewSet
from valar.crm.models import Customer
from valar.support import selectors, services
from valar.support.models import Chat, Message


class ChatSerializer(serializers.ModelSerializer):
    """A chat. ``assignee`` and ``customer`` are set by agents only (ignored otherwise);
    ``message`` is an optional first message, posted with the chat."""

    assignee = TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        required=False,
        allow_null=True,
        help_text="An agent of the organization; by default the least loaded one.",
    )
    customer = TenantRelatedField(
        queryset=Customer.objects.all(),
        module="crm",
        required=False,
        allow_null=True,
        help_text="The CRM customer the chat is about (agents only).",
    )
    message = StrictCharField(
        write_only=True,
        required=False,
        max_length=services.MAX_MESSAGE_LENGTH,
        help_text="A first message, posted with the chat.",
    )

    class Meta:
        model = Chat
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "assignee",
            "assigned_at",
            "customer",
            "created_by",
            "last_seq",
            "last_message_at",
            "first_response_at",
            "closed_at",
            "created_at",
            "updated_at",
            "message",
        ]
        read_only_fields = [
            "status",
            "assigned_at",
            "created_by",
            "last_seq",
            "last_message_at",
            "first_response_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "subject": {"help_text": "What the chat is about."},
            "last_seq": {
                "help_text": "The last message's number (for members who are not agents, the "
                "last one they can read: internal notes are not counted)."
            },
        }

    def to_representation(self, instance):
        """For members who are not agents, the last message they can read (no internal note)."""
        data = super().to_representation(instance)
        tenant = self.context.get("tenant")
        if tenant is not None and not selectors.is_agent(tenant.membership):
            data["last_seq"] = instance.last_public_seq
            data["last_message_at"] = (
                self.fields["last_message_at"].to_representation(instance.last_public_message_at)
                if instance.last_public_message_at
                else None
            )
        return data


class MessageSerializer(serializers.ModelSerializer):
    """A message: its number in the chat (``seq``), its sender, its text (JSON values only,
    so the sockets send exactly what the API answers)."""

    chat = serializers.UUIDField(source="chat_id", read_only=True)
    created_by = serializers.UUIDField(
        source="created_by_id", read_only=True, allow_null=True, help_text="The sender."
    )

    class Meta:
        model = Message
        fields = ["id", "chat", "seq", "created_by", "text", "internal", "created_at"]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    """A new message: text (trimmed, 1 to 4,000 characters) and, for agents, ``internal``."""

    text = StrictCharField(
        max_length=services.MAX_MESSAGE_LENGTH * 2,
        trim_whitespace=False,
        help_text="1 to 4,000 characters once trimmed.",
    )
    internal = StrictBooleanField(
        default=False, help_text="An internal note, seen by agents only (agents only)."
    )


class AssignSerializer(serializers.Serializer):
    """Who takes the chat: an agent of the organization."""

    assignee = TenantRelatedField(
        queryset=User.objects.all(), tenant_lookup="memberships__organization"
    )


class AfterSerializer(QuerySerializer):
    """The messages list's ``after``: the last message number the client has seen."""

    after = serializers.IntegerField(min_value=0, required=False, default=0)


class ChatViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Support chats: agents see every chat; anyone else the chats they opened."""

    module = "support"
    model = Chat
    serializer_class = ChatSerializer
    filterset_class = selectors.ChatFilter
    search_fields = ["subject"]
    ordering_fields = ["created_at", "last_message_at", "priority", "status"]
    ordering = ["-created_at"]
    action_permissions = {
        "assign": "assign",
        "close": "change",
        "reopen": "change",
        "messages": "view",
    }

    def select(self):
        """The organization's chats."""
        return selectors.chat_list(organization=self.tenant.organization)

    @extend_schema(
        responses={
            201: ChatSerializer,
            200: OpenApiResponse(
                ChatSerializer, description="The caller's open chat (members who are not agents)."
            ),
        }
    )
    def create(self, request, *args, **kwargs):
        """Open a chat; a member who is not an agent gets their open chat back (200) if any."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chat, created = services.chat_open(tenant=self.tenant, data=dict(serializer.validated_data))
        return Response(
            self.get_serializer(chat).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        """Delete through the service (audited)."""
        services.chat_delete(chat=instance)

    @extend_schema(request=AssignSerializer, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the chat to an agent (400 for anyone who is not one)."""
        chat = self.get_object()
        body = AssignSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        chat = services.chat_assign(
            tenant=self.tenant, chat=chat, assignee=body.validated_data["assignee"]
        )
        return Response(self.get_serializer(chat).data)

    @extend_schema(request=None, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the chat (409 when closed)."""
        return Response(self.get_serializer(services.chat_close(chat=self.get_object())).data)

    @extend_schema(request=None, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a closed chat (409 when it is not closed)."""
        chat = services.chat_reopen(tenant=self.tenant, chat=self.get_object())
        return Response(self.get_serializer(chat).data)

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.INT,
                description="Only messages numbered after this one (resume from the last "
                "`seq` seen); 0 by default.",
            )
        ],
        responses=MessageSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def messages(self, request, pk=None):
        """GET: the chat's messages, oldest first (paginated; internal notes for agents only).
        POST: a message as the caller (409 on a closed chat)."""
        chat = self.get_object()
        tenant = self.tenant
        if request.method == "POST":
            body = MessageCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            message = services.message_post(tenant=tenant, chat=chat, **body.validated_data)
            return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
        query = AfterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = selectors.message_list(
            chat=chat, agent=selectors.is_agent(tenant.membership)
        ).filter(seq__gt=query.validated_data["after"])
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)
