"""``/api/v1/screening/``: lists, ETL jobs, entries, runs, matches, review, settings.

The generic resource tests (isolation, role matrix, pagination, pinned list queries) for each
resource, then the flows a compliance team goes through, each driven over the API.
"""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from valar.core.policy import Role
from valar.core.tenancy import Tenant
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import MediaRootMixin
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.crm.models import Customer
from valar.jobs.models import Job
from valar.notifications.models import Notification
from valar.organizations.models import Membership
from valar.screening import services
from valar.screening.models import Entry, ListDocument, Match, Run
from valar.screening.tests.support import API, dttot_upload, processed_list


def _tenant(organization) -> Tenant:
    """The organization as its first admin acts in it."""
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization=organization, role=Role.ADMIN)
        .first()
    )
    return Tenant(organization=membership.organization, membership=membership)


def _document(organization, index: int = 0) -> ListDocument:
    """A list of ``organization`` (uploaded, not processed)."""
    return services.document_upload(
        tenant=_tenant(organization), upload=dttot_upload(), data={"name": f"List {index}"}
    )


class DocumentResourceTests(MediaRootMixin, TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/screening/documents/`` (uploads are tested in :class:`ListFlowTests`)."""

    module = "screening"
    url = f"{API}documents/"
    verbs = ("list", "retrieve", "update", "delete")
    update_data = {"name": "Renamed"}
    list_queries = 3

    def make_object(self, organization, index=0):
        return _document(organization, index)


class EntryResourceTests(MediaRootMixin, TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/screening/entries/``: admins write them, workers and managers read."""

    module = "screening"
    url = f"{API}entries/"
    update_data = {"names": ["Changed Name", "Alias Name"]}
    list_queries = 3

    def make_object(self, organization, index=0):
        document = ListDocument.objects.filter(organization=organization).first() or _document(
            organization
        )
        return services.entry_create(
            tenant=_tenant(organization),
            document=document,
            data={"names": [f"Listed Person {index}"], "birth_dates": ["1970"]},
        )

    def create_data(self, index):
        document = ListDocument.objects.filter(organization=self.org).first() or _document(self.org)
        return {"document": str(document.pk), "names": [f"New Person {index}", "Alias"]}


class RunResourceTests(MediaRootMixin, TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/screening/runs/``: a subject screened at once (create), and reads."""

    module = "screening"
    url = f"{API}runs/"
    verbs = ("list", "retrieve", "create")
    list_queries = 3

    def make_object(self, organization, index=0):
        return services.run_subject(tenant=_tenant(organization), data={"name": f"Someone {index}"})

    def create_data(self, index):
        return {"subject": {"name": f"Someone Else {index}"}}


class MatchResourceTests(MediaRootMixin, TenantResourceTestsMixin, ApiTestCase):
    """``/api/v1/screening/matches/``: read by workers, managers and admins."""

    module = "screening"
    url = f"{API}matches/"
    verbs = ("list", "retrieve")
    list_queries = 3

    def make_object(self, organization, index=0):
        if not Entry.objects.filter(organization=organization).exists():
            processed_list(_tenant(organization))
        run = services.run_subject(tenant=_tenant(organization), data={"name": "Abu Bakar Baasyir"})
        return Match.objects.filter(run=run).first()


class ScreeningTestCase(MediaRootMixin, TenantFixtureMixin, ApiTestCase):
    """Two organizations with members of every role, ``org`` holding the DTTOT-shaped list."""

    module = "screening"

    def setUp(self) -> None:
        """Load the list in ``org``."""
        super().setUp()
        self.tenant = _tenant(self.org)
        self.document = processed_list(self.tenant)

    def screen(self, role=Role.WORKER, **subject):
        """Screen one subject as ``role``; the answer."""
        return self.clients[role].post(f"{API}runs/", {"subject": subject}, format="json")


class ListFlowTests(ScreeningTestCase):
    """Uploading, processing, previewing and deleting lists."""

    def test_the_dttot_list_is_read_into_entries_with_duplicates_merged(self):
        """Five rows, one repeated: four entries; aliases, NIK, dates and kind as listed."""
        self.assertEqual(self.document.status, ListDocument.Status.PROCESSED)
        self.assertEqual(self.document.row_count, 5)
        self.assertEqual(self.document.entry_count, 4)
        abu = Entry.objects.get(document=self.document, reference="DK-001")
        self.assertIn("ABU BAKAR BASYIR", [name.upper() for name in abu.names])
        self.assertEqual(abu.birth_dates, ["1938-08-17"])
        self.assertIn({"kind": "nik", "value": "3320011708380001"}, abu.identifiers)
        self.assertEqual(sorted(abu.rows), [2, 6])
        jad = Entry.objects.get(document=self.document, reference="DK-003")
        self.assertEqual(jad.kind, Entry.Kind.ORGANIZATION)

    def test_upload_then_etl_as_a_job_whose_status_tells_the_counts(self):
        """A manager uploads (201), starts the ETL (202 and a job), reads the job's result."""
        client = self.clients[Role.MANAGER]
        response = client.post(
            f"{API}documents/",
            {"file": dttot_upload(), "name": "DTTOT 2026", "source": "PPATK"},
            format="multipart",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["status"], "uploaded")
        document_id = response.json()["id"]
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(f"{API}documents/{document_id}/etl/")
        self.assertEqual(response.status_code, 202, response.content)
        job = client.get(f"/api/v1/jobs/{response.json()['id']}/").json()
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["result"]["entries"], 4)
        self.assertEqual(job["result"]["rows"], 5)
        processed = client.get(f"{API}processed-documents/").json()["results"]
        self.assertIn(document_id, [row["id"] for row in processed])

    def test_reprocessing_replaces_the_entries_at_once(self):
        """A second run leaves the same entries, new rows (the old ones are gone)."""
        before = set(Entry.objects.filter(document=self.document).values_list("pk", flat=True))
        services.document_process(document_id=self.document.pk, script="dttot")
        after = set(Entry.objects.filter(document=self.document).values_list("pk", flat=True))
        self.assertEqual(len(after), 4)
        self.assertFalse(before & after)

    def test_a_failed_run_changes_nothing(self):
        """A script that reads no entry fails the job; the entries stay, the list says why."""
        before = set(Entry.objects.filter(document=self.document).values_list("pk", flat=True))
        ListDocument.objects.filter(pk=self.document.pk).update(
            etl_script="generic-csv", etl_options={"columns": {"name": "Missing column"}}
        )
        with self.captureOnCommitCallbacks(execute=True):
            response = self.clients[Role.ADMIN].post(f"{API}documents/{self.document.pk}/etl/")
        self.assertEqual(response.status_code, 202, response.content)
        job = Job.objects.get(pk=response.json()["id"])
        self.assertEqual(job.state, "failed")
        self.assertTrue(job.error)
        after = set(Entry.objects.filter(document=self.document).values_list("pk", flat=True))
        self.assertEqual(before, after)
        self.document.refresh_from_db()
        self.assertEqual(self.document.status, ListDocument.Status.FAILED)
        self.assertTrue(self.document.last_error)

    def test_a_named_script_that_does_not_exist_is_a_404(self):
        """``etl/{script}/`` with an unknown script."""
        response = self.clients[Role.ADMIN].post(f"{API}documents/{self.document.pk}/etl/nope/")
        self.assert_problem(response, 404)

    def test_dataframe_shows_the_first_rows_and_the_mapping(self):
        """The table's columns, two rows, and which column feeds the names."""
        response = self.clients[Role.WORKER].get(
            f"{API}documents/{self.document.pk}/dataframe/?rows=2"
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertIn("Nama", body["columns"])
        self.assertEqual(len(body["rows"]), 2)
        self.assertEqual(body["mapping"].get("names") or body["mapping"].get("name"), "Nama")

    def test_a_pdf_named_csv_is_refused(self):
        """The bytes decide the type."""
        upload = SimpleUploadedFile("list.csv", b"%PDF-1.7 nope", content_type="text/csv")
        response = self.clients[Role.ADMIN].post(
            f"{API}documents/", {"file": upload}, format="multipart"
        )
        self.assert_problem(response, 400)

    def test_batch_upload_and_process(self):
        """Two files at once (201, two lists), then both processed (202, two jobs)."""
        client = self.clients[Role.ADMIN]
        response = client.post(
            f"{API}documents/batch/",
            {"files": [dttot_upload("a.csv"), dttot_upload("b.csv")], "source": "PPATK"},
            format="multipart",
        )
        self.assertEqual(response.status_code, 201, response.content)
        ids = [row["id"] for row in response.json()]
        self.assertEqual(len(ids), 2)
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(
                f"{API}documents/batch/process/", {"documents": ids}, format="json"
            )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(ListDocument.objects.filter(pk__in=ids, status="processed").count(), 2)

    def test_deleting_a_list_deletes_its_entries_and_is_audited(self):
        """204; entries gone; ``audit/events/?resource=screening`` shows the deletion."""
        response = self.clients[Role.ADMIN].delete(f"{API}documents/{self.document.pk}/")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(Entry.objects.filter(document_id=self.document.pk).exists())
        events = self.clients[Role.ADMIN].get("/api/v1/audit/events/?resource=screening").json()
        actions = {(row["action"], row["object_type"]) for row in events["results"]}
        self.assertIn(("delete", "screening.listdocument"), actions)
        self.assertIn(("process", "screening.listdocument"), actions)

    def test_etl_scripts_are_listed(self):
        """dttot, generic-csv and un-consolidated, with versions and columns."""
        response = self.clients[Role.WORKER].get(f"{API}etl-scripts/")
        self.assertEqual(response.status_code, 200)
        names = {row["name"] for row in response.json()}
        self.assertLessEqual({"dttot", "generic-csv", "un-consolidated"}, names)

    def test_another_organization_reaches_nothing(self):
        """Another organization's admin: 404 on the list's every route and its entries."""
        client = self.other_client
        base = f"{API}documents/{self.document.pk}/"
        for method, url in (
            ("get", base),
            ("get", f"{base}dataframe/"),
            ("post", f"{base}etl/"),
            ("post", f"{base}etl/dttot/"),
            ("delete", base),
        ):
            with self.subTest(url=url, method=method):
                self.assertEqual(getattr(client, method)(url).status_code, 404)
        response = client.post(
            f"{API}documents/batch/process/",
            {"documents": [str(self.document.pk)]},
            format="json",
        )
        self.assert_problem(response, 400)
        response = client.post(
            f"{API}entries/",
            {"document": str(self.document.pk), "names": ["X"]},
            format="json",
        )
        self.assert_problem(response, 400)
        self.assertEqual(client.get(f"{API}entries/").json()["count"], 0)


class MatchingFlowTests(ScreeningTestCase):
    """Screening subjects and reading why they matched."""

    def test_a_transliterated_name_matches_with_its_explanation(self):
        """ "Abu Bakar Bashir" finds Ba'asyir; the features say which alias and how."""
        response = self.screen(name="Abu Bakar Bashir")
        self.assertEqual(response.status_code, 201, response.content)
        best = response.json()["matches"][0]
        self.assertEqual(best["entry"]["reference"], "DK-001")
        self.assertTrue(best["is_match"])
        self.assertEqual(best["threshold"], "0.8000")
        features = best["features"]
        self.assertIn("name", features)
        self.assertEqual(Decimal(str(features["total"])), Decimal(best["score"]))

    def test_a_reordered_name_matches(self):
        """ "Abdurrahman Aman" is Aman Abdurrahman."""
        best = self.screen(name="Abdurrahman Aman").json()["matches"][0]
        self.assertEqual(best["entry"]["reference"], "DK-002")
        self.assertTrue(best["is_match"])

    def test_an_identifier_sets_the_score_to_one(self):
        """Another name, the same NIK: 1.0."""
        response = self.screen(
            name="Budi Santoso", identifiers=[{"kind": "nik", "value": "3320-0117-0838-0001"}]
        )
        best = response.json()["matches"][0]
        self.assertEqual(best["score"], "1.0000")
        self.assertIn("identifier", best["features"])

    def test_a_different_birth_date_lowers_the_score(self):
        """The same name born another day scores lower than with the listed date."""
        same = self.screen(name="Aman Abdurrahman", birth_date="1972-01-05").json()
        other = self.screen(name="Aman Abdurrahman", birth_date="1990-03-03").json()
        self.assertGreater(
            Decimal(same["matches"][0]["score"]),
            Decimal(other["matches"][0]["score"]) if other["matches"] else Decimal(0),
        )

    def test_a_name_written_in_one_word_is_found(self):
        """ "Dul Matin" finds the entry "Dulmatin" (the words written as one have its key)."""
        services.entry_create(
            tenant=self.tenant,
            document=self.document,
            data={"names": ["DULMATIN", "JOKO PITONO"], "birth_dates": ["1970-06-16"]},
        )
        best = self.screen(name="Dul Matin").json()["matches"][0]
        self.assertEqual(best["entry"]["name"], "DULMATIN")
        self.assertTrue(best["is_match"])

    def test_a_typo_in_the_one_rare_word_is_still_found(self):
        """ "Bahrum Naim" for Bahrun Naim: one word differs, the entry is still found."""
        best = self.screen(name="Bahrum Naim").json()["matches"][0]
        self.assertEqual(best["entry"]["reference"], "DK-004")

    def test_a_common_given_name_alone_is_not_a_match(self):
        """ "Abu Rizal" shares only "Abu": nothing past the threshold."""
        matches = self.screen(name="Abu Rizal").json()["matches"]
        self.assertFalse([row for row in matches if row["is_match"]])

    def test_basic_members_and_clients_may_not_screen(self):
        """Compliance data: 403 for basic members and clients."""
        for role in (Role.BASIC, Role.CLIENT):
            with self.subTest(role=role):
                self.assertEqual(self.screen(role=role, name="Abu").status_code, 403)

    def test_a_batch_run_over_customers_is_a_job(self):
        """``scope: customers`` (202): the job screens every customer, the listed one matches."""
        Customer.objects.create(organization=self.org, name="Bahrun Naim", code="C-1")
        Customer.objects.create(organization=self.org, name="Siti Rahayu", code="C-2")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.clients[Role.WORKER].post(
                f"{API}runs/", {"scope": "customers"}, format="json"
            )
        self.assertEqual(response.status_code, 202, response.content)
        run = Run.objects.filter(scope="customers").get()
        self.assertEqual(run.status, "succeeded")
        self.assertGreaterEqual(run.subject_count, 2)
        names = set(
            Match.objects.filter(run=run, is_match=True).values_list("subject_name", flat=True)
        )
        self.assertEqual(names, {"Bahrun Naim"})

    def test_a_file_run_screens_its_rows(self):
        """``runs/file/`` with a CSV of names: the job screens each row."""
        upload = SimpleUploadedFile(
            "people.csv", b"name,birth_date\nAman Abdurrahman,1972\nDewi Lestari,\n"
        )
        with self.captureOnCommitCallbacks(execute=True):
            response = self.clients[Role.WORKER].post(
                f"{API}runs/file/", {"file": upload}, format="multipart"
            )
        self.assertEqual(response.status_code, 202, response.content)
        run = Run.objects.get(scope="file")
        self.assertEqual((run.status, run.subject_count), ("succeeded", 2))
        self.assertTrue(
            Match.objects.filter(run=run, subject_name="Aman Abdurrahman", is_match=True).exists()
        )


class ReviewFlowTests(ScreeningTestCase):
    """Confirming and dismissing matches, and what is remembered."""

    def _match(self, name="Abu Bakar Baasyir", **extra):
        """The best match of a screening of ``name``."""
        return self.screen(name=name, **extra).json()["matches"][0]

    def test_review_needs_a_reason_and_a_reviewer(self):
        """400 without a reason; 403 for a worker; a manager confirms."""
        match = self._match()
        url = f"{API}matches/{match['id']}/approve/"
        self.assert_problem(self.clients[Role.MANAGER].post(url, {}, format="json"), 400)
        self.assertEqual(
            self.clients[Role.WORKER].post(url, {"reason": "x"}, format="json").status_code, 403
        )
        response = self.clients[Role.MANAGER].post(url, {"reason": "Same NIK"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "confirmed")

    def test_a_dismissed_pair_does_not_come_back_pending(self):
        """Screened again unchanged: stored dismissed, citing the review."""
        match = self._match()
        self.clients[Role.ADMIN].post(
            f"{API}matches/{match['id']}/reject/", {"reason": "Different person"}, format="json"
        )
        again = self._match()
        self.assertEqual(again["status"], "dismissed")
        self.assertIn("Different person", again["reason"])
        changed = self._match(birth_date="1938")
        self.assertEqual(changed["status"], "pending")

    def test_a_confirmed_customer_is_flagged_and_admins_are_told(self):
        """The customer's own API shows ``watchlist_flagged``; the admin gets a notification."""
        customer = Customer.objects.create(organization=self.org, name="Bahrun Naim", code="C-1")
        services.run_execute(
            run_id=services.run_start(
                organization=self.org, user=None, scope=Run.Scope.CUSTOMERS
            ).pk
        )
        match = Match.objects.get(subject_id=customer.pk, is_match=True)
        response = self.clients[Role.ADMIN].post(
            f"{API}matches/{match.pk}/approve/", {"reason": "Confirmed by NIK"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        shown = self.clients[Role.ADMIN].get(f"/api/v1/crm/customers/{customer.pk}/").json()
        self.assertTrue(shown["watchlist_flagged"])
        self.assertTrue(
            Notification.objects.filter(user=self.users[Role.ADMIN], kind="screening").exists()
        )
        events = (
            self.clients[Role.ADMIN]
            .get("/api/v1/audit/events/?resource=screening&action=confirm")
            .json()
        )
        self.assertEqual(events["count"], 1)

    def test_another_organization_cannot_review(self):
        """404 on approve and reject of another organization's match."""
        match = self._match()
        for verb in ("approve", "reject"):
            with self.subTest(verb=verb):
                response = self.other_client.post(
                    f"{API}matches/{match['id']}/{verb}/", {"reason": "x"}, format="json"
                )
                self.assertEqual(response.status_code, 404)

    def test_affiliated_users_are_members_with_matches(self):
        """A member named like a listed person is listed; approving confirms their matches."""
        worker = self.users[Role.WORKER]
        worker.first_name, worker.last_name = "Aman", "Abdurrahman"
        worker.save()
        membership = Membership.objects.get(organization=self.org, user=worker)
        services.run_execute(
            run_id=services.run_start(organization=self.org, user=None, scope="members").pk
        )
        rows = self.clients[Role.MANAGER].get(f"{API}affiliated-users/").json()["results"]
        self.assertEqual([row["user"] for row in rows], [str(worker.pk)])
        self.assertGreaterEqual(rows[0]["pending"], 1)
        response = self.clients[Role.MANAGER].post(
            f"{API}affiliated-users/{worker.pk}/approve/",
            {"reason": "Same person"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        membership.refresh_from_db()
        self.assertTrue(membership.watchlist_flagged)
        response = self.other_client.post(
            f"{API}affiliated-users/{worker.pk}/reject/", {"reason": "x"}, format="json"
        )
        self.assertEqual(response.status_code, 404)


class RescreeningTests(ScreeningTestCase):
    """Customers are screened again when created or renamed, and against new lists."""

    def test_a_new_and_a_renamed_customer_are_screened(self):
        """Created over the API: a run; renamed to a listed name: a run with a match."""
        client = self.clients[Role.ADMIN]
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(
                "/api/v1/crm/customers/", {"name": "Toko Sejahtera"}, format="json"
            )
        self.assertEqual(response.status_code, 201, response.content)
        customer_id = response.json()["id"]
        created = Run.objects.get(subject_id=customer_id, trigger="created")
        self.assertEqual(created.status, "succeeded")
        with self.captureOnCommitCallbacks(execute=True):
            client.patch(
                f"/api/v1/crm/customers/{customer_id}/", {"name": "Bahrun Naim"}, format="json"
            )
        renamed = Run.objects.get(subject_id=customer_id, trigger="renamed")
        self.assertTrue(Match.objects.filter(run=renamed, is_match=True).exists())

    def test_a_newly_processed_list_screens_everyone(self):
        """Processing a list starts a run of every subject against that list."""
        Customer.objects.create(organization=self.org, name="Aman Abdurrahman", code="C-9")
        with self.captureOnCommitCallbacks(execute=True):
            self.clients[Role.ADMIN].post(f"{API}documents/{self.document.pk}/etl/")
        run = Run.objects.filter(trigger="list_processed").latest("created_at")
        self.assertEqual(run.document_id, self.document.pk)
        self.assertTrue(Match.objects.filter(run=run, subject_name="Aman Abdurrahman").exists())


class SettingsTests(ScreeningTestCase):
    """``screening/settings/``: the scores in force."""

    def test_defaults_then_the_organizations_own(self):
        """0.80 and 0.50 by default; an admin sets 0.9; a cutoff above it is a 400."""
        client = self.clients[Role.ADMIN]
        body = client.get(f"{API}settings/").json()
        self.assertEqual(
            (body["effective_threshold"], body["effective_cutoff"]), ("0.8000", "0.5000")
        )
        response = client.patch(f"{API}settings/", {"match_threshold": "0.9"}, format="json")
        self.assertEqual(response.json()["effective_threshold"], "0.9000")
        self.assert_problem(client.patch(f"{API}settings/", {"cutoff": "0.95"}, format="json"), 400)
        self.assertEqual(
            self.clients[Role.MANAGER]
            .patch(f"{API}settings/", {"cutoff": "0.4"}, format="json")
            .status_code,
            403,
        )
        self.assertEqual(
            self.other_client.get(f"{API}settings/").json()["effective_threshold"], "0.8000"
        )

    def test_the_threshold_in_force_is_kept_on_each_match(self):
        """A match records the threshold it was judged against."""
        self.clients[Role.ADMIN].patch(
            f"{API}settings/", {"match_threshold": "0.95"}, format="json"
        )
        best = self.screen(name="Abu Bakar Bashir").json()["matches"][0]
        self.assertEqual(best["threshold"], "0.9500")


class FoundOverHttpTests(ScreeningTestCase):
    """What driving the real server as users and a second organization found, pinned."""

    def test_entries_are_searched_by_name_and_by_identifier(self):
        """``?name=`` (any alias, normalised) and ``?identifier=`` (written any way)."""
        client = self.clients[Role.WORKER]
        rows = client.get(f"{API}entries/?name=oman").json()["results"]
        self.assertEqual([row["reference"] for row in rows], ["DK-002"])
        rows = client.get(f"{API}entries/?identifier=3320.0117.0838.0001").json()["results"]
        self.assertEqual([row["reference"] for row in rows], ["DK-001"])

    def test_dataframe_shows_twenty_rows_by_default_and_names_a_bad_parameter(self):
        """No ``rows``: the default; ``rows=0`` and an unknown script: 400 on that field."""
        client = self.clients[Role.WORKER]
        url = f"{API}documents/{self.document.pk}/dataframe/"
        self.assertEqual(client.get(url).status_code, 200)
        response = client.get(f"{url}?rows=0")
        self.assert_problem(response, 400)
        self.assertIn("rows", response.json()["errors"])
        response = client.get(f"{url}?script=nope")
        self.assertIn("script", response.json()["errors"])

    def test_processing_a_list_again_keeps_its_reviews_and_the_flag(self):
        """A confirmed customer stays confirmed and flagged; re-screened, the pair is
        remembered, not pending."""
        customer = Customer.objects.create(organization=self.org, name="Bahrun Naim", code="C-1")
        services.run_execute(
            run_id=services.run_start(
                organization=self.org, user=None, scope=Run.Scope.CUSTOMERS
            ).pk
        )
        match = Match.objects.get(subject_id=customer.pk, is_match=True)
        self.clients[Role.ADMIN].post(
            f"{API}matches/{match.pk}/approve/", {"reason": "Same person"}, format="json"
        )
        with self.captureOnCommitCallbacks(execute=True):
            self.clients[Role.ADMIN].post(f"{API}documents/{self.document.pk}/etl/")
        match.refresh_from_db()
        self.assertEqual(match.status, "confirmed")
        self.assertIsNone(match.entry_id)
        again = Match.objects.filter(subject_id=customer.pk, entry__isnull=False).get()
        self.assertEqual(again.status, "confirmed")
        customer.refresh_from_db()
        self.assertTrue(customer.watchlist_flagged)
        response = self.clients[Role.ADMIN].post(
            f"{API}matches/{match.pk}/reject/", {"reason": "Wrong"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        customer.refresh_from_db()
        self.assertTrue(customer.watchlist_flagged)  # the newer confirmed hit stands

    def test_the_same_review_twice_is_a_409(self):
        """Approving a confirmed match again says so; switching is an audited correction."""
        match = self.screen(name="Abu Bakar Baasyir").json()["matches"][0]
        url = f"{API}matches/{match['id']}/"
        client = self.clients[Role.MANAGER]
        self.assertEqual(
            client.post(f"{url}approve/", {"reason": "a"}, format="json").status_code, 200
        )
        self.assert_problem(client.post(f"{url}approve/", {"reason": "b"}, format="json"), 409)
        self.assertEqual(
            client.post(f"{url}reject/", {"reason": "c"}, format="json").status_code, 200
        )

    def test_a_birth_date_must_be_a_real_date_of_the_calendar(self):
        """13th month, day 45, year 1: 400 on ``birth_date``."""
        for value in ("1983-13-45", "0001-01-01", "0001"):
            with self.subTest(value=value):
                response = self.screen(name="Bahrun Naim", birth_date=value)
                self.assert_problem(response, 400)

    def test_a_lists_options_are_a_json_object(self):
        """PATCH takes the object GET shows."""
        response = self.clients[Role.ADMIN].patch(
            f"{API}documents/{self.document.pk}/",
            {"etl_options": {}, "name": "Renamed"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["etl_options"], {})

    def test_a_threshold_below_the_system_cutoff_is_refused(self):
        """Threshold 0 with the system's cutoff 0.50 in force: 400, not a silent cutoff of 0."""
        response = self.clients[Role.ADMIN].patch(
            f"{API}settings/", {"match_threshold": "0"}, format="json"
        )
        self.assert_problem(response, 400)
        self.assertIn("match_threshold", response.json()["errors"])
        response = self.clients[Role.ADMIN].patch(
            f"{API}settings/", {"match_threshold": "1.5"}, format="json"
        )
        self.assertIn("at most 4 decimals", str(response.json()["errors"]))


class ListQueryCountTests(ScreeningTestCase):
    """The lists without a generic resource test keep their statements pinned."""

    def test_processed_documents_and_affiliated_users_do_not_grow_with_rows(self):
        """Two processed lists or one, three matched members or one: the same statements."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = self.clients[Role.MANAGER]

        def count(url: str) -> int:
            """Statements of one GET of ``url``."""
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(client.get(url).status_code, 200)
            return len(captured)

        count(f"{API}processed-documents/")  # the caller's first request warms its caches
        few = count(f"{API}processed-documents/")
        processed_list(self.tenant)
        self.assertEqual(count(f"{API}processed-documents/"), few)
        worker = self.users[Role.WORKER]
        worker.first_name, worker.last_name = "Aman", "Abdurrahman"
        worker.save()
        services.run_execute(
            run_id=services.run_start(organization=self.org, user=None, scope="members").pk
        )
        one = count(f"{API}affiliated-users/")
        for role in (Role.BASIC, Role.CLIENT):
            user = self.users[role]
            user.first_name, user.last_name = "Bahrun", "Naim"
            user.save()
        services.run_execute(
            run_id=services.run_start(organization=self.org, user=None, scope="members").pk
        )
        self.assertEqual(count(f"{API}affiliated-users/"), one)
