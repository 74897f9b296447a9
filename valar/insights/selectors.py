"""Insights reads: company figures, trends, breakdowns, projections and team leaderboards.

Every figure is computed in SQL (the metrics engine or one aggregate per kind of figure) and
cached under the versions of the sources it reads. Money is shown only to members with the
``finance`` module: without it the financial keys are absent, not zero. A member whose finance
``view`` is ``own`` is shown figures of their own entries only (``run_for``), everywhere.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from valar.core.filters import DateRangeFilterSet
from valar.core.metrics import run_for
from valar.core.metrics import sources as metric_sources
from valar.core.metrics.engine import (
    INTERVALS,
    bucket_label,
    buckets,
    cached_figures,
    owner_scope,
)
from valar.core.policy import Access, Role, decide
from valar.core.tenancy import Tenant
from valar.crm import selectors as crm
from valar.crm.models import Lead
from valar.finance.selectors import _change, _totals
from valar.insights.models import Chart, Dashboard, DashboardShare
from valar.organizations.models import Team
from valar.tasks import selectors as tasks_selectors
from valar.tasks.models import Task

MONEY_DEAL_KEYS = ("won_value", "pipeline_value", "weighted_value")
TEAM_METRICS = (
    "income",
    "expense",
    "profit",
    "tasks_completed",
    "on_time_rate",
    "deals_won",
    "deals_won_value",
    "leads_converted",
)
FINANCIAL_TEAM_METRICS = ("income", "expense", "profit", "deals_won_value")


def can_view(tenant: Tenant, module: str) -> bool:
    """Whether the caller may view ``module`` in the organization."""
    membership = tenant.membership
    return (
        decide(role=membership.role, modules=membership.modules, module=module, action="view")
        != Access.NONE
    )


def _day_bounds(start: datetime.date, end: datetime.date):
    """The instants bounding the inclusive date range."""
    return (
        DateRangeFilterSet._day_start(start),
        DateRangeFilterSet._day_start(end + datetime.timedelta(days=1)),
    )


def task_figures(*, organization, start: datetime.date, end: datetime.date) -> dict:
    """Open and overdue tasks now; completed and on-time rate in the period (one query)."""
    lower, upper = _day_bounds(start, end)
    done_in_period = Q(status=Task.Status.DONE, completed_at__gte=lower, completed_at__lt=upper)
    figures = Task.objects.filter(organization=organization).aggregate(
        open=Count("pk", filter=~Q(status__in=Task.CLOSED)),
        overdue=Count(
            "pk", filter=~Q(status__in=Task.CLOSED) & Q(due_date__lt=timezone.localdate())
        ),
        completed=Count("pk", filter=done_in_period),
        with_due=Count("pk", filter=done_in_period & Q(due_date__isnull=False)),
        on_time=Count(
            "pk",
            filter=done_in_period
            & Q(due_date__isnull=False, completed_at__date__lte=F("due_date")),
        ),
    )
    with_due = figures.pop("with_due")
    figures["on_time_rate"] = figures["on_time"] / with_due if with_due else None
    return figures


def _money(value) -> str:
    """A money figure as the API shows it."""
    return f"{Decimal(value):.2f}"


def overview(*, tenant: Tenant, start: datetime.date, end: datetime.date) -> dict:
    """The company's figures for a period, each part only for members of its module."""
    organization = tenant.organization
    finance = can_view(tenant, "finance")
    result: dict = {"start_date": start.isoformat(), "end_date": end.isoformat()}

    if finance:
        length = end - start + datetime.timedelta(days=1)
        previous_end = start - datetime.timedelta(days=1)
        totals = _totals(tenant, start, end)
        previous = _totals(tenant, previous_end - length + datetime.timedelta(days=1), previous_end)
        top = {}
        for source in ("income", "expense"):
            document = run_for(
                tenant=tenant,
                spec={
                    "source": source,
                    "start_date": start,
                    "end_date": end,
                    "group_by": "category",
                },
            )
            ranked = sorted(
                document["series"], key=lambda s: Decimal(s["data"][0] or 0), reverse=True
            )[:5]
            top[source] = [
                {"category": s["key"], "name": s["name"], "total": s["data"][0]} for s in ranked
            ]
        result["currency"] = organization.base_currency
        result["finance"] = {
            **totals,
            "previous": previous,
            "change_percent": {key: _change(totals[key], previous[key]) for key in totals},
            "top_income_categories": top["income"],
            "top_expense_categories": top["expense"],
        }
    if can_view(tenant, "tasks"):
        result["tasks"] = cached_figures(
            organization=organization,
            name="overview-tasks",
            params={"start": start, "end": end, "today": timezone.localdate()},
            sources=("tasks",),
            compute=lambda: task_figures(organization=organization, start=start, end=end),
        )
    if can_view(tenant, "crm"):
        leads = cached_figures(
            organization=organization,
            name="overview-leads",
            params={"start": start, "end": end},
            sources=("crm",),
            compute=lambda: crm.lead_figures(
                organization=organization, start_date=start, end_date=end
            ),
        )
        deals = cached_figures(
            organization=organization,
            name="overview-deals",
            params={"start": start, "end": end},
            sources=("crm",),
            compute=lambda: crm.deal_figures(
                organization=organization, start_date=start, end_date=end
            ),
        )
        deals = {
            key: (_money(value) if key in MONEY_DEAL_KEYS else value)
            for key, value in deals.items()
            if finance or key not in MONEY_DEAL_KEYS
        }
        result["leads"] = leads
        result["deals"] = deals
    return result


def trends(*, tenant: Tenant, start: datetime.date, end: datetime.date) -> dict:
    """Monthly series of revenue, expenses, profit, new leads and won deals."""
    base = {"start_date": start, "end_date": end, "interval": "month"}
    wanted = []
    if can_view(tenant, "finance"):
        wanted += [("revenue", {"source": "income"}), ("expenses", {"source": "expense"})]
        wanted += [("profit", {"source": "profit"})]
    if can_view(tenant, "crm"):
        wanted += [("new_leads", {"source": "leads", "measure": "count"})]
        wanted += [
            (
                "won_deals",
                {
                    "source": "deals",
                    "measure": "count",
                    "date_field": "closed_at",
                    "filters": {"status": ["won"]},
                },
            )
        ]
    labels = [bucket_label(day, "month") for day in buckets(start, end, "month")]
    series = []
    for name, spec in wanted:
        document = run_for(tenant=tenant, spec={**base, **spec})
        series.append({"name": name, "data": document["series"][0]["data"]})
    return {"labels": labels, "series": series}


BREAKDOWNS = {
    "category": ("finance", (("income", "category"), ("expense", "category"))),
    "team": ("finance", (("income", "team"), ("expense", "team"))),
    "source": ("crm", (("leads", "source"),)),
}


def breakdown(*, tenant: Tenant, by: str, start: datetime.date, end: datetime.date) -> dict:
    """Totals split by category, team or lead source (the module of the split is required)."""
    module, parts = BREAKDOWNS[by]
    if not can_view(tenant, module):
        return {"by": by, "groups": []}
    groups = []
    for source, dimension in parts:
        spec = {"source": source, "start_date": start, "end_date": end, "group_by": dimension}
        if source == "leads":
            spec["measure"] = "count"
        document = run_for(tenant=tenant, spec=spec)
        groups.append(
            {
                "source": source,
                "items": [
                    {"key": s["key"], "name": s["name"], "total": s["data"][0]}
                    for s in document["series"]
                ],
            }
        )
    return {"by": by, "groups": groups}


def _least_squares(values: list[float]) -> tuple[float, float, float | None]:
    """Slope, intercept and r^2 of the straight line through ``values`` at x = 0, 1, ..."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    slope = sxy / sxx if sxx else 0.0
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in values)
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in enumerate(values))
    return slope, intercept, (1 - residual / total) if total else None


def projections(*, tenant: Tenant, history_months: int, periods: int) -> dict:
    """Next ``periods`` months of revenue and expenses, by a least-squares line over history."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    start = buckets(this_month, this_month, "month")[0]
    for _ in range(history_months):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    end = this_month - datetime.timedelta(days=1)
    future = []
    current = this_month
    for _ in range(periods):
        future.append(bucket_label(current, "month"))
        current = (current + datetime.timedelta(days=32)).replace(day=1)
    series = []
    if can_view(tenant, "finance"):
        for name, source in (("revenue", "income"), ("expenses", "expense")):
            document = run_for(
                tenant=tenant,
                spec={"source": source, "start_date": start, "end_date": end, "interval": "month"},
            )
            history = [float(value) for value in document["series"][0]["data"]]
            slope, intercept, r2 = _least_squares(history)
            n = len(history)
            projected = [
                _money(Decimal(str(intercept + slope * (n + i))).quantize(Decimal("0.01")))
                for i in range(periods)
            ]
            series.append(
                {
                    "name": name,
                    "history": {
                        "labels": document["labels"],
                        "data": document["series"][0]["data"],
                    },
                    "projection": {"labels": future, "data": projected},
                    "fit": {
                        "slope": round(slope, 6),
                        "intercept": round(intercept, 6),
                        "r2": None if r2 is None else round(r2, 6),
                    },
                }
            )
    return {
        "method": "least_squares_linear",
        "description": "A straight line fitted by least squares to the monthly history "
        "(x = month index), extended over the next periods.",
        "history_months": history_months,
        "periods": periods,
        "series": series,
    }


def visible_teams(*, tenant: Tenant) -> QuerySet[Team]:
    """Teams the caller may track: admins all, managers those they lead, others their own."""
    teams = Team.objects.filter(organization=tenant.organization)
    if tenant.role == Role.ADMIN:
        return teams
    user = tenant.membership.user_id
    if tenant.role == Role.MANAGER:
        return teams.filter(Q(lead_id=user) | Q(memberships__user_id=user)).distinct()
    return teams.filter(memberships__user_id=user).distinct()


def _team_rows(tenant: Tenant, teams: list[Team], start, end) -> list[dict]:
    """Every figure for each team: a fixed number of grouped queries, not one per team."""
    organization = tenant.organization
    finance = can_view(tenant, "finance")
    rows = {team.pk: {"team": str(team.pk), "name": team.name} for team in teams}

    if finance:
        for source in ("income", "expense"):
            document = run_for(
                tenant=tenant,
                spec={"source": source, "start_date": start, "end_date": end, "group_by": "team"},
            )
            totals = {s["key"]: Decimal(s["data"][0]) for s in document["series"]}
            for team_id, row in rows.items():
                row[source] = totals.get(str(team_id), Decimal(0))
        for row in rows.values():
            row["profit"] = row["income"] - row["expense"]
    accomplishments = tasks_selectors.accomplishments(
        organization=organization, start_date=start, end_date=end, group_by="team"
    )
    by_team = {row["team"]: row for row in accomplishments}
    for team_id, row in rows.items():
        figures = by_team.get(team_id, {})
        row["tasks_completed"] = figures.get("completed", 0)
        row["on_time_rate"] = figures.get("on_time_rate")
    won = {
        row["team"]: row
        for row in crm.won_value_by(
            organization=organization, group_by="team", start_date=start, end_date=end
        )
    }
    lower, upper = _day_bounds(start, end)
    converted = dict(
        Lead.objects.filter(
            organization=organization,
            status=Lead.Status.CONVERTED,
            converted_at__gte=lower,
            converted_at__lt=upper,
            team__isnull=False,
        )
        .values("team")
        .annotate(n=Count("pk"))
        .values_list("team", "n")
    )
    for team_id, row in rows.items():
        row["deals_won"] = won.get(team_id, {}).get("deals", 0)
        row["deals_won_value"] = Decimal(won.get(team_id, {}).get("value") or 0)
        row["leads_converted"] = converted.get(team_id, 0)
        if not finance:
            for key in FINANCIAL_TEAM_METRICS:
                row.pop(key, None)
    return list(rows.values())


def leaderboard(
    *, tenant: Tenant, start: datetime.date, end: datetime.date, ordering: str | None
) -> list[dict]:
    """The caller's visible teams ranked by one figure (default profit, ties by name)."""
    teams = list(visible_teams(tenant=tenant))
    finance = can_view(tenant, "finance")
    rows = cached_figures(
        organization=tenant.organization,
        name="leaderboard",
        params={
            "start": start,
            "end": end,
            "teams": sorted(str(t.pk) for t in teams),
            "finance": finance,
            # Under finance ``view: own`` the money columns count the caller's entries only.
            "finance_owner": owner_scope(tenant, "finance"),
            "today": timezone.localdate(),
        },
        sources=("finance", "tasks", "crm"),
        compute=lambda: _team_rows(tenant, teams, start, end),
    )
    key = (ordering or ("-profit" if finance else "-tasks_completed")).strip()
    descending, field = key.startswith("-"), key.lstrip("-")

    if field == "name":
        rows = sorted(rows, key=lambda row: row["name"], reverse=descending)
    else:

        def sort_key(row: dict):
            value = row.get(field)
            if value is None:
                return (True, 0, row["name"])
            return (False, -value if descending else value, row["name"])

        rows = sorted(rows, key=sort_key)
    rank, previous = 0, object()
    for index, row in enumerate(rows, 1):
        if row.get(field) != previous:
            rank, previous = index, row.get(field)
        row["rank"] = rank
    return [_shown(row) for row in rows]


def _shown(row: dict) -> dict:
    """Money figures as strings."""
    return {
        key: (_money(value) if isinstance(value, Decimal) else value) for key, value in row.items()
    }


def team_detail(*, tenant: Tenant, team: Team, start: datetime.date, end: datetime.date) -> dict:
    """One team's figures and its monthly series (profit and tasks completed)."""
    row = _shown(_team_rows(tenant, [team], start, end)[0])
    series = []
    base = {
        "start_date": start,
        "end_date": end,
        "interval": "month",
        "filters": {"team": [str(team.pk)]},
    }
    if can_view(tenant, "finance"):
        document = run_for(tenant=tenant, spec={**base, "source": "profit"})
        series.append({"name": "profit", "data": document["series"][0]["data"]})
    document = run_for(
        tenant=tenant,
        spec={
            **base,
            "source": "tasks",
            "measure": "count",
            "date_field": "completed_at",
            "filters": {**base["filters"], "status": ["done"]},
        },
    )
    series.append({"name": "tasks_completed", "data": document["series"][0]["data"]})
    return {**row, "labels": document["labels"], "series": series}


# --- dashboards --------------------------------------------------------------------------


def dashboard_list(*, tenant: Tenant) -> QuerySet[Dashboard]:
    """Dashboards the caller owns, is shared with (directly or by team), or that are public."""
    dashboards = Dashboard.objects.filter(organization=tenant.organization)
    if tenant.role == Role.ADMIN:
        return dashboards.order_by("title")
    user = tenant.membership.user_id
    shared = DashboardShare.objects.filter(
        Q(user_id=user) | Q(team__memberships__user_id=user)
    ).values("dashboard_id")
    return dashboards.filter(
        Q(created_by_id=user) | Q(visibility=Dashboard.Visibility.ORGANIZATION) | Q(pk__in=shared)
    ).order_by("title")


def can_edit(*, tenant: Tenant, dashboard: Dashboard) -> bool:
    """Owner, admins, and editors it is shared with (directly or by team) may change it."""
    user = tenant.membership.user_id
    if tenant.role == Role.ADMIN or dashboard.created_by_id == user:
        return True
    return DashboardShare.objects.filter(
        Q(user_id=user) | Q(team__memberships__user_id=user),
        dashboard=dashboard,
        role=DashboardShare.Role.EDITOR,
    ).exists()


def chartable_sources(tenant: Tenant) -> dict[str, str | None]:
    """Sources the caller may chart, each with whose rows its figures are limited to.

    ``None`` means all of the organization's rows; a user id means the caller's own rows
    (``view: own`` on the source's module).
    """
    return {
        name: owner_scope(tenant, source.module)
        for name, source in metric_sources().items()
        if not source.module or can_view(tenant, source.module)
    }


def chart_scope(chart: Chart) -> str | None:
    """Whose rows a chart's stored document counts (``None``: every row)."""
    return ((chart.document or {}).get("query") or {}).get("owner")


def chart_visible(chart: Chart, chartable: dict[str, str | None]) -> bool:
    """Whether a viewer with ``chartable`` sources may see a chart's stored figures.

    A chart of a module the viewer lacks is hidden; so is one computed over more rows than
    the viewer may read (their ``view`` is ``own`` and it was not computed for them).
    """
    source = chart.query.get("source")
    if source not in chartable:
        return False
    owner = chartable[source]
    return owner is None or chart_scope(chart) == owner


def chart_list(*, dashboard: Dashboard) -> QuerySet[Chart]:
    """A dashboard's charts in order."""
    return Chart.objects.filter(dashboard=dashboard).order_by("position", "created_at")


def query_catalogue(*, tenant: Tenant) -> dict:
    """What a metrics query may name, for the caller: the intervals, and each source whose
    module they may view (``insights/sources/``, the chart form's choices), sorted by name.

    Read from the registry the engine validates against, so the catalogue cannot promise a
    source, measure, dimension or date field the engine would refuse. No database query.
    """
    catalogue = []
    for source in sorted(metric_sources().values(), key=lambda item: item.name):
        if source.module and not can_view(tenant, source.module):
            continue
        catalogue.append(
            {
                "name": source.name,
                "description": source.description,
                "module": source.module,
                "money": source.money,
                "measures": list(source.measures),
                "dimensions": sorted(source.dimensions),
                "date_fields": list(source.allowed_date_fields()),
                "default_date_field": source.date_field,
            }
        )
    return {"intervals": list(INTERVALS), "sources": catalogue}
