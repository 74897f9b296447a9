"""Support endpoints under ``/api/v1/support/``: chats (get-or-create, assign, close, reopen,
delete) and their messages (read oldest first, ``after`` to resume; post)."""

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from valar.accounts.models import User
from valar.core import files
from valar.core.filters import AliasOrderingFilter, FilterBackend
from valar.core.metrics.documents import SeriesSerializer
from valar.core.metrics.engine import INTERVALS
from valar.core.pagination import AfterPagination
from valar.core.serializers import (
    PeriodSerializer,
    QueryIntegerField,
    QuerySerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    TenantRelatedField,
)
from valar.core.viewsets import TenantViewSet
from valar.crm.models import Customer
from valar.finance.api.views import ReportSchema
from valar.support import selectors, services
from valar.support.metrics import support_summary
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
    unread = serializers.IntegerField(
        read_only=True,
        help_text="Messages after the caller's read marker (agents count internal notes).",
    )
    read_seq = serializers.IntegerField(
        read_only=True,
        help_text="The caller's read marker: the last message number they have read (0: none).",
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
            "unread",
            "read_seq",
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
        """For members who are not agents, the last message they can read (no internal note).

        Who reads is the context's ``agent`` (a socket event), else the request's member.
        """
        data = super().to_representation(instance)
        agent = self.context.get("agent")
        if agent is None and self.context.get("tenant") is not None:
            agent = selectors.is_agent(self.context["tenant"].membership)
        if agent is False:
            data["last_seq"] = instance.last_public_seq
            data["last_message_at"] = (
                self.fields["last_message_at"].to_representation(instance.last_public_message_at)
                if instance.last_public_message_at
                else None
            )
        return data


class ChatEventSerializer(ChatSerializer):
    """A chat as its sockets' ``chat.*`` events carry it: the REST representation without the
    reader's own counters (``unread``, ``read_seq``: each socket's reader differs)."""

    class Meta(ChatSerializer.Meta):
        fields = [
            name
            for name in ChatSerializer.Meta.fields
            if name not in ("unread", "read_seq", "message")
        ]


class ChatUpdateSerializer(serializers.ModelSerializer):
    """What PATCH changes: the subject and the priority; agents also the status, between
    ``open`` and ``pending``."""

    class Meta:
        model = Chat
        fields = list(services.EDITABLE_FIELDS)


class ReadSerializer(serializers.Serializer):
    """``read/``: up to which message (by default the last one the caller can read)."""

    seq = StrictIntegerField(
        min_value=0,
        max_value=2_147_483_647,
        required=False,
        help_text="The last message number read; default: the last.",
    )


class MarkerSerializer(serializers.Serializer):
    """The caller's read marker after ``read/``."""

    chat = serializers.UUIDField()
    seq = serializers.IntegerField(help_text="The last message number read.")
    unread = serializers.IntegerField(help_text="Messages after it.")
    read_at = serializers.DateTimeField()


class MessageFileSerializer(serializers.Serializer):
    """A message's file: its original name, the type its bytes proved, its size, where to get it."""

    name = serializers.CharField(source="file_name")
    content_type = serializers.ChoiceField(choices=list(files.CONTENT_TYPES), source="file_type")
    size = serializers.IntegerField(source="file_size", min_value=0)
    url = serializers.SerializerMethodField(help_text="The download (`GET`, same credentials).")

    def get_url(self, message) -> str:
        """The file's API path."""
        return f"/api/v1/support/chats/{message.chat_id}/messages/{message.seq}/file/"


class MessageSerializer(serializers.ModelSerializer):
    """A message: its number in the chat (``seq``), its sender, its text (JSON values only,
    so the sockets send exactly what the API answers)."""

    chat = serializers.UUIDField(source="chat_id", read_only=True)
    created_by = serializers.UUIDField(
        source="created_by_id", read_only=True, allow_null=True, help_text="The sender."
    )
    attachment = serializers.SerializerMethodField(help_text="Its file, or null.")

    class Meta:
        model = Message
        fields = [
            "id",
            "chat",
            "seq",
            "created_by",
            "text",
            "internal",
            "created_at",
            "edited_at",
            "deleted_at",
            "attachment",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "edited_at": {"help_text": "When its author last changed the text (null: never)."},
            "deleted_at": {
                "help_text": "When it was deleted: a tombstone, its text empty (null: it was not)."
            },
        }

    @extend_schema_field(MessageFileSerializer(allow_null=True))
    def get_attachment(self, message) -> dict | None:
        """The file's details, or ``None`` without one."""
        return dict(MessageFileSerializer(message).data) if message.file else None


class MessagePageSerializer(serializers.Serializer):
    """A page of messages, oldest first, and the link to the next one (``null``: the last)."""

    next = serializers.URLField(allow_null=True, help_text="The next page (`after` its last).")
    results = MessageSerializer(many=True)


class MessageEditSerializer(serializers.Serializer):
    """A message's new text (trimmed, 1 to 4,000 characters)."""

    text = StrictCharField(
        max_length=services.MAX_MESSAGE_LENGTH * 2,
        trim_whitespace=False,
        help_text="1 to 4,000 characters once trimmed.",
    )


class MessageCreateSerializer(MessageEditSerializer):
    """A new message: text (trimmed, 1 to 4,000 characters) and, for agents, ``internal``."""

    internal = StrictBooleanField(
        default=False, help_text="An internal note, seen by agents only (agents only)."
    )


class MessageUploadSerializer(serializers.Serializer):
    """A message with a file (multipart): the file, and optionally text and ``internal``."""

    file = serializers.FileField(help_text="PDF, PNG, JPEG or WebP (by its bytes), at most 10 MB.")
    text = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=services.MAX_MESSAGE_LENGTH * 2,
        trim_whitespace=False,
        help_text="Up to 4,000 characters once trimmed; may be empty.",
    )
    internal = serializers.BooleanField(
        default=False, help_text="An internal note, seen by agents only (agents only)."
    )


class AssignSerializer(serializers.Serializer):
    """Who takes the chat: an agent of the organization."""

    assignee = TenantRelatedField(
        queryset=User.objects.all(), tenant_lookup="memberships__organization"
    )


class AfterSerializer(QuerySerializer):
    """The messages list's ``after``: the last message number the client has seen."""

    after = QueryIntegerField(min_value=0, required=False, default=0)


#: The path's message number (``messages/{seq}/``).
SEQ_PARAMETER = OpenApiParameter(
    "seq",
    {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    OpenApiParameter.PATH,
    description="The message's number in the chat.",
)


class ChatViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Support chats: agents see every chat; anyone else the chats they opened."""

    module = "support"
    model = Chat
    serializer_class = ChatSerializer
    filterset_class = selectors.ChatFilter
    filter_backends = [FilterBackend, selectors.ChatSearchFilter, AliasOrderingFilter]
    #: Declared for the schema; messages' text is searched too (``ChatSearchFilter``).
    search_fields = ["subject"]
    ordering_fields = ["created_at", "last_message_at", "priority", "status"]
    ordering = ["-created_at"]
    action_permissions = {
        "assign": "assign",
        "close": "change",
        "reopen": "change",
        "messages": "view",
        "read": "view",
        "message": "view",
        "attachments": "view",
        "message_file": "view",
    }

    def select(self):
        """The organization's chats."""
        return selectors.chat_list(organization=self.tenant.organization)

    def present(self, queryset):
        """Each chat with the caller's read marker and unread count."""
        tenant = self.tenant
        return selectors.chat_display(
            queryset, user=tenant.membership.user_id, agent=selectors.is_agent(tenant.membership)
        )

    def _fresh(self, chat: Chat) -> Chat:
        """The chat as the list shows it (with the caller's counters), after a write."""
        return self.get_queryset().get(pk=chat.pk)

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
            self.get_serializer(self._fresh(chat)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=ChatUpdateSerializer, responses=ChatSerializer)
    def update(self, request, *args, **kwargs):
        """Change the subject or the priority (the opener and agents), the status between open
        and pending (agents)."""
        chat = self.get_object()
        body = ChatUpdateSerializer(chat, data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        chat = services.chat_update(tenant=self.tenant, chat=chat, data=body.validated_data)
        return Response(self.get_serializer(chat).data)

    @extend_schema(request=ChatUpdateSerializer, responses=ChatSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change some of the subject and the priority."""
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=ReadSerializer, responses=MarkerSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the chat read up to a message (default: the last); markers only move forward."""
        chat = self.get_object()
        body = ReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marker = services.chat_read(
            tenant=self.tenant, chat=chat, seq=body.validated_data.get("seq")
        )
        return Response(marker)

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
        parameters=AfterPagination.parameters(
            "Only messages numbered after this one (resume from the last `seq` seen); 0 by default."
        ),
        responses=MessagePageSerializer,
    )
    @extend_schema(
        methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def messages(self, request, pk=None):
        """GET: the chat's messages, oldest first, a page after ``after`` with the ``next`` page's
        link (internal notes for agents only). POST: a message as the caller (409 on a closed
        chat)."""
        chat = self.get_object()
        tenant = self.tenant
        if request.method == "POST":
            body = MessageCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            message = services.message_post(tenant=tenant, chat=chat, **body.validated_data)
            return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
        query = AfterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = selectors.message_list(chat=chat, agent=selectors.is_agent(tenant.membership))
        pages = AfterPagination("seq")
        page = pages.paginate(messages, request, query.validated_data["after"])
        return Response(
            {"next": pages.next_link(), "results": MessageSerializer(page, many=True).data}
        )

    @extend_schema(
        methods=["PATCH"],
        parameters=[SEQ_PARAMETER],
        request=MessageEditSerializer,
        responses={200: MessageSerializer},
    )
    @extend_schema(
        methods=["DELETE"], parameters=[SEQ_PARAMETER], request=None, responses={204: None}
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"messages/(?P<seq>[0-9]{1,9})",
        filter_backends=[],
    )
    def message(self, request, pk=None, seq=None):
        """PATCH: edit one's own message (``edited_at`` kept). DELETE: leave a tombstone (its
        author or an admin). A message the caller cannot read is a 404."""
        chat = self.get_object()
        if request.method == "DELETE":
            services.message_delete(tenant=self.tenant, chat=chat, seq=int(seq))
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = MessageEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.message_edit(
            tenant=self.tenant, chat=chat, seq=int(seq), text=body.validated_data["text"]
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(request=MessageUploadSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], filter_backends=[])
    def attachments(self, request, pk=None):
        """Post a message with a file (multipart ``file``, ``text``, ``internal``): the
        attachment rules of ``core.files``; the message counts like any other."""
        chat = self.get_object()
        body = MessageUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        message = services.message_post(
            tenant=self.tenant,
            chat=chat,
            text=data["text"],
            internal=data["internal"],
            upload=data["file"],
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[SEQ_PARAMETER], responses=files.download_responses())
    @action(
        detail=True,
        methods=["get"],
        url_path=r"messages/(?P<seq>[0-9]{1,9})/file",
        content_negotiation_class=files.FileNegotiation,
        filter_backends=[],
    )
    def message_file(self, request, pk=None, seq=None):
        """A message's file, for whoever may read the message (404 without one)."""
        chat = self.get_object()
        agent = selectors.is_agent(self.tenant.membership)
        message = selectors.message_file(chat=chat, agent=agent, seq=int(seq))
        if message is None:
            raise Http404
        return files.download(message.file, message.file_name, message.file_type)


# --- support/summary/ ----------------------------------------------------------------------


class SupportSummaryQuerySerializer(PeriodSerializer):
    """Query parameters of ``support/summary/``: the period and the series' interval."""

    interval = serializers.ChoiceField(choices=list(INTERVALS), default="month")


class SupportTimingSerializer(serializers.Serializer):
    """A duration over some chats: how many, and the mean in seconds."""

    count = serializers.IntegerField(min_value=0, help_text="The chats the mean is over.")
    average_seconds = serializers.FloatField(
        allow_null=True, help_text="Mean seconds, to the hundredth; null over none."
    )
    p50_seconds = serializers.IntegerField(
        allow_null=True, help_text="The median in whole seconds (nearest rank); null over none."
    )
    p90_seconds = serializers.IntegerField(
        allow_null=True, help_text="The 90th percentile in whole seconds (nearest rank)."
    )


class SupportFiguresSerializer(serializers.Serializer):
    """Chats opened and closed in the period, and their mean first response and resolution."""

    opened = serializers.IntegerField(min_value=0, help_text="Chats opened in the period.")
    closed = serializers.IntegerField(min_value=0, help_text="Chats closed in the period.")
    first_response = SupportTimingSerializer(
        help_text="Chats first answered in the period: seconds from opening to that answer."
    )
    resolution = SupportTimingSerializer(
        help_text="Chats closed in the period: seconds from opening to closing."
    )


class SupportAssigneeSerializer(SupportFiguresSerializer):
    """The figures of the chats assigned to one agent (or to nobody)."""

    assignee = StrictUUIDField(allow_null=True, help_text="The agent; null: unassigned chats.")
    email = StrictCharField(allow_null=True, help_text="The agent's e-mail; null when unassigned.")


class ChatStatusCountsSerializer(serializers.Serializer):
    """Chats opened in the period, by their status now."""

    open = serializers.IntegerField(min_value=0)
    pending = serializers.IntegerField(min_value=0)
    closed = serializers.IntegerField(min_value=0)


class SupportSummarySerializer(SupportFiguresSerializer):
    """``support/summary/``: the period's figures, by status, by agent, and their series."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    interval = serializers.ChoiceField(choices=list(INTERVALS))
    by_status = ChatStatusCountsSerializer()
    labels = serializers.ListField(child=StrictCharField())
    series = SeriesSerializer(
        many=True, help_text="`opened` and `closed`: chats per bucket (counts)."
    )
    by_assignee = SupportAssigneeSerializer(
        many=True, help_text="One row per agent with chats in the period, unassigned last."
    )


class SupportSummaryViewSet(TenantViewSet):
    """``support/summary/``: the organization's support figures, over the metrics engine.

    For agents only (``view: all`` on ``support``): members who read only their own chats
    get a 403, as do members without the module.
    """

    schema = ReportSchema()
    module = "support"
    model = Chat
    filter_backends: list = []
    pagination_class = None

    def select(self):
        """Not used: the summary reads through the metrics engine."""
        return Chat.objects.none()

    @extend_schema(
        parameters=[SupportSummaryQuerySerializer], responses={200: SupportSummarySerializer}
    )
    def list(self, request, *args, **kwargs):
        """Chats opened and closed, by status and by agent, and their mean response times."""
        if not selectors.is_agent(self.tenant.membership):
            self.permission_denied(request, message="The support summary is for agents.")
        query = SupportSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(support_summary(tenant=self.tenant, **query.validated_data))
