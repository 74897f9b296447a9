"""Task endpoints under ``/api/v1/tasks/``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from valar.accounts.models import User
from valar.core import bulk
from valar.core.bulk_api import BulkMixin
from valar.core.serializers import StrictCharField, TenantRelatedField
from valar.core.viewsets import ExportMixin, RowListMixin, TenantViewSet
from valar.organizations.models import Team
from valar.tasks import selectors, services
from valar.tasks.models import Task


class TaskSerializer(serializers.ModelSerializer):
    """A task; ``assignee`` and ``team`` must belong to the caller's organization."""

    assignee = TenantRelatedField(
        queryset=User.objects.all(),
        tenant_lookup="memberships__organization",
        required=False,
        allow_null=True,
    )
    team = TenantRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee_name = StrictCharField(read_only=True, allow_null=True)
    team_name = StrictCharField(source="team.name", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "status",
            "priority",
            "due_date",
            "assignee",
            "assignee_name",
            "team",
            "team_name",
            "completed_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "completed_at", "created_by", "created_at", "updated_at"]


TASKS = bulk.register(
    bulk.BulkResource(
        name="tasks",
        module="tasks",
        serializer_class=TaskSerializer,
        writer=services.TaskWriter(),
        preview_fields=("completed_at",),
    )
)


class TaskViewSet(RowListMixin, ExportMixin, BulkMixin, TenantViewSet, ModelViewSet):
    """Tasks: workers change and complete only what they created or are assigned to."""

    module = "tasks"
    bulk_resource = TASKS
    model = Task
    serializer_class = TaskSerializer
    filterset_class = selectors.TaskFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "priority", "created_at", "updated_at", "status"]
    ordering_aliases = {"priority": "priority_rank"}
    ordering = ["-created_at"]
    export_filename = "tasks"
    count_sources = ("tasks",)
    count_cached_params = (
        "status",
        "priority",
        "start_date",
        "end_date",
        "completed_after",
        "completed_before",
        "search",
    )
    action_permissions = {"complete": "change", "reopen": "change"}

    def select(self):
        """The organization's tasks."""
        return selectors.task_list(organization=self.tenant.organization)

    def present(self, queryset):
        """The assignee's display name and the team's name."""
        return selectors.task_display(queryset)

    def _fresh(self, task: Task) -> Task:
        """The task as the list shows it (with its annotations), after a write."""
        return self.get_queryset().get(pk=task.pk)

    def perform_create(self, serializer):
        """Create through the service."""
        task = services.task_create(tenant=self.tenant, data=serializer.validated_data)
        serializer.instance = self._fresh(task)

    def perform_update(self, serializer):
        """Change through the service (completion time, reassignment event)."""
        task = services.task_update(
            task=serializer.instance, data=serializer.validated_data, actor=self.request.user
        )
        serializer.instance = self._fresh(task)

    def perform_destroy(self, instance):
        """Delete through the service."""
        services.task_delete(task=instance)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark the task done (409 when it already is)."""
        task = services.task_complete(task=self.get_object())
        return Response(self.get_serializer(self._fresh(task)).data)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Put a done or cancelled task back to ``todo`` (409 when it is open)."""
        task = services.task_reopen(task=self.get_object())
        return Response(self.get_serializer(self._fresh(task)).data)
