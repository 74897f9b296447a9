"""Screening endpoints under ``/api/v1/screening/`` (module ``screening``; seed 004).

Lists (``documents/``: upload, list, delete, ``dataframe/``, ``etl/``, ``batch/``),
``processed-documents/``, ``etl-scripts/``, ``entries/``, ``runs/``, ``matches/`` (``approve/``,
``reject/``), ``affiliated-users/``, ``settings/``, and the reports: ``summary/``, ``export/``
and ``report/`` (a run's PDF, rendered by a job). Views are thin: writes go through
``screening.services``, reads through ``screening.selectors`` (figures and exports:
``screening.reports``).
"""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from valar.core import files
from valar.core.exports import EXPORT_FORMATS, export_response
from valar.core.serializers import PeriodSerializer
from valar.core.viewsets import RowListMixin, TenantViewSet
from valar.jobs.api import JobSerializer
from valar.organizations.models import Membership
from valar.screening import etl, reports, selectors, services
from valar.screening.api import serializers as s
from valar.screening.etl import SCRIPTS as ETL_SCRIPTS
from valar.screening.models import Entry, ListDocument, Match, Run, Settings


def _accepted(jobs, context) -> Response:
    """202 with the started job (or jobs)."""
    if isinstance(jobs, list):
        data = JobSerializer(jobs, many=True, context=context).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
    response = Response(JobSerializer(jobs, context=context).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = f"/api/v1/jobs/{jobs.pk}/"
    return response


class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
    GenericViewSet,
):
    """Uploaded watch lists: upload (multipart), list, read, describe, delete, preview, ETL."""

    module = "screening"
    model = ListDocument
    serializer_class = s.DocumentSerializer
    filterset_class = selectors.DocumentFilter
    search_fields = ["name", "source", "filename"]
    ordering_fields = ["created_at", "name", "list_date", "entry_count"]
    ordering = ["-created_at"]
    #: Bodies are JSON; uploads (``create``, ``batch/``) are multipart.
    parser_classes = [JSONParser]
    action_permissions = {
        "dataframe": "view",
        "etl": "process",
        "etl_script": "process",
        "batch": "create",
        "batch_process": "process",
        "update": "change",
        "partial_update": "change",
    }

    def select(self):
        """The organization's lists."""
        return selectors.document_list(organization=self.tenant.organization)

    def get_parsers(self):
        """Multipart for an upload (``create``; ``batch/`` declares its own), JSON for
        everything else. The parsers are chosen before DRF sets ``action``: the route's
        method decides."""
        action = getattr(self, "action", None)
        if action is None and getattr(self, "action_map", None) and self.request is not None:
            action = self.action_map.get(self.request.method.lower())
        if action == "create":
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Upload a list: CSV, XLS, XLSX or XML (its type proven by its bytes), at most 50 MB.

        Nothing is read yet: ``etl/`` processes it as a job.
        """
        form = s.DocumentUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        document = services.document_upload(tenant=self.tenant, upload=data.pop("file"), data=data)
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DocumentWriteSerializer, responses={200: s.DocumentSerializer})
    def update(self, request, *args, **kwargs):
        """Change a list's name, source, date, script or options (its file stays); the
        fields not given keep their values (PUT and PATCH alike)."""
        document = self.get_object()
        form = s.DocumentWriteSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        document = services.document_describe(document=document, data=form.validated_data)
        return Response(self.get_serializer(document).data)

    @extend_schema(request=s.DocumentWriteSerializer, responses={200: s.DocumentSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change some of a list's name, source, date, script or options."""
        return self.update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        """Delete the list with its entries and their matches (audited)."""
        services.document_delete(document=instance)

    @extend_schema(parameters=[s.DataframeQuerySerializer], responses={200: s.DataframeSerializer})
    @action(detail=True, methods=["get"], filter_backends=[])
    def dataframe(self, request, pk=None):
        """The list's first rows as a table (read with polars) and the detected columns."""
        document = self.get_object()
        query = s.DataframeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = services.document_preview(
            document=document,
            script=query.validated_data.get("script") or document.etl_script,
            rows=query.validated_data["rows"],
        )
        return Response(s.DataframeSerializer(data).data)

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def etl(self, request, pk=None):
        """Process the list with its own script, as a job (``jobs/{id}/``: progress, counts,
        row errors). Its entries are replaced together, or not at all if the run fails."""
        job = services.document_process_start(tenant=self.tenant, document=self.get_object())
        return _accepted(job, self.get_serializer_context())

    @extend_schema(
        request=None,
        responses={202: JobSerializer},
        operation_id="v1_screening_documents_etl_script_create",
        parameters=[
            OpenApiParameter(
                "script",
                str,
                OpenApiParameter.PATH,
                enum=sorted(ETL_SCRIPTS),
                description="The ETL script's name (etl-scripts/); 404 for one that does not "
                "exist.",
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path=r"etl/(?P<script>[^/.]+)")
    def etl_script(self, request, pk=None, script=None):
        """Process the list with the named script (404 for a script that does not exist)."""
        job = services.document_process_start(
            tenant=self.tenant, document=self.get_object(), script=script
        )
        return _accepted(job, self.get_serializer_context())

    @extend_schema(
        request={"multipart/form-data": s.DocumentBatchSerializer},
        responses={201: s.DocumentSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def batch(self, request):
        """Upload several lists at once (``files``), all or none."""
        form = s.DocumentBatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        documents = services.documents_upload(
            tenant=self.tenant, uploads=data.pop("files"), data=data
        )
        return Response(
            self.get_serializer(documents, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.DocumentProcessSerializer, responses={202: JobSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="batch/process")
    def batch_process(self, request):
        """Process several lists, each with its own script: one job each (all start or none).

        An id that is not one of the organization's lists is a 400 naming it.
        """
        form = s.DocumentProcessSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(form.validated_data["documents"]))
        found = {doc.pk: doc for doc in self.get_queryset().filter(pk__in=wanted)}
        missing = [str(pk) for pk in wanted if pk not in found]
        if missing:
            from valar.core.errors import DomainError

            raise DomainError(
                "Some lists do not exist.",
                errors={"documents": [f"No list {pk}." for pk in missing]},
            )
        jobs = services.documents_process_start(
            tenant=self.tenant, documents=[found[pk] for pk in wanted]
        )
        return _accepted(jobs, self.get_serializer_context())


class ProcessedDocumentViewSet(RowListMixin, mixins.ListModelMixin, TenantViewSet, GenericViewSet):
    """Lists whose last ETL run succeeded, with their row, entry and error counts."""

    module = "screening"
    model = ListDocument
    serializer_class = s.DocumentSerializer
    filterset_class = selectors.DocumentFilter
    search_fields = ["name", "source"]
    ordering_fields = ["processed_at", "name", "entry_count"]
    ordering = ["-processed_at"]

    def select(self):
        """The processed lists."""
        return selectors.processed_document_list(organization=self.tenant.organization)


class EtlScriptViewSet(TenantViewSet, GenericViewSet):
    """The ETL scripts a list can be read with (defined in code, versioned)."""

    module = "screening"
    model = ListDocument
    serializer_class = s.EtlScriptSerializer
    pagination_class = None
    filter_backends: list = []

    def select(self):
        """Not used: the scripts are not rows."""
        return ListDocument.objects.none()

    @extend_schema(responses={200: s.EtlScriptSerializer(many=True)})
    def list(self, request):
        """Every script: name, version, description, expected columns, file types, options."""
        scripts = [etl.SCRIPTS[name] for name in sorted(etl.SCRIPTS)]
        return Response(
            s.EtlScriptSerializer(
                [
                    {
                        "name": script.name,
                        "version": script.version,
                        "label": script.label,
                        "description": script.description,
                        "columns": list(script.columns),
                        "file_types": list(script.file_types),
                        "options": {key: str(value) for key, value in script.options.items()},
                    }
                    for script in scripts
                ],
                many=True,
            ).data
        )


class EntryViewSet(
    RowListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
    GenericViewSet,
):
    """Listed entries: search (a name or alias, a number, a reference), and by admins add,
    change, delete (audited)."""

    module = "screening"
    model = Entry
    serializer_class = s.ListEntrySerializer
    filterset_class = selectors.EntryFilter
    ordering_fields = ["name_key", "created_at", "reference"]
    ordering = ["name_key"]
    action_permissions = {
        "create": "configure",
        "update": "configure",
        "partial_update": "configure",
        "destroy": "configure",
    }

    def select(self):
        """The organization's entries."""
        return selectors.entry_list(organization=self.tenant.organization)

    def perform_create(self, serializer):
        """Add the entry to its list."""
        data = dict(serializer.validated_data)
        serializer.instance = services.entry_create(
            tenant=self.tenant, document=data.pop("document"), data=data
        )

    def perform_update(self, serializer):
        """Change the entry."""
        serializer.instance = services.entry_update(
            entry=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        """Delete the entry with its matches."""
        services.entry_delete(entry=instance)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet, GenericViewSet):
    """Screening runs: screen one subject at once, or start a run over many."""

    module = "screening"
    model = Run
    serializer_class = s.RunSerializer
    filterset_class = selectors.RunFilter
    ordering_fields = ["created_at", "finished_at", "match_count"]
    ordering = ["-created_at"]
    parser_classes = [JSONParser]
    action_permissions = {"create": "screen", "file": "screen"}

    def select(self):
        """The organization's runs."""
        return selectors.run_list(organization=self.tenant.organization)

    @extend_schema(
        request=s.RunCreateSerializer,
        responses={
            201: OpenApiResponse(s.RunResultSerializer, description="One subject, screened."),
            202: OpenApiResponse(JobSerializer, description="A run over many, as a job."),
        },
    )
    def create(self, request, *args, **kwargs):
        """``subject``: screened now, 201 with the run and its matches. ``scope``
        (customers, vendors, members, all): 202 with the run's job."""
        form = s.RunCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("subject"):
            run = services.run_subject(tenant=self.tenant, data=data["subject"])
            run = self.get_queryset().get(pk=run.pk)
            run.matches_shown = selectors.match_list(organization=self.tenant.organization).filter(
                run=run
            )
            payload = s.RunResultSerializer(run, context=self.get_serializer_context()).data
            payload["matches"] = s.MatchSerializer(run.matches_shown, many=True).data
            return Response(payload, status=status.HTTP_201_CREATED)
        run = services.run_batch_start(tenant=self.tenant, scope=data["scope"])
        return _accepted(run.job, self.get_serializer_context())

    @extend_schema(
        request={"multipart/form-data": s.RunFileSerializer},
        responses={202: OpenApiResponse(JobSerializer, description="The run's job.")},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def file(self, request):
        """Screen every row of an uploaded file of subjects (checked now: 400 naming the
        problem), as a job: 202 with the run's job."""
        form = s.RunFileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = services.run_batch_start(
            tenant=self.tenant, scope=Run.Scope.FILE, upload=form.validated_data["file"]
        )
        return _accepted(run.job, self.get_serializer_context())


class MatchViewSet(
    RowListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet, GenericViewSet
):
    """Matches to review: filter by run, subject, status, score; confirm or dismiss them."""

    module = "screening"
    model = Match
    serializer_class = s.MatchSerializer
    filterset_class = selectors.MatchFilter
    search_fields = ["subject_name"]
    ordering_fields = ["score", "created_at", "reviewed_at"]
    ordering = ["-score"]
    action_permissions = {"approve": "review", "reject": "review"}

    def select(self):
        """The organization's matches."""
        return selectors.match_list(organization=self.tenant.organization)

    def _review(self, request, status_value: str) -> Response:
        """Review the match with the request's reason."""
        match = self.get_object()
        form = s.ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.match_review(
            tenant=self.tenant,
            match=match,
            status_value=status_value,
            reason=form.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=match.pk)).data)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.MatchSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Confirm the match as a hit (reason required): flags the subject, tells the admins."""
        return self._review(request, Match.Status.CONFIRMED)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.MatchSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Dismiss the match as a false positive (reason required); the pair is remembered."""
        return self._review(request, Match.Status.DISMISSED)


class AffiliatedUserViewSet(mixins.ListModelMixin, TenantViewSet, GenericViewSet):
    """Members matched against the watch lists (seed 004's affiliated users): list, and
    confirm or dismiss each one's pending matches."""

    module = "screening"
    model = Membership
    serializer_class = s.AffiliatedUserSerializer
    filter_backends: list = []
    lookup_field = "user"
    lookup_url_kwarg = "user_id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    action_permissions = {"approve": "review", "reject": "review"}

    def select(self):
        """Members of the organization with at least one match."""
        return selectors.affiliated_users(organization=self.tenant.organization)

    def list(self, request, *args, **kwargs):
        """The members with matches (counts from one aggregate query per page)."""
        page = self.paginate_queryset(self.get_queryset())
        counts = selectors.member_match_counts(
            organization=self.tenant.organization, membership_ids=[row.pk for row in page]
        )
        data = s.AffiliatedUserSerializer(page, many=True, context={"counts": counts}).data
        return self.get_paginated_response(data)

    def _review(self, request, user_id, status_value: str) -> Response:
        """Review the member's pending matches."""
        if not self.get_queryset().filter(user_id=user_id).exists():
            raise Http404
        form = s.ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reviewed = services.member_review(
            tenant=self.tenant,
            user_id=user_id,
            status_value=status_value,
            reason=form.validated_data["reason"],
        )
        return Response(
            s.ReviewedSerializer(
                {"user": user_id, "reviewed": reviewed, "status": status_value}
            ).data
        )

    @extend_schema(request=s.ReviewSerializer, responses={200: s.ReviewedSerializer})
    @action(detail=True, methods=["post", "patch"])
    def approve(self, request, user_id=None):
        """Confirm the member's pending matches as hits (reason required)."""
        return self._review(request, user_id, Match.Status.CONFIRMED)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.ReviewedSerializer})
    @action(detail=True, methods=["post", "patch"])
    def reject(self, request, user_id=None):
        """Dismiss the member's pending matches as false positives (reason required)."""
        return self._review(request, user_id, Match.Status.DISMISSED)


class SettingsViewSet(TenantViewSet, GenericViewSet):
    """The organization's screening scores: the match threshold and the cutoff."""

    module = "screening"
    model = Settings
    serializer_class = s.SettingsSerializer
    pagination_class = None
    filter_backends: list = []
    action_permissions = {"show": "view", "change": "configure"}

    def select(self):
        """The organization's settings row (none until first changed)."""
        return Settings.objects.all()

    def _answer(self) -> Response:
        """The stored and the effective scores."""
        organization = self.tenant.organization
        row = Settings.objects.filter(organization=organization).first()
        threshold, cutoff = services.scores(organization)
        return Response(
            s.SettingsSerializer(
                {
                    "match_threshold": row.match_threshold if row else None,
                    "cutoff": row.cutoff if row else None,
                    "effective_threshold": threshold,
                    "effective_cutoff": cutoff,
                }
            ).data
        )

    @extend_schema(responses={200: s.SettingsSerializer})
    def show(self, request):
        """The scores in force (``effective_*``) and the organization's own (null: the
        system's)."""
        return self._answer()

    @extend_schema(request=s.SettingsSerializer, responses={200: s.SettingsSerializer})
    def change(self, request):
        """Set the organization's threshold and cutoff (admins)."""
        form = s.SettingsSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        services.settings_update(tenant=self.tenant, data=form.validated_data)
        return self._answer()


class SummaryViewSet(TenantViewSet, GenericViewSet):
    """``screening/summary/``: the period's runs and matches and the entries held now."""

    module = "screening"
    model = Match
    serializer_class = s.ScreeningSummarySerializer
    pagination_class = None
    filter_backends: list = []
    action_permissions = {"show": "view"}

    def select(self):
        """Not used: the summary reads through the metrics engine."""
        return Match.objects.none()

    @extend_schema(parameters=[PeriodSerializer], responses={200: s.ScreeningSummarySerializer})
    def show(self, request):
        """Entries per list and kind, runs and matches per status, the confirmed rate and the
        median review time (``start_date``..``end_date``; this month by default)."""
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        return Response(reports.screening_summary(tenant=self.tenant, **period.validated_data))


class ExportViewSet(TenantViewSet, GenericViewSet):
    """``screening/export/``: entries or matches as CSV or XLSX."""

    module = "screening"
    model = Entry
    serializer_class = s.ExportQuerySerializer
    pagination_class = None
    filter_backends: list = []
    content_negotiation_class = files.FileNegotiation
    action_permissions = {"download": "view"}

    def select(self):
        """Not used: the export reads through ``screening.reports``."""
        return Entry.objects.none()

    @extend_schema(
        parameters=[s.ExportQuerySerializer],
        responses={
            (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description=f"{fmt} file")
            for fmt, mime in EXPORT_FORMATS.items()
        },
    )
    def download(self, request):
        """Entries (of one list, or all) or matches (of one run, against one list, or all),
        at most 100,000 rows; a run or list of another organization is a 404."""
        form = s.ExportQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        query = form.validated_data
        organization = self.tenant.organization
        document = run = None
        if query.get("document"):
            document = get_object_or_404(
                selectors.document_list(organization=organization), pk=query["document"]
            )
        if query.get("run"):
            run = get_object_or_404(selectors.run_list(organization=organization), pk=query["run"])
        if query["what"] == "matches":
            columns, rows = reports.export_matches(
                organization=organization, run=run, document=document
            )
            filename = f"screening-matches-{run.pk}" if run else "screening-matches"
        else:
            columns, rows = reports.export_entries(organization=organization, document=document)
            filename = f"screening-entries-{document.pk}" if document else "screening-entries"
        return export_response(query["format"], columns, rows, filename)


class ReportViewSet(TenantViewSet, GenericViewSet):
    """``screening/report/``: a run's PDF report, rendered by a job, then downloaded."""

    module = "screening"
    model = Run
    serializer_class = s.ReportRequestSerializer
    pagination_class = None
    filter_backends: list = []
    content_negotiation_class = files.FileNegotiation
    action_permissions = {"start": "view", "download": "view"}

    def select(self):
        """The organization's runs."""
        return selectors.run_list(organization=self.tenant.organization)

    @extend_schema(request=s.ReportRequestSerializer, responses={202: JobSerializer})
    def start(self, request):
        """Render the run's PDF report as a job (202); ``report/{job_id}/`` serves it once the
        job has succeeded. A run of another organization is a 404."""
        form = s.ReportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = get_object_or_404(self.get_queryset(), pk=form.validated_data["run"])
        job = services.report_start(tenant=self.tenant, run=run)
        return _accepted(job, self.get_serializer_context())

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The report")
        }
    )
    def download(self, request, job_id=None):
        """The PDF of a succeeded report job of the organization (404 otherwise)."""
        found = selectors.report_file(organization=self.tenant.organization, job_id=job_id)
        if found is None:
            raise Http404
        name, run = found
        return FileResponse(
            default_storage.open(name, "rb"),
            as_attachment=True,
            filename=f"screening-report-{run}.pdf",
            content_type="application/pdf",
        )
