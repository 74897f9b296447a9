"""Dashboard use cases: charts computed once and stored, refreshed on demand, and sharing."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from valar.core.errors import DomainError
from valar.core.metrics import get_source, run
from valar.core.metrics.engine import owner_scope, source_version, validate
from valar.core.services import model_update
from valar.core.tenancy import Tenant
from valar.insights.models import Chart, Dashboard, DashboardShare
from valar.insights.selectors import (
    can_edit,
    can_view,
    chart_scope,
    chart_visible,
    chartable_sources,
)


def _check_editor(tenant: Tenant, dashboard: Dashboard) -> None:
    """Refuse changes by someone who only views the dashboard."""
    if not can_edit(tenant=tenant, dashboard=dashboard):
        raise DomainError("You may view this dashboard but not change it.", status_code=403)


def _check_owner(tenant: Tenant, dashboard: Dashboard) -> None:
    """Sharing, visibility and deletion belong to the owner (or an admin)."""
    if tenant.role != "admin" and dashboard.created_by_id != tenant.membership.user_id:
        raise DomainError("Only the dashboard's owner or an admin may do this.", status_code=403)


def _computed(tenant: Tenant, query: dict[str, Any], keep: Chart | None = None) -> dict[str, Any]:
    """Validate a chart's query for this caller and compute its document.

    The figures are the caller's: their own rows only when their ``view`` of the source's
    module is ``own``. Refreshing a chart (``keep``) keeps the rows it was computed over when
    the caller may read all of them (an admin refreshing a worker's own-figures chart).
    """
    spec = validate(query)
    source = get_source(spec["source"])
    if source.module and not can_view(tenant, source.module):
        raise DomainError(
            f"You cannot chart {source.name}: it needs the {source.module} module.",
            code="module_required",
            errors={"query": [f"The {source.name} source needs the {source.module} module."]},
        )
    owner = owner_scope(tenant, source.module)
    if owner is None and keep is not None:
        owner = chart_scope(keep)
    document = run(organization=tenant.organization, spec=spec, owner=owner)
    return {
        "query": spec,
        "document": document,
        "computed_at": timezone.now(),
        "source_version": source_version(tenant.organization, spec["source"]),
    }


def dashboard_update(*, tenant: Tenant, dashboard: Dashboard, data: dict[str, Any]) -> Dashboard:
    """Change a dashboard's title or description (editors), or visibility (owner/admin)."""
    _check_editor(tenant, dashboard)
    if "visibility" in data and data["visibility"] != dashboard.visibility:
        _check_owner(tenant, dashboard)
    dashboard, _ = model_update(
        instance=dashboard, fields=["title", "description", "visibility"], data=data
    )
    return dashboard


def dashboard_delete(*, tenant: Tenant, dashboard: Dashboard) -> None:
    """Delete a dashboard and its charts (owner or admin)."""
    _check_owner(tenant, dashboard)
    dashboard.delete()


@transaction.atomic
def chart_create(*, tenant: Tenant, dashboard: Dashboard, data: dict[str, Any]) -> Chart:
    """Add a chart: validate its query, run it, and store the document."""
    _check_editor(tenant, dashboard)
    position = data.get("position")
    if position is None:
        last = dashboard.charts.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    return Chart.objects.create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        dashboard=dashboard,
        title=data["title"],
        chart_type=data["chart_type"],
        position=position,
        **_computed(tenant, data["query"]),
    )


@transaction.atomic
def chart_update(*, tenant: Tenant, chart: Chart, data: dict[str, Any]) -> Chart:
    """Rename, retype or move a chart; a new query is validated and computed at once."""
    _check_editor(tenant, chart.dashboard)
    fields = {key: data[key] for key in ("title", "chart_type", "position") if key in data}
    if "query" in data:
        fields.update(_computed(tenant, data["query"]))
    chart, _ = model_update(instance=chart, fields=list(fields), data=fields)
    return chart


def chart_refresh(*, tenant: Tenant, chart: Chart) -> Chart:
    """Compute a chart's document again from its stored query."""
    _check_editor(tenant, chart.dashboard)
    for field, value in _computed(tenant, chart.query, keep=chart).items():
        setattr(chart, field, value)
    chart.save(update_fields=["query", "document", "computed_at", "source_version", "updated_at"])
    return chart


@transaction.atomic
def dashboard_refresh(*, tenant: Tenant, dashboard: Dashboard) -> Dashboard:
    """Compute again every chart of a dashboard that the caller may see."""
    _check_editor(tenant, dashboard)
    chartable = chartable_sources(tenant)
    for chart in dashboard.charts.all():
        if chart_visible(chart, chartable):
            chart_refresh(tenant=tenant, chart=chart)
    return dashboard


def chart_delete(*, tenant: Tenant, chart: Chart) -> None:
    """Remove a chart."""
    _check_editor(tenant, chart.dashboard)
    chart.delete()


@transaction.atomic
def dashboard_share(
    *,
    tenant: Tenant,
    dashboard: Dashboard,
    shares: list[dict[str, Any]],
    visibility: str | None = None,
) -> Dashboard:
    """Replace who the dashboard is shared with (users and teams, viewer or editor)."""
    _check_owner(tenant, dashboard)
    if visibility is not None and visibility != dashboard.visibility:
        dashboard.visibility = visibility
        dashboard.save(update_fields=["visibility", "updated_at"])
    dashboard.shares.all().delete()
    DashboardShare.objects.bulk_create(
        [
            DashboardShare(
                organization=tenant.organization,
                created_by=tenant.membership.user,
                dashboard=dashboard,
                user=share.get("user"),
                team=share.get("team"),
                role=share.get("role", DashboardShare.Role.VIEWER),
            )
            for share in shares
        ]
    )
    return dashboard
