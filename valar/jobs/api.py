"""Job endpoints under ``/api/v1/jobs/``: the organization's jobs, read-only, and cancel."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from valar.core.viewsets import RowListMixin, TenantViewSet
from valar.jobs import selectors, services
from valar.jobs.models import Job


@extend_schema_field(
    {
        "type": ["object", "null"],
        "additionalProperties": True,
        "description": "The job's summary (what it did), once it has succeeded.",
    }
)
class ResultField(serializers.JSONField):
    """The job's JSON summary."""


class JobSerializer(serializers.ModelSerializer):
    """A job as its organization sees it (every field is written by the job machinery)."""

    result = ResultField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "progress",
            "result",
            "error",
            "attempts",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JobViewSet(RowListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The organization's background jobs; members see (and cancel) the jobs they started."""

    module = "jobs"
    model = Job
    serializer_class = JobSerializer
    filterset_class = selectors.JobFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "state", "kind"]
    ordering = ["-created_at"]
    action_permissions = {"cancel": "change"}

    def select(self):
        """The organization's jobs."""
        return selectors.job_list(organization=self.tenant.organization)

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running job (409 ``job_finished`` when it has ended)."""
        job = services.job_cancel(job=self.get_object())
        return Response(self.get_serializer(job).data)
