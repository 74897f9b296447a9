"""The tasks rows of ``make bench``: seed data, the peers, and the cases to time.

Rows: (a) the SQL floor, (a') the framework floor, (b) a naive DRF peer, (b2) the same peer
tuned with ``select_related``, (c) Valar's ``GET /api/v1/tasks/``. The peers and the framework
floor are benchmark-only views mounted by ``valar.ops.bench_urls``, never by the public API.
"""

import datetime
import json
import random

from django.db import connection, transaction
from django.test import Client
from django.urls import path
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.accounts.models import User
from valar.core import tenancy
from valar.core.policy import MODULES, Role
from valar.ops.bench import Case, drop_organizations
from valar.organizations.models import Membership, Organization, Team
from valar.tasks.models import Task

ORGANIZATIONS = ("bench-a", "bench-b")
MEMBERS = 40
TEAMS = 8
STATUS_WEIGHTS = {"todo": 35, "in_progress": 20, "blocked": 5, "done": 35, "cancelled": 5}
PAGE_QUERY = "status=todo&ordering=due_date&page_size=25"


def seed(rows: int, *, stdout) -> tuple[Organization, User]:
    """Create (once) two organizations with members, teams and ``rows`` tasks between them."""
    first = Organization.objects.filter(slug=ORGANIZATIONS[0]).first()
    if (
        first is not None
        and Task.objects.filter(organization__slug__in=ORGANIZATIONS).count() >= rows
    ):
        stdout.write(f"tasks: reusing {rows}+ seeded tasks\n")
        return first, User.objects.get(email="bench-admin@bench-a.test")
    stdout.write(f"tasks: seeding {rows} tasks...\n")
    drop_organizations(ORGANIZATIONS)
    User.objects.filter(email__endswith=".test", email__startswith="bench-").delete()
    randomizer = random.Random(42)
    today = datetime.date.today()
    statuses = randomizer.choices(
        list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=rows
    )
    admin = None
    for org_index, slug in enumerate(ORGANIZATIONS):
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"bench-{'admin' if i == 0 else f'm{i}'}@{slug}.test",
                        first_name=f"Member{i}",
                        last_name=slug,
                    )
                    for i in range(MEMBERS)
                ]
            )
            organization = Organization.objects.create(name=slug, slug=slug)
            Membership.objects.bulk_create(
                [
                    Membership(
                        organization=organization,
                        user=user,
                        role=Role.ADMIN if i == 0 else Role.WORKER,
                        modules=list(MODULES),
                        is_default=True,
                    )
                    for i, user in enumerate(users)
                ]
            )
            teams = Team.objects.bulk_create(
                [Team(organization=organization, name=f"Team {i}") for i in range(TEAMS)]
            )
            share = rows // len(ORGANIZATIONS)
            batch: list[Task] = []
            for i in range(share):
                status = statuses[org_index * share + i]
                due = today + datetime.timedelta(days=randomizer.randint(-120, 120))
                priority = randomizer.choice(list(Task.PRIORITY_RANK))
                batch.append(
                    Task(
                        organization=organization,
                        title=f"Task {i} of {slug}",
                        description="Follow up with the customer and report back.",
                        status=status,
                        priority=priority,
                        priority_rank=Task.PRIORITY_RANK[priority],
                        due_date=due if randomizer.random() < 0.9 else None,
                        assignee=users[randomizer.randrange(MEMBERS)],
                        team=teams[randomizer.randrange(TEAMS)],
                        created_by=users[0],
                    )
                )
                if len(batch) == 5000:
                    Task.objects.bulk_create(batch)
                    batch = []
            Task.objects.bulk_create(batch)
            if org_index == 0:
                admin = users[0]
                first = organization
    with connection.cursor() as cursor:
        # A settled table, as autovacuum leaves it: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return first, admin


class NaiveTaskSerializer(serializers.ModelSerializer):
    """The seeds' style: related names through ``source=``."""

    assignee_name = serializers.CharField(source="assignee.first_name", default=None)
    team_name = serializers.CharField(source="team.name", default=None)
    created_by_email = serializers.CharField(source="created_by.email", default=None)

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
            "created_by_email",
            "completed_at",
            "created_at",
            "updated_at",
        ]


class NaivePeerViewSet(viewsets.ReadOnlyModelViewSet):
    """(b) A plain ModelViewSet: no ``select_related``, so a query per related name."""

    serializer_class = NaiveTaskSerializer
    permission_classes = [IsAuthenticated]
    ordering_fields = ["due_date"]
    filterset_fields = ["status"]

    def get_queryset(self):
        """The organization's tasks, unjoined."""
        organization = tenancy.resolve(self.request).organization
        return Task.objects.filter(organization=organization)


class TunedPeerViewSet(NaivePeerViewSet):
    """(b2) The same peer with ``select_related``."""

    def get_queryset(self):
        """The organization's tasks joined to their related rows."""
        return super().get_queryset().select_related("assignee", "team", "created_by")


class FrameworkFloorView(APIView):
    """(a') Authenticate, resolve the organization, answer nothing else."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        """Resolve the tenant and return its id."""
        return Response({"organization": str(tenancy.resolve(request).organization.pk)})


bench_urlpatterns = [
    path("bench/tasks/floor/", FrameworkFloorView.as_view()),
    path("bench/tasks/naive/", NaivePeerViewSet.as_view({"get": "list"})),
    path("bench/tasks/tuned/", TunedPeerViewSet.as_view({"get": "list"})),
]


def floor_statements(organization: Organization) -> list[tuple[str, list]]:
    """The SQL the task list needs (page and count), compiled from Valar's own queryset."""
    page = (
        Task.objects.filter(organization=organization, status="todo")
        .select_related("assignee", "team")
        .order_by("due_date")[:25]
    )
    count = Task.objects.filter(organization=organization, status="todo").values("pk").order_by()
    page_sql, page_params = page.query.sql_with_params()
    count_sql, count_params = count.query.sql_with_params()
    return [
        (page_sql, list(page_params)),
        (f"SELECT COUNT(*) FROM ({count_sql}) counted", list(count_params)),
    ]


def cases(organization: Organization, admin: User) -> tuple[list[Case], tuple[str, list]]:
    """The rows to time, and the count statement whose plan the report shows."""
    statements = floor_statements(organization)

    def sql_floor():
        with connection.cursor() as cursor:
            cursor.execute(*statements[0])
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            cursor.execute(*statements[1])
            total = cursor.fetchone()[0]
        return json.dumps({"count": total, "results": rows}, default=str)

    client = Client()
    client.force_login(admin)

    def get(url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:200])
            return response

        return call

    return [
        Case("(a) SQL floor: page + count, JSON", sql_floor),
        Case("(a') framework floor: session+user+org", get("/bench/tasks/floor/")),
        Case("(b) naive DRF peer", get("/bench/tasks/naive/?status=todo&ordering=due_date")),
        Case(
            "(b2) tuned DRF peer (select_related)",
            get("/bench/tasks/tuned/?status=todo&ordering=due_date"),
        ),
        Case("(c) Valar GET /api/v1/tasks/", get(f"/api/v1/tasks/?{PAGE_QUERY}")),
    ], statements[1]
