"""Routes of screening under ``/api/v1/screening/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from valar.screening.api import views

router = SimpleRouter()
router.register("documents", views.DocumentViewSet, basename="screening-document")
router.register(
    "processed-documents", views.ProcessedDocumentViewSet, basename="screening-processed"
)
router.register("etl-scripts", views.EtlScriptViewSet, basename="screening-etl-script")
router.register("entries", views.EntryViewSet, basename="screening-entry")
router.register("runs", views.RunViewSet, basename="screening-run")
router.register("matches", views.MatchViewSet, basename="screening-match")
router.register(
    "affiliated-users", views.AffiliatedUserViewSet, basename="screening-affiliated-user"
)

urlpatterns = [
    path(
        "settings/",
        views.SettingsViewSet.as_view({"get": "show", "patch": "change"}),
        name="screening-settings",
    ),
    path("summary/", views.SummaryViewSet.as_view({"get": "show"}), name="screening-summary"),
    path("export/", views.ExportViewSet.as_view({"get": "download"}), name="screening-export"),
    path("report/", views.ReportViewSet.as_view({"post": "start"}), name="screening-report"),
    path(
        "report/<uuid:job_id>/",
        views.ReportViewSet.as_view({"get": "download"}),
        name="screening-report-download",
    ),
    *router.urls,
]
