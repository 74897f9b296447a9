"""Operational writes: the demo data ``make run`` creates, and the runtime configuration."""

import datetime
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from valar.accounts.models import User
from valar.accounts.services import user_create
from valar.alerts.services import alert_rule_create, check_alerts
from valar.audit.services import audit_record
from valar.core import sysconfig
from valar.core.errors import DomainError
from valar.core.models import SystemSetting
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.crm.models import Customer
from valar.crm.services import customer_create, deal_create, lead_create
from valar.finance import recurring
from valar.finance.documents import document_create, document_send, payment_create
from valar.finance.models import Category, RecurringInvoice
from valar.finance.services import entry_create
from valar.organizations.models import Membership
from valar.organizations.services import organization_create, team_create, team_member_add
from valar.tasks.services import task_create

DEMO_EMAIL = "admin@valar.local"
#: The demo portal client, acting for the customer Acme (its password is not printed).
DEMO_CLIENT_EMAIL = "client@valar.local"
DEMO_TEAMS = ("Sales", "Operations")


@transaction.atomic
def demo_seed() -> tuple[User, str] | None:
    """Create the demo admin and organization when the database has no users.

    The organization "Valar Demo" gets two teams, a worker and a little work: tasks, a lead,
    a deal, this month's income and expenses, two alert rules (one of them firing), a
    support chat, invoicing, a processed DTTOT-shaped watch list with a vendor to review, and
    the dashboard "Business overview" with one chart of each type; both users' emails count as
    verified.
    Returns the admin and its password.

    Returns ``None`` (and changes nothing) when any user exists, so the credentials are
    printed once, on the first run.
    """
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_create(email=DEMO_EMAIL, password=password, first_name="Demo", last_name="Admin")
    user.is_staff = True
    user.is_superuser = True
    user.email_verified_at = timezone.now()
    user.save(update_fields=["is_staff", "is_superuser", "email_verified_at"])
    organization = organization_create(name="Valar Demo", actor=user)
    tenant = Tenant(
        organization=organization,
        membership=Membership.objects.get(organization=organization, user=user),
    )
    worker = _demo_member(
        organization=organization, email="worker@valar.local", role=Role.WORKER, modules=["tasks"]
    )
    teams = []
    for name in DEMO_TEAMS:
        team = team_create(tenant=tenant, data={"name": name, "lead": user})
        team_member_add(tenant=tenant, team=team, user=worker)
        teams.append(team)
    _demo_work(tenant=tenant, worker=worker, teams=teams)
    _demo_alerts(tenant=tenant, teams=teams)
    _demo_support(tenant=tenant)
    _demo_invoicing(tenant=tenant)
    _demo_screening(tenant=tenant)
    _demo_dashboards(tenant=tenant)
    _demo_member(
        organization=organization,
        email=DEMO_CLIENT_EMAIL,
        role=Role.CLIENT,
        modules=["support"],
        customer=Customer.objects.get(organization=organization, name="Acme"),
    )
    return user, password


def _demo_member(*, organization, email: str, role: str, modules: list[str], customer=None):
    """A demo member with a verified e-mail and an unprinted password (an admin sets one);
    a portal client acts for ``customer``."""
    member = user_create(
        email=email,
        password=secrets.token_urlsafe(12),
        first_name="Demo",
        last_name=role.capitalize(),
    )
    member.email_verified_at = timezone.now()
    member.save(update_fields=["email_verified_at"])
    Membership.objects.create(
        organization=organization,
        user=member,
        role=role,
        modules=modules,
        customer=customer,
        is_default=True,
        manages_account=True,
    )
    return member


def _demo_screening(*, tenant: Tenant) -> None:
    """A small DTTOT-shaped list, processed, and a vendor named like one of its entries (the
    list's re-screening run leaves a pending match to review)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from valar.crm.models import Vendor
    from valar.screening import services as screening

    Vendor.objects.create(
        organization=tenant.organization, created_by=tenant.membership.user, name="Oman Rochman"
    )
    document = screening.document_upload(
        tenant=tenant,
        upload=SimpleUploadedFile("dttot_sample.csv", screening.SAMPLE.read_bytes()),
        data={"name": "DTTOT sample", "source": "PPATK (sample)"},
    )
    screening.document_process(document_id=document.pk, script=document.etl_script)


def _demo_invoicing(*, tenant: Tenant) -> None:
    """Acme's sent quote, an issued invoice half paid (its payment in the ledger), and a
    monthly retainer invoice from the first of next month (a recurring schedule)."""
    customer = Customer.objects.get(organization=tenant.organization, name="Acme")
    today = timezone.localdate()
    lines = [
        {
            "description": "Onboarding workshop",
            "quantity": Decimal("2"),
            "unit_price": Decimal("450.00"),
            "tax_rate": Decimal("11"),
        },
        {
            "description": "Support hours",
            "quantity": Decimal("7.5"),
            "unit_price": Decimal("60.00"),
            "discount_percent": Decimal("10"),
            "tax_rate": Decimal("11"),
        },
    ]
    quote = document_create(
        tenant=tenant,
        document_type="quote",
        data={
            "customer": customer,
            "expiry_date": today + datetime.timedelta(days=30),
            "line_items": lines,
        },
    )
    document_send(tenant=tenant, document=quote, email=False)
    invoice = document_create(
        tenant=tenant,
        document_type="invoice",
        data={
            "customer": customer,
            "due_date": today + datetime.timedelta(days=14),
            "terms": "14 days",
            "line_items": lines,
        },
    )
    invoice = document_send(tenant=tenant, document=invoice, email=False)
    payment_create(
        tenant=tenant,
        data={"invoice": invoice, "amount": Decimal("500.00"), "date": today},
    )
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    recurring.schedule_save(
        tenant=tenant,
        model=RecurringInvoice,
        schedule=None,
        data={
            "name": "Acme support retainer",
            "frequency": "monthly",
            "start_date": next_month,
            "customer": customer,
            "due_days": 14,
            "line_items": [
                {
                    "description": "Support retainer",
                    "quantity": Decimal("1"),
                    "unit_price": Decimal("300.00"),
                    "tax_rate": Decimal("11"),
                }
            ],
        },
    )


#: The demo dashboard's charts: one of each chart type, over this year's demo data by month.
DEMO_CHARTS = (
    ("Income by category", "bar", {"source": "income", "measure": "sum", "group_by": "category"}),
    ("Expenses", "line", {"source": "expense", "measure": "sum"}),
    ("Profit", "area", {"source": "profit", "measure": "sum"}),
    (
        "Expenses by category",
        "pie",
        {"source": "expense", "measure": "sum", "group_by": "category"},
    ),
    (
        "Support chats by status",
        "table",
        {"source": "support", "measure": "count", "group_by": "status"},
    ),
)


def _demo_dashboards(*, tenant: Tenant) -> None:
    """The dashboard "Business overview", visible to the organization, with one chart of each
    type (bar, line, area, pie, table) computed by the chart service over this year by month."""
    from valar.insights.models import Dashboard
    from valar.insights.services import chart_create

    today = timezone.localdate()
    # Stamped as the API's create stamps it (TenantViewSet.perform_create).
    dashboard = Dashboard.objects.create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        title="Business overview",
        description="This year by month: money in and out, profit, and the support queue.",
        visibility=Dashboard.Visibility.ORGANIZATION,
    )
    period = {
        "start_date": today.replace(month=1, day=1).isoformat(),
        "end_date": today.replace(month=12, day=31).isoformat(),
        "interval": "month",
    }
    for title, chart_type, query in DEMO_CHARTS:
        chart_create(
            tenant=tenant,
            dashboard=dashboard,
            data={"title": title, "chart_type": chart_type, "query": {**query, **period}},
        )


def _demo_support(*, tenant: Tenant) -> None:
    """A support chat with a question and an answer (the admin is the only agent)."""
    from valar.support.services import chat_open, message_post

    chat, _ = chat_open(
        tenant=tenant,
        data={
            "subject": "Invoice copy for March",
            "message": "Could you resend the March invoice?",
        },
    )
    message_post(tenant=tenant, chat=chat, text="Sent again this morning.")


def _demo_alerts(*, tenant: Tenant, teams: list) -> None:
    """Two alert rules, checked once: overdue tasks above 0 (firing), expenses above 10,000."""
    alert_rule_create(
        tenant=tenant,
        data={
            "name": "Overdue tasks",
            "source": "tasks",
            "date_field": "due_date",
            "period": "before_today",
            "filters": {"status": ["todo", "in_progress", "blocked"]},
            "threshold": Decimal("0"),
            "users": [tenant.membership.user],
        },
    )
    alert_rule_create(
        tenant=tenant,
        data={
            "name": "Spending this month",
            "source": "expense",
            "threshold": Decimal("10000.00"),
            "teams": [teams[1]],
        },
    )
    check_alerts(tenant.organization)


def _demo_work(*, tenant: Tenant, worker: User, teams: list) -> None:
    """A little sample data: tasks, leads, a deal and this month's income and expenses."""
    today = timezone.localdate()
    for title, days, team in (
        ("Call back the Acme buyer", 2, teams[0]),
        ("Prepare the quarterly review", -3, teams[1]),
        ("Renew the office lease", 10, teams[1]),
    ):
        task_create(
            tenant=tenant,
            data={
                "title": title,
                "due_date": today + datetime.timedelta(days=days),
                "assignee": worker,
                "team": team,
            },
        )
    lead_create(
        tenant=tenant,
        data={
            "first_name": "Ada",
            "last_name": "Byron",
            "email": "ada@example.com",
            "company": "Analytical Engines",
            "source": "referral",
            "estimated_value": Decimal("25000.00"),
            "team": teams[0],
        },
    )
    customer = customer_create(
        organization=tenant.organization, name="Acme", created_by=tenant.membership.user
    )
    deal_create(
        tenant=tenant,
        data={"title": "Acme yearly plan", "customer": customer, "value": Decimal("12000.00")},
    )
    sales = Category.objects.create(
        organization=tenant.organization, name="Sales", type="income", color="#2E7D32"
    )
    rent = Category.objects.create(
        organization=tenant.organization, name="Rent", type="expense", color="#C62828"
    )
    for kind, title, amount, category, team in (
        ("income", "Acme invoice", "4200.00", sales, teams[0]),
        ("income", "Consulting", "1350.50", sales, teams[1]),
        ("expense", "Office rent", "1800.00", rent, teams[1]),
    ):
        entry_create(
            tenant=tenant,
            kind=kind,
            data={
                "title": title,
                "amount": Decimal(amount),
                "date": today.replace(day=1),
                "category": category,
                "team": team,
            },
        )


def _effective(key: str, rows: dict[str, SystemSetting]) -> Any:
    """A key's effective value given the rows about to be saved."""
    row = rows.get(key)
    setting = sysconfig.SETTINGS[key]
    if row is not None and row.value is not None and setting.valid(row.value):
        return row.value
    return setting.default()


def _check_screening(rows: dict[str, SystemSetting]) -> None:
    """The cutoff may not exceed the match threshold (a rule across two keys)."""
    cutoff = Decimal(str(_effective("screening_cutoff", rows)))
    threshold = Decimal(str(_effective("screening_match_threshold", rows)))
    if cutoff > threshold:
        raise DomainError(
            "The screening cutoff must not be above the match threshold.",
            errors={
                "screening_cutoff": [f"Must not be above screening_match_threshold ({threshold})."]
            },
        )


@transaction.atomic
def config_update(*, actor: User, changes: dict[str, Any]) -> None:
    """Override runtime settings (type-checked by the caller's serializer); all or nothing.

    Each key whose value changes is saved with its author and time and audited as
    ``config.update`` (``{"value": {"old", "new"}}``, effective values); then every process's
    copy is invalidated (the version moves now and on commit), so each process's next request
    reads the new values. Unknown keys and a cutoff above the match threshold are refused.
    """
    unknown = sorted(set(changes) - set(sysconfig.SETTINGS))
    if unknown:
        raise DomainError(
            "Unknown settings.", errors={key: ["Unknown setting."] for key in unknown}
        )
    rows = {row.key: row for row in SystemSetting.objects.select_for_update()}
    now = timezone.now()
    changed: list[tuple[SystemSetting, Any]] = []
    for key, raw in changes.items():
        setting = sysconfig.SETTINGS[key]
        new = setting.clean(raw)
        row = rows.get(key)
        if row is not None and row.value == new:
            continue
        old = _effective(key, rows)
        if row is None:
            row = rows[key] = SystemSetting(key=key)
        row.value, row.updated_by, row.updated_at = new, actor, now
        changed.append((row, old))
    _check_screening(rows)
    for row, old in changed:
        row.save()
        audit_record(
            action="config.update",
            instance=row,
            actor=actor,
            changes={"value": {"old": old, "new": row.value}},
        )
    if changed:
        sysconfig.bump()


@transaction.atomic
def config_reset(*, actor: User, key: str) -> None:
    """Put a runtime setting back to its default (the environment's), audited as ``config.reset``.

    The row stays with an empty value, so who reset it and when remain known. Resetting a
    key that is not overridden changes nothing. The cutoff may not end above the threshold.
    """
    if key not in sysconfig.SETTINGS:
        raise DomainError("Unknown setting.", code="not_found", status_code=404)
    rows = {row.key: row for row in SystemSetting.objects.select_for_update()}
    row = rows.get(key)
    if row is None or row.value is None:
        return
    old = _effective(key, rows)
    row.value, row.updated_by, row.updated_at = None, actor, timezone.now()
    _check_screening(rows)
    row.save()
    audit_record(
        action="config.reset",
        instance=row,
        actor=actor,
        changes={"value": {"old": old, "new": sysconfig.SETTINGS[key].default()}},
    )
    sysconfig.bump()
