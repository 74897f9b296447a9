"""The accomplishment selector checked against figures computed in Python from the same tasks."""

import datetime
from dataclasses import dataclass

from django.test import TestCase
from django.utils import timezone

from valar.accounts.models import User
from valar.organizations.models import Organization, Team
from valar.organizations.services import organization_create
from valar.tasks.models import Task
from valar.tasks.selectors import accomplishments

_SECOND = datetime.timedelta(seconds=1)


@dataclass
class Spec:
    """One task of the known set, as the test sees it (not as the database does)."""

    title: str
    organization: Organization
    assignee: User | None
    team: Team | None
    status: str
    due_date: datetime.date | None = None
    completed_at: datetime.datetime | None = None


def instant(day: datetime.date, hour: int = 12, minute: int = 0, second: int = 0):
    """An aware datetime on ``day`` in the server's time zone."""
    naive = datetime.datetime.combine(day, datetime.time(hour, minute, second))
    return timezone.make_aware(naive)


class AccomplishmentsTests(TestCase):
    """``accomplishments()`` per assignee and per team, on a set of tasks built to cover it."""

    def setUp(self) -> None:
        """Two organizations, two assignees and two teams with a spread of tasks."""
        self.ana = User.objects.create_user(email="ana@org.test", password="x-Long-pass-1")
        self.ben = User.objects.create_user(email="ben@org.test", password="x-Long-pass-2")
        self.cid = User.objects.create_user(email="cid@org.test", password="x-Long-pass-3")
        self.dee = User.objects.create_user(email="dee@org.test", password="x-Long-pass-4")
        self.org = organization_create(name="Org", actor=self.ana)
        self.other = organization_create(
            name="Other",
            actor=User.objects.create_user(email="x@other.test", password="x-Long-pass-5"),
        )
        self.build = Team.objects.create(organization=self.org, name="Build")
        self.sell = Team.objects.create(organization=self.org, name="Sell")
        self.quiet = Team.objects.create(organization=self.org, name="Quiet")
        self.foreign = Team.objects.create(organization=self.other, name="Foreign")

        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=40)
        self.end = self.today - datetime.timedelta(days=10)
        start, end, today = self.start, self.end, self.today

        def day(base, offset):
            return base + datetime.timedelta(days=offset)

        org, other, ana, ben = self.org, self.other, self.ana, self.ben
        build, sell = self.build, self.sell
        self.specs = [
            # Done in the range: on time, on the due day itself, late, without a due date.
            Spec("A early", org, ana, build, "done", day(start, 5), instant(day(start, 3))),
            Spec("A due day", org, ana, build, "done", day(start, 5), instant(day(start, 5), 23)),
            Spec("A late", org, ana, sell, "done", day(start, 5), instant(day(start, 6), 0, 30)),
            Spec("A no due", org, ana, None, "done", None, instant(day(start, 10))),
            Spec("B last second", org, ben, sell, "done", end, instant(end, 23, 59, 59)),
            Spec("B first second", org, ben, build, "done", start, instant(start, 0, 0, 0)),
            Spec("B late", org, ben, sell, "done", day(start, 1), instant(day(start, 2))),
            Spec("B on time", org, ben, build, "done", end, instant(day(start, 15))),
            Spec("Team only", org, None, build, "done", day(start, 9), instant(day(start, 8))),
            Spec("Nobody", org, None, None, "done", day(start, 9), instant(day(start, 8))),
            Spec("Quiet", org, None, self.quiet, "done", None, instant(day(start, 20))),
            # No longer done, with a completion time left by a bulk change: not a completion.
            Spec("A stale", org, ana, build, "in_progress", None, instant(day(start, 4))),
            # Done outside the range.
            Spec("A before", org, ana, build, "done", day(start, -1), instant(start, 0) - _SECOND),
            Spec("A after", org, ana, sell, "done", day(end, 1), instant(day(end, 1), 0, 0, 0)),
            Spec("Dee before", org, self.dee, sell, "done", None, instant(day(start, -30))),
            # Open: overdue, due today (not overdue), in the future, cancelled while late.
            Spec("A overdue", org, ana, build, "todo", day(today, -1)),
            Spec("A overdue too", org, ana, sell, "in_progress", day(today, -5)),
            Spec("B blocked overdue", org, ben, None, "blocked", day(today, -2)),
            Spec("B cancelled late", org, ben, build, "cancelled", day(today, -3)),
            Spec("B due today", org, ben, sell, "todo", today),
            Spec("B no due", org, ben, sell, "todo", None),
            Spec("Cid overdue", org, self.cid, None, "todo", day(start, 0)),
            Spec("Dee future", org, self.dee, build, "todo", day(today, 9)),
            # Another organization's tasks, even assigned to our people, never count.
            Spec("Foreign done", other, ana, self.foreign, "done", end, instant(day(start, 1))),
            Spec("Foreign overdue", other, ben, self.foreign, "todo", day(today, -7)),
            Spec("Foreign late", other, ana, self.foreign, "done", start, instant(day(end, -1))),
        ]
        for spec in self.specs:
            task = Task.objects.create(
                organization=spec.organization,
                title=spec.title,
                assignee=spec.assignee,
                team=spec.team,
                status=spec.status,
                due_date=spec.due_date,
            )
            Task.objects.filter(pk=task.pk).update(completed_at=spec.completed_at)

    def expected(self, group_by: str, start=None, end=None) -> list[dict]:
        """The figures computed in Python from the specs, in the selector's order."""
        start, end = start or self.start, end or self.end
        groups: dict = {}
        for spec in self.specs:
            key = getattr(spec, group_by)
            if spec.organization != self.org or key is None:
                continue
            figures = groups.setdefault(
                key.pk, {"completed": 0, "on_time": 0, "with_due": 0, "overdue": 0}
            )
            if spec.status == "done":
                completed_day = timezone.localtime(spec.completed_at).date()
                if start <= completed_day <= end:
                    figures["completed"] += 1
                    if spec.due_date is not None:
                        figures["with_due"] += 1
                        figures["on_time"] += completed_day <= spec.due_date
            elif spec.status != "cancelled" and spec.due_date and spec.due_date < self.today:
                figures["overdue"] += 1
        rows = [
            {
                group_by: key,
                "completed": figures["completed"],
                "on_time": figures["on_time"],
                "on_time_rate": (
                    figures["on_time"] / figures["with_due"] if figures["with_due"] else None
                ),
                "overdue": figures["overdue"],
            }
            for key, figures in groups.items()
            if figures["completed"] or figures["overdue"]
        ]
        return sorted(rows, key=lambda row: (-row["completed"], str(row[group_by])))

    def actual(self, group_by: str, start=None, end=None) -> list[dict]:
        """What the selector answers for our organization."""
        return accomplishments(
            organization=self.org,
            start_date=start or self.start,
            end_date=end or self.end,
            group_by=group_by,
        )

    def test_per_assignee_figures_match_the_independent_computation(self):
        self.assertEqual(self.actual("assignee"), self.expected("assignee"))

    def test_per_team_figures_match_the_independent_computation(self):
        self.assertEqual(self.actual("team"), self.expected("team"))

    def test_per_assignee_figures_are_the_ones_worked_out_by_hand(self):
        rows = {row["assignee"]: row for row in self.actual("assignee")}
        self.assertEqual(set(rows), {self.ana.pk, self.ben.pk, self.cid.pk})
        self.assertEqual(
            rows[self.ana.pk],
            {
                "assignee": self.ana.pk,
                "completed": 4,
                "on_time": 2,
                "on_time_rate": 2 / 3,
                "overdue": 2,
            },
        )
        self.assertEqual(
            rows[self.ben.pk],
            {
                "assignee": self.ben.pk,
                "completed": 4,
                "on_time": 3,
                "on_time_rate": 3 / 4,
                "overdue": 1,
            },
        )
        self.assertEqual(
            rows[self.cid.pk],
            {
                "assignee": self.cid.pk,
                "completed": 0,
                "on_time": 0,
                "on_time_rate": None,
                "overdue": 1,
            },
        )

    def test_per_team_figures_are_the_ones_worked_out_by_hand(self):
        rows = self.actual("team")
        self.assertEqual(
            [row["team"] for row in rows], [self.build.pk, self.sell.pk, self.quiet.pk]
        )
        build, sell, quiet = rows
        self.assertEqual((build["completed"], build["on_time"], build["overdue"]), (5, 5, 1))
        self.assertEqual(build["on_time_rate"], 1.0)
        self.assertEqual((sell["completed"], sell["on_time"], sell["overdue"]), (3, 1, 1))
        self.assertAlmostEqual(sell["on_time_rate"], 1 / 3)
        self.assertEqual((quiet["completed"], quiet["on_time"], quiet["overdue"]), (1, 0, 0))
        self.assertIsNone(quiet["on_time_rate"])

    def test_groups_are_ordered_by_completions_most_first(self):
        for group_by in ("assignee", "team"):
            with self.subTest(group_by=group_by):
                completed = [row["completed"] for row in self.actual(group_by)]
                self.assertEqual(completed, sorted(completed, reverse=True))

    def test_a_narrower_range_counts_fewer_completions_but_the_same_overdue_tasks(self):
        start = self.start + datetime.timedelta(days=4)
        end = self.start + datetime.timedelta(days=6)
        for group_by in ("assignee", "team"):
            with self.subTest(group_by=group_by):
                self.assertEqual(
                    self.actual(group_by, start, end), self.expected(group_by, start, end)
                )
        rows = {row["assignee"]: row for row in self.actual("assignee", start, end)}
        self.assertEqual(rows[self.ana.pk]["completed"], 2)
        self.assertEqual(rows[self.ana.pk]["overdue"], 2)
        self.assertEqual(rows[self.ben.pk]["completed"], 0)
        self.assertEqual(rows[self.ben.pk]["overdue"], 1)

    def test_a_one_day_range_holds_the_whole_day_and_nothing_of_the_next(self):
        day = self.start + datetime.timedelta(days=5)
        rows = {row["assignee"]: row for row in self.actual("assignee", day, day)}
        self.assertEqual(rows[self.ana.pk]["completed"], 1)  # "A due day", at 23:00
        self.assertEqual(self.actual("assignee", day, day), self.expected("assignee", day, day))

    def test_members_with_neither_completions_nor_overdue_tasks_are_left_out(self):
        assignees = {row["assignee"] for row in self.actual("assignee")}
        self.assertNotIn(self.dee.pk, assignees)

    def test_another_organizations_tasks_never_count(self):
        Task.objects.filter(organization=self.other).update(assignee=self.cid)
        cid = next(row for row in self.actual("assignee") if row["assignee"] == self.cid.pk)
        self.assertEqual((cid["completed"], cid["overdue"]), (0, 1))
        teams = {row["team"] for row in self.actual("team")}
        self.assertNotIn(self.foreign.pk, teams)
        foreign = accomplishments(
            organization=self.other, start_date=self.start, end_date=self.end, group_by="team"
        )
        self.assertEqual(
            foreign,
            [
                {
                    "team": self.foreign.pk,
                    "completed": 2,
                    "on_time": 1,
                    "on_time_rate": 0.5,
                    "overdue": 1,
                }
            ],
        )

    def test_an_organization_without_tasks_has_no_rows(self):
        empty = organization_create(name="Empty", actor=self.dee)
        for group_by in ("assignee", "team"):
            with self.subTest(group_by=group_by):
                self.assertEqual(
                    accomplishments(
                        organization=empty,
                        start_date=self.start,
                        end_date=self.end,
                        group_by=group_by,
                    ),
                    [],
                )

    def test_an_invalid_group_by_raises_value_error(self):
        for group_by in ("status", "created_by", "organization", "", "Assignee"):
            with self.subTest(group_by=group_by), self.assertRaises(ValueError):
                self.actual(group_by)
