"""``/api/v1/audit/events/``: the organization's audit trail, for its admins."""

from rest_framework import mixins, serializers

from valar.audit import selectors
from valar.audit.models import AuditEvent
from valar.core.viewsets import ExportMixin, TenantViewSet


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit event."""

    actor_email = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "ip_address",
            "user_agent",
            "channel",
            "token_id",
            "request_id",
        ]
        read_only_fields = fields


class AuditEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ExportMixin, TenantViewSet
):
    """The append-only audit trail of the current organization (admins only)."""

    module = "organization"
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = selectors.AuditEventFilter
    ordering_fields = ["created_at"]
    export_filename = "audit-events"
    action_permissions = {
        "list": "administer",
        "retrieve": "administer",
        "export": "administer",
        "metadata": "administer",
    }

    def select(self):
        """The organization's events."""
        return selectors.audit_event_list(organization=self.tenant.organization)
