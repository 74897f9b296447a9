"""The tasks rows of ``make bench``: seed data, the peers, and the cases to time.

Rows: (a) the SQL floor, (a') the framework floor, (b) a naive DRF peer, (b2) the same peer
tuned with ``select_related``, (c) Valar's ``GET /api/v1/tasks/``. The peers and the framework
floor are benchmark-only views mounted by ``valar.ops.bench_urls``, never by the public API.
"""

import datetime
import random

from django.db import transaction
from django.test import Client
from django.urls import path
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from valar.accounts.models import User
from valar.core import tenancy
from valar.core.policy import MODULES, Role
from valar.ops.bench import Case, count_cache_case, drop_organizations, floor_case, get_case, settle
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
    settle()
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


def _task_row(row: tuple) -> dict:
    """One task as the list shows it, from a floor row, written by hand."""
    (pk, title, description, status, priority, due_date, assignee, first, last, email, team,
     team_name, completed_at, created_by, created_at, updated_at) = row  # fmt: skip
    name = f"{first or ''} {last or ''}".strip() or email
    return {
        "id": pk,
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "due_date": due_date,
        "assignee": assignee,
        "assignee_name": name,
        "team": team,
        "team_name": team_name,
        "completed_at": completed_at,
        "created_by": created_by,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def floor(organization: Organization) -> Case:
    """(a) The SQL the task list needs (a page of 25 and a count), run raw, JSON by hand."""
    filtered = Task.objects.filter(organization=organization, status="todo")
    page = filtered.order_by("due_date").values_list(
        "id", "title", "description", "status", "priority", "due_date", "assignee_id",
        "assignee__first_name", "assignee__last_name", "assignee__email", "team_id",
        "team__name", "completed_at", "created_by_id", "created_at", "updated_at",
    )[:25]  # fmt: skip
    return floor_case(
        "(a) SQL floor: page + count, JSON by hand",
        page=page,
        count=filtered,
        render=_task_row,
        next_url=f"http://testserver/api/v1/tasks/?page=2&{PAGE_QUERY}",
    )


def cases(organization: Organization, admin: User) -> list[Case]:
    """The rows to time: floors, peers, Valar, and Valar with the count cache when built."""
    client = Client()
    client.force_login(admin)
    valar_url = f"/api/v1/tasks/?{PAGE_QUERY}"
    rows = [
        floor(organization),
        get_case("(a') framework floor: session+user+org", client, "/bench/tasks/floor/"),
        get_case("(b) naive DRF peer", client, "/bench/tasks/naive/?status=todo&ordering=due_date"),
        get_case(
            "(b2) tuned DRF peer (select_related)",
            client,
            "/bench/tasks/tuned/?status=todo&ordering=due_date",
        ),
        get_case("(c) Valar GET /api/v1/tasks/", client, valar_url),
    ]
    cached = count_cache_case("(c+) Valar, count cache on", client, valar_url)
    if cached is not None:
        rows.append(cached)
    return rows


#: Slug prefix of the small organizations the scale row adds (and removes after it).
SCALE_PREFIX = "bench-scale-"
SCALE_TASKS = 5


def grow_organizations(total: int, *, stdout) -> int:
    """Add small organizations (a member, ``SCALE_TASKS`` tasks each) until there are ``total``.

    They are created cheaply with ``bulk_create`` (no signals); returns the organizations now
    in the database.
    """
    existing = Organization.objects.count()
    missing = total - existing
    if missing <= 0:
        return existing
    stdout.write(f"scale: adding {missing} organizations...\n")
    start = Organization.objects.filter(slug__startswith=SCALE_PREFIX).count()
    step = 2000
    for offset in range(0, missing, step):
        numbers = range(start + offset, start + min(offset + step, missing))
        with transaction.atomic():
            organizations = Organization.objects.bulk_create(
                [Organization(name=f"Scale {n}", slug=f"{SCALE_PREFIX}{n}") for n in numbers]
            )
            users = User.objects.bulk_create(
                [User(email=f"{SCALE_PREFIX}{n}@bench.test", first_name="Scale") for n in numbers]
            )
            Membership.objects.bulk_create(
                [
                    Membership(
                        organization=organization,
                        user=user,
                        role=Role.ADMIN,
                        modules=list(MODULES),
                        is_default=True,
                    )
                    for organization, user in zip(organizations, users, strict=True)
                ]
            )
            Task.objects.bulk_create(
                [
                    Task(
                        organization=organization,
                        title=f"Scale task {i}",
                        status="todo",
                        priority="medium",
                        priority_rank=Task.PRIORITY_RANK["medium"],
                        assignee=user,
                        created_by=user,
                    )
                    for organization, user in zip(organizations, users, strict=True)
                    for i in range(SCALE_TASKS)
                ]
            )
    settle()
    return Organization.objects.count()


def drop_scale_organizations() -> None:
    """Remove the organizations :func:`grow_organizations` added, with their rows."""
    scale = Organization.objects.filter(slug__startswith=SCALE_PREFIX)
    Task.objects.filter(organization__in=scale)._raw_delete(Task.objects.db)
    Membership.objects.filter(organization__in=scale)._raw_delete(Membership.objects.db)
    drop_organizations(list(scale.values_list("slug", flat=True)))
    User.objects.filter(email__startswith=SCALE_PREFIX, email__endswith="@bench.test").delete()


def scale_cases(organization: Organization, admin: User) -> list[Case]:
    """The task list, its floor, and the list after a change in another organization."""
    client = Client()
    client.force_login(admin)
    url = f"/api/v1/tasks/?{PAGE_QUERY}"
    other = Organization.objects.exclude(pk=organization.pk).filter(slug__in=ORGANIZATIONS).get()
    renames = iter(range(10**9))

    def change_elsewhere():
        other.name = f"{ORGANIZATIONS[1]} {next(renames) % 2}"
        other.save(update_fields=["name"])

    return [
        floor(organization),
        get_case("(c) Valar GET /api/v1/tasks/", client, url),
        get_case(
            "(c') the same after a change in another organization",
            client,
            url,
            before=change_elsewhere,
        ),
    ]
