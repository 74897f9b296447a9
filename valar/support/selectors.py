"""Support reads: who is an agent, the chats a caller may see, a chat's messages."""

import django_filters
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from rest_framework.filters import SearchFilter

from valar.core.filters import StrictBooleanFilter, UserRefFilter
from valar.core.policy import Access, Role, view_access, visible_rows
from valar.organizations.models import Membership
from valar.support.models import Chat, ChatReader, Message

#: Roles that may be agents (with the ``support`` module).
AGENT_ROLES = (Role.ADMIN, Role.MANAGER, Role.WORKER)


def is_agent(membership: Membership) -> bool:
    """Whether the member works every chat (``view: all`` in ``support``)."""
    return view_access(membership=membership, module="support") == Access.ALL


def agents(*, organization) -> QuerySet[Membership]:
    """The organization's agents: worker and above, with the ``support`` module (admins have
    every module)."""
    return Membership.objects.filter(organization=organization, role__in=AGENT_ROLES).filter(
        Q(role=Role.ADMIN) | Q(modules__icontains='"support"')
    )


def least_loaded_agent(*, organization):
    """The agent with the fewest open or pending chats, ties to the one assigned a chat the
    longest ago (never assigned first), then by id: one query, never random. ``None``
    without agents."""
    return (
        agents(organization=organization)
        .annotate(
            load=Count(
                "user__assigned_chats",
                filter=Q(
                    user__assigned_chats__organization=organization,
                    user__assigned_chats__status__in=Chat.ACTIVE,
                ),
            ),
            last_assigned=Max(
                "user__assigned_chats__assigned_at",
                filter=Q(user__assigned_chats__organization=organization),
            ),
        )
        .order_by("load", F("last_assigned").asc(nulls_first=True), "user_id")
        .values_list("user_id", flat=True)
        .first()
    )


def chat_list(*, organization) -> QuerySet[Chat]:
    """The organization's chats (the view narrows them to what the caller may see)."""
    return Chat.objects.filter(organization=organization)


def chat_display(queryset: QuerySet[Chat], *, user, agent: bool) -> QuerySet[Chat]:
    """Add the caller's read marker (``read_seq``) and unread count (``unread``) to each chat.

    Both come from the caller's one ``ChatReader`` row by subquery, and the unread count is a
    difference of counters (``Chat.last_seq`` or ``public_count`` minus what the marker
    recorded): nothing counts messages. Agents count every message, anyone else what they
    can read (internal notes excluded).
    """
    marker = ChatReader.objects.filter(chat=OuterRef("pk"), user=user)

    def read(field: str):
        return Coalesce(Subquery(marker.values(field)[:1]), 0, output_field=IntegerField())

    if agent:
        return queryset.annotate(read_seq=read("seq"), unread=F("last_seq") - read("seq"))
    return queryset.annotate(
        read_seq=read("public_seq"), unread=F("public_count") - read("public_count")
    )


class ChatSearchFilter(SearchFilter):
    """``search``: each word in the subject or in a message's text the caller can read.

    A message matches by ``EXISTS`` (no join, no duplicate chats); a member who is not an
    agent never finds a chat by the words of an internal note.
    """

    def filter_queryset(self, request, queryset, view):
        """Keep the chats matching every search word."""
        terms = self.get_search_terms(request)
        if not terms:
            return queryset
        agent = is_agent(view.tenant.membership)
        for term in terms:
            messages = Message.objects.filter(
                chat=OuterRef("pk"), text__icontains=term, deleted_at__isnull=True
            )
            if not agent:
                messages = messages.filter(internal=False)
            queryset = queryset.filter(Q(subject__icontains=term) | Exists(messages))
        return queryset


def visible_chat(*, tenant, chat_id) -> Chat | None:
    """The chat ``chat_id`` if the member may see it (as the REST list decides), else None."""
    return (
        visible_rows(
            chat_list(organization=tenant.organization).filter(pk=chat_id),
            membership=tenant.membership,
            module="support",
        )
        .select_related("organization")
        .first()
    )


def open_chat_of(*, organization, user) -> Chat | None:
    """The member's open (or pending) chat, the oldest if several."""
    return (
        chat_list(organization=organization)
        .filter(created_by=user, status__in=Chat.ACTIVE)
        .order_by("created_at")
        .first()
    )


class ChatFilter(django_filters.FilterSet):
    """Filters of the chat list: status (several), assignee (id or ``me``), unassigned, customer."""

    status = django_filters.MultipleChoiceFilter(choices=Chat.Status.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Chat.Priority.choices, distinct=False)
    assignee = UserRefFilter(field_name="assignee")
    unassigned = StrictBooleanFilter(
        field_name="assignee", lookup_expr="isnull", help_text="true: chats nobody is assigned."
    )
    customer = django_filters.UUIDFilter(field_name="customer_id")

    class Meta:
        model = Chat
        fields: list[str] = []


def message_list(*, chat: Chat, agent: bool) -> QuerySet[Message]:
    """A chat's messages in order; internal notes only for agents."""
    messages = Message.objects.filter(chat=chat).order_by("seq")
    return messages if agent else messages.filter(internal=False)


def message_file(*, chat: Chat, agent: bool, seq: int) -> Message | None:
    """Message ``seq`` of the chat if the reader may see it and it carries a file."""
    return message_list(chat=chat, agent=agent).filter(seq=seq).exclude(file="").first()
