"""``screening/summary/``, ``screening/export/``, ``screening/report/`` and
``insights/screening/``: exact figures on known data, the role matrix, isolation.

The data is written through the services with parsed entries (no ETL file): two lists of the
organization (``DTTOT``: two persons and an organisation of Indonesia; ``UN``: a person of
Jordan) and five ad hoc screenings, four of which match once each:

============================ =================== ======= ====== ==========================
subject                      entry               score   past   review (seconds after)
============================ =================== ======= ====== ==========================
Aman Abdurrahman             Aman Abdurrahman    1.0000  yes    confirmed (60)
Bahrun Nain                  Bahrun Naim         0.9091  yes    dismissed (300)
Abu Zarqawi                  Abu Musab Zarqawi   0.7222  no     dismissed (120)
Aman Rahman                  Aman Abdurrahman    0.6061  no     pending
Budi Santoso                 (none)
============================ =================== ======= ====== ==========================

So: 5 runs (all succeeded), 4 matches (1 pending, 1 confirmed, 2 dismissed), 2 past the
threshold, a confirmed rate of 1/3 = 0.3333 and a median review time of 120 seconds. The
other organization holds a list, an entry and a confirmed match of its own, which no figure
of the first counts.
"""

import csv
import datetime
import io
from types import SimpleNamespace

from django.db.models import F
from django.utils import timezone
from pypdf import PdfReader

from valar.core import versions
from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin
from valar.jobs.models import Job
from valar.organizations.models import Membership
from valar.screening import services
from valar.screening.models import ListDocument, Match, Run
from valar.screening.tests.support import API

#: The subjects screened, and how each match found is reviewed (status, seconds after).
SCREENINGS = {
    "Aman Abdurrahman": ("confirmed", 60),
    "Bahrun Nain": ("dismissed", 300),
    "Abu Zarqawi": ("dismissed", 120),
    "Aman Rahman": None,
    "Budi Santoso": None,
}


def _parsed(name: str, *, kind: str = "person", nationality: str = "Indonesia"):
    """An entry as the ETL hands it to ``services.entries_write``."""
    return SimpleNamespace(
        kind=kind,
        name=name,
        names=[name],
        birth_dates=[],
        birth_place="",
        nationality=nationality,
        identifiers=[{"kind": "nik", "value": "3320011708380001"}] if kind == "person" else [],
        address="",
        description="",
        reference="",
        rows=[],
    )


def _tenant(organization) -> Tenant:
    """The organization as its admin acts in it."""
    membership = Membership.objects.select_related("organization", "user").get(
        organization=organization, role=Role.ADMIN
    )
    return Tenant(organization=membership.organization, membership=membership)


def _document(organization, name: str, entries: list) -> ListDocument:
    """A processed list of ``organization`` holding ``entries``."""
    document = ListDocument.objects.create(
        organization=organization, name=name, file_type="csv", status="processed"
    )
    services.entries_write(document=document, parsed=entries)
    return document


class ScreeningReportTestCase(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """The organization's lists, runs and reviewed matches (see the module), and the other
    organization's own."""

    module = "screening"

    def setUp(self) -> None:
        """Write the data of the module's table; grant every member insights too."""
        super().setUp()
        Membership.objects.filter(organization=self.org).update(modules=["screening", "insights"])
        self.tenant = _tenant(self.org)
        self.dttot = _document(
            self.org,
            "DTTOT",
            [
                _parsed("Aman Abdurrahman"),
                _parsed("Bahrun Naim"),
                _parsed("Jamaah Ansharut Daulah", kind="organization"),
            ],
        )
        self.un = _document(self.org, "UN", [_parsed("Abu Musab Zarqawi", nationality="Jordan")])
        self.runs = {}
        for name, review in SCREENINGS.items():
            run = services.run_subject(tenant=self.tenant, data={"name": name})
            self.runs[name] = run
            if review is None:
                continue
            status_value, seconds = review
            match = Match.objects.get(run=run)
            services.match_review(
                tenant=self.tenant, match=match, status_value=status_value, reason="Checked."
            )
            Match.objects.filter(pk=match.pk).update(
                reviewed_at=F("created_at") + datetime.timedelta(seconds=seconds)
            )
        versions.bump(self.org.pk, "screening")
        other = _tenant(self.other)
        _document(self.other, "Other list", [_parsed("Aman Abdurrahman")])
        self.other_run = services.run_subject(tenant=other, data={"name": "Aman Abdurrahman"})
        services.match_review(
            tenant=other,
            match=Match.objects.get(run=self.other_run),
            status_value="confirmed",
            reason="Theirs.",
        )
        today = timezone.localdate()
        self.period = {
            "start_date": (today - datetime.timedelta(days=2)).isoformat(),
            "end_date": (today + datetime.timedelta(days=2)).isoformat(),
        }


class SummaryTests(ScreeningReportTestCase):
    """``screening/summary/``."""

    def test_figures_of_the_period(self):
        """Every figure of the module's table, exactly."""
        response = self.clients[Role.WORKER].get(f"{API}summary/", self.period)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["start_date"], self.period["start_date"])
        self.assertEqual(body["end_date"], self.period["end_date"])
        self.assertEqual(
            body["entries"],
            {
                "total": 4,
                "by_document": [
                    {"document": str(self.dttot.pk), "name": "DTTOT", "entries": 3},
                    {"document": str(self.un.pk), "name": "UN", "entries": 1},
                ],
                "by_kind": {"person": 3, "organization": 1},
            },
        )
        self.assertEqual(
            body["runs"],
            {
                "total": 5,
                "by_status": {"queued": 0, "running": 0, "succeeded": 5, "failed": 0},
            },
        )
        self.assertEqual(
            body["matches"],
            {
                "total": 4,
                "by_status": {"pending": 1, "confirmed": 1, "dismissed": 2},
                "past_threshold": 2,
            },
        )
        self.assertEqual(body["confirmed_rate"], "0.3333")
        self.assertEqual(body["median_review_seconds"], 120)
        self.assertTrue(body["generated_at"].endswith("Z"))

    def test_a_period_without_activity(self):
        """A past period: no run, no match, no rate, no median; the entries held now."""
        response = self.clients[Role.MANAGER].get(
            f"{API}summary/", {"start_date": "2020-01-01", "end_date": "2020-12-31"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["runs"]["total"], 0)
        self.assertEqual(body["matches"]["total"], 0)
        self.assertIsNone(body["confirmed_rate"])
        self.assertIsNone(body["median_review_seconds"])
        self.assertEqual(body["entries"]["total"], 4)

    def test_a_write_shows_at_once(self):
        """The cached figures move with the screening version: a new review is counted."""
        client = self.clients[Role.ADMIN]
        self.assertEqual(
            client.get(f"{API}summary/", self.period).json()["confirmed_rate"], "0.3333"
        )
        pending = Match.objects.get(organization=self.org, status="pending")
        services.match_review(
            tenant=self.tenant, match=pending, status_value="confirmed", reason="Also a hit."
        )
        body = client.get(f"{API}summary/", self.period).json()
        self.assertEqual(
            body["matches"]["by_status"], {"pending": 0, "confirmed": 2, "dismissed": 2}
        )
        self.assertEqual(body["confirmed_rate"], "0.5000")
        services.document_delete(document=self.un)
        body = client.get(f"{API}summary/", self.period).json()
        self.assertEqual(body["entries"]["total"], 3)
        # Matches and their reviews outlive the list's entries.
        self.assertEqual(body["matches"]["total"], 4)

    def test_roles(self):
        """Workers, managers and admins read it; basic members and clients are refused."""
        for role, expected in (
            (Role.ADMIN, 200),
            (Role.MANAGER, 200),
            (Role.WORKER, 200),
            (Role.BASIC, 403),
            (Role.CLIENT, 403),
        ):
            with self.subTest(role=role):
                response = self.clients[role].get(f"{API}summary/", self.period)
                self.assertEqual(response.status_code, expected, response.content)

    def test_bad_period(self):
        """An end before the start is a 400."""
        response = self.clients[Role.WORKER].get(
            f"{API}summary/", {"start_date": "2026-02-01", "end_date": "2026-01-01"}
        )
        self.assertEqual(response.status_code, 400)


def _csv(response) -> list[list[str]]:
    """The rows of a streamed CSV download."""
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


class ExportTests(ScreeningReportTestCase):
    """``screening/export/``."""

    def test_entries_of_one_list(self):
        """The list's entries by normalised name, its columns, identifiers as ``kind:value``."""
        response = self.clients[Role.WORKER].get(
            f"{API}export/", {"what": "entries", "document": str(self.dttot.pk)}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        self.assertIn(f"screening-entries-{self.dttot.pk}.csv", response["Content-Disposition"])
        rows = _csv(response)
        self.assertEqual(
            rows[0],
            [
                "id",
                "document",
                "document_name",
                "kind",
                "name",
                "names",
                "birth_dates",
                "birth_place",
                "nationality",
                "identifiers",
                "address",
                "reference",
                "created_at",
            ],
        )
        self.assertEqual(
            [row[4] for row in rows[1:]],
            # By normalised name, as entries/ orders them (words sorted: "ansharut daulah...").
            ["Aman Abdurrahman", "Jamaah Ansharut Daulah", "Bahrun Naim"],
        )
        first = rows[1]
        self.assertEqual(first[1:5], [str(self.dttot.pk), "DTTOT", "person", "Aman Abdurrahman"])
        self.assertEqual(first[8:10], ["Indonesia", "nik:3320011708380001"])
        self.assertTrue(first[12].endswith("Z"))

    def test_every_entry(self):
        """Without a list: the organization's four entries (not the other's)."""
        rows = _csv(self.clients[Role.WORKER].get(f"{API}export/"))
        self.assertEqual(len(rows), 5)

    def test_matches_of_one_run(self):
        """One run's match, with the subject, the entry, the score and the review."""
        run = self.runs["Aman Abdurrahman"]
        response = self.clients[Role.WORKER].get(
            f"{API}export/", {"what": "matches", "run": str(run.pk)}
        )
        self.assertEqual(response.status_code, 200)
        rows = _csv(response)
        self.assertEqual(
            rows[0],
            [
                "id",
                "run",
                "subject_kind",
                "subject_id",
                "subject_name",
                "entry",
                "entry_name",
                "document_name",
                "score",
                "threshold",
                "is_match",
                "status",
                "reason",
                "reviewed_at",
                "created_at",
            ],
        )
        self.assertEqual(len(rows), 2)
        row = rows[1]
        self.assertEqual(row[1:3], [str(run.pk), "adhoc"])
        self.assertEqual(row[4], "Aman Abdurrahman")
        self.assertEqual(
            row[6:12], ["Aman Abdurrahman", "DTTOT", "1.0000", "0.8000", "True", "confirmed"]
        )
        self.assertEqual(row[12], "Checked.")

    def test_every_match_best_first(self):
        """All four matches, best score first."""
        rows = _csv(self.clients[Role.WORKER].get(f"{API}export/", {"what": "matches"}))
        self.assertEqual([row[8] for row in rows[1:]], ["1.0000", "0.9091", "0.7222", "0.6061"])

    def test_xlsx(self):
        """The same rows as a workbook."""
        from openpyxl import load_workbook

        response = self.clients[Role.WORKER].get(
            f"{API}export/", {"what": "matches", "format": "xlsx"}
        )
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.values)
        self.assertEqual(values[0][0], "id")
        self.assertEqual(len(values), 5)

    def test_another_organizations_run_or_list_is_404(self):
        """A run or list of the other organization is not found."""
        other_document = ListDocument.objects.get(organization=self.other)
        for params in (
            {"what": "matches", "run": str(self.other_run.pk)},
            {"what": "entries", "document": str(other_document.pk)},
            {"what": "matches", "document": str(other_document.pk)},
        ):
            with self.subTest(params=params):
                response = self.clients[Role.ADMIN].get(f"{API}export/", params)
                self.assertEqual(response.status_code, 404)

    def test_bad_queries(self):
        """An unknown format or kind, or a run with entries, is a 400."""
        for params in (
            {"format": "pdf"},
            {"what": "runs"},
            {"what": "entries", "run": str(self.runs["Bahrun Nain"].pk)},
        ):
            with self.subTest(params=params):
                response = self.clients[Role.WORKER].get(f"{API}export/", params)
                self.assertEqual(response.status_code, 400)

    def test_roles(self):
        """Workers read; basic members and clients are refused."""
        for role, expected in ((Role.WORKER, 200), (Role.BASIC, 403), (Role.CLIENT, 403)):
            with self.subTest(role=role):
                response = self.clients[role].get(f"{API}export/")
                self.assertEqual(response.status_code, expected)


class ReportTests(ScreeningReportTestCase):
    """``screening/report/`` and ``screening/report/{job_id}/``."""

    def _start(self, client, run):
        """Ask for the run's report; the jobs run once the request commits."""
        with self.captureOnCommitCallbacks(execute=True):
            return client.post(f"{API}report/", {"run": str(run.pk)}, format="json")

    def test_report_job_and_its_pdf(self):
        """202 with a job; it succeeds with the run, the file and the count; the PDF reads."""
        run = self.runs["Aman Abdurrahman"]
        client = self.clients[Role.WORKER]
        response = self._start(client, run)
        self.assertEqual(response.status_code, 202, response.content)
        job_id = response.json()["id"]
        job = Job.objects.get(pk=job_id)
        self.assertEqual(job.state, "succeeded", job.error)
        self.assertEqual(job.result["run"], str(run.pk))
        self.assertEqual(job.result["matches"], 1)
        self.assertTrue(job.result["file"].startswith(f"screening-reports/{self.org.pk}/"))
        download = client.get(f"{API}report/{job_id}/")
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download["Content-Type"], "application/pdf")
        content = b"".join(download.streaming_content)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        self.assertIn("Aman Abdurrahman", text)
        self.assertIn(str(run.pk), text)
        self.assertIn("confirmed", text)
        self.assertIn("0.8000", text)

    def test_a_run_without_matches(self):
        """A run that found nothing still has its report."""
        response = self._start(self.clients[Role.MANAGER], self.runs["Budi Santoso"])
        job = Job.objects.get(pk=response.json()["id"])
        self.assertEqual(job.state, "succeeded", job.error)
        self.assertEqual(job.result["matches"], 0)

    def test_run_deleted_meanwhile_fails_the_job(self):
        """A run gone before the job runs: the job fails saying so; nothing to download."""
        run = self.runs["Bahrun Nain"]
        client = self.clients[Role.ADMIN]
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            response = client.post(f"{API}report/", {"run": str(run.pk)}, format="json")
        self.assertEqual(response.status_code, 202)
        Run.objects.filter(pk=run.pk).delete()
        for callback in callbacks:
            callback()
        job = Job.objects.get(pk=response.json()["id"])
        self.assertEqual(job.state, "failed")
        self.assertIn("no longer exists", job.error)
        self.assertEqual(client.get(f"{API}report/{job.pk}/").status_code, 404)

    def test_another_organizations_run_or_job_is_404(self):
        """Another organization's run cannot be reported on, nor its report downloaded."""
        response = self._start(self.clients[Role.ADMIN], self.other_run)
        self.assertEqual(response.status_code, 404)
        with self.captureOnCommitCallbacks(execute=True):
            theirs = self.other_client.post(
                f"{API}report/", {"run": str(self.other_run.pk)}, format="json"
            )
        self.assertEqual(theirs.status_code, 202)
        self.assertEqual(Job.objects.get(pk=theirs.json()["id"]).state, "succeeded")
        self.assertEqual(
            self.other_client.get(f"{API}report/{theirs.json()['id']}/").status_code, 200
        )
        self.assertEqual(
            self.clients[Role.ADMIN].get(f"{API}report/{theirs.json()['id']}/").status_code, 404
        )

    def test_other_jobs_are_not_reports(self):
        """A job id that is not a report job's is a 404; so is an unknown one."""
        job = Job.objects.create(
            organization=self.org, kind="screening.run", state="succeeded", result={"file": "x"}
        )
        self.assertEqual(self.clients[Role.ADMIN].get(f"{API}report/{job.pk}/").status_code, 404)
        self.assertEqual(
            self.clients[Role.ADMIN]
            .get(f"{API}report/00000000-0000-0000-0000-000000000000/")
            .status_code,
            404,
        )

    def test_roles(self):
        """Workers ask for reports; basic members and clients are refused."""
        run = self.runs["Aman Abdurrahman"]
        for role, expected in ((Role.WORKER, 202), (Role.BASIC, 403), (Role.CLIENT, 403)):
            with self.subTest(role=role):
                self.assertEqual(self._start(self.clients[role], run).status_code, expected)

    def test_bad_body(self):
        """No run, or not an id: 400."""
        for body in ({}, {"run": "nope"}):
            with self.subTest(body=body):
                response = self.clients[Role.WORKER].post(f"{API}report/", body, format="json")
                self.assertEqual(response.status_code, 400)


class InsightsTests(ScreeningReportTestCase):
    """``insights/screening/``."""

    url = "/api/v1/insights/screening/"

    def test_figures(self):
        """Entries, lists, matches by status and month, nationalities, confirmed hits."""
        response = self.clients[Role.WORKER].get(self.url)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["entries"], 4)
        self.assertEqual(body["documents"], 2)
        self.assertEqual(body["matches_by_status"], {"pending": 1, "confirmed": 1, "dismissed": 2})
        self.assertEqual(
            body["top_nationalities"],
            [{"nationality": "Indonesia", "entries": 3}, {"nationality": "Jordan", "entries": 1}],
        )
        self.assertEqual(body["confirmed_hits"], 1)
        months = body["matches_by_month"]
        self.assertEqual(len(months), 12)
        today = timezone.localdate()
        self.assertEqual(months[-1], {"month": f"{today.year}-{today.month:02d}", "count": 4})
        self.assertEqual(sum(month["count"] for month in months), 4)

    def test_modules_and_roles(self):
        """Both modules are needed; basic members and clients never see screening."""
        worker = Membership.objects.get(organization=self.org, user=self.users[Role.WORKER])
        for modules, expected in (
            (["insights"], 403),
            (["screening"], 403),
            (["insights", "screening"], 200),
        ):
            with self.subTest(modules=modules):
                worker.modules = modules
                worker.save()
                self.assertEqual(self.clients[Role.WORKER].get(self.url).status_code, expected)
        for role in (Role.BASIC, Role.CLIENT):
            with self.subTest(role=role):
                self.assertEqual(self.clients[role].get(self.url).status_code, 403)


class EngineSourceTests(ScreeningReportTestCase):
    """The sources answer ``insights/query/`` like any other."""

    def test_matches_by_subject_kind(self):
        """Matches of the period grouped by subject kind."""
        response = self.clients[Role.MANAGER].post(
            "/api/v1/insights/query/",
            {
                "source": "screening_matches",
                "measure": "count",
                "group_by": "subject_kind",
                **self.period,
            },
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["totals"], {"adhoc": 4})

    def test_entries_by_document(self):
        """Entries grouped by list, named by the list."""
        response = self.clients[Role.MANAGER].post(
            "/api/v1/insights/query/",
            {
                "source": "screening_entries",
                "measure": "count",
                "group_by": "document",
                **self.period,
            },
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["totals"], {"DTTOT": 3, "UN": 1})


class ShapeTests(ScreeningReportTestCase):
    """What summary/ and insights/screening/ answer is exactly what the schema declares."""

    def test_bodies_match_the_schema(self):
        """Every key declared, none more, each of its declared type."""
        import jsonschema

        from valar.insights.tests.test_schema_shapes import response_schema

        for path, params in (
            ("/api/v1/screening/summary/", self.period),
            ("/api/v1/insights/screening/", {}),
        ):
            with self.subTest(path=path):
                response = self.clients[Role.WORKER].get(path, params)
                self.assertEqual(response.status_code, 200, response.content)
                jsonschema.validate(response.json(), response_schema(path))
