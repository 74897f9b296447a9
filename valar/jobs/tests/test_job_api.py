"""``/api/v1/jobs/``: isolation, the role matrix, filters, cancel, pinned query counts."""

from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin, TenantResourceTestsMixin
from valar.jobs import services
from valar.jobs.models import Job

URL = "/api/v1/jobs/"


def make_job(organization, index=0, **fields) -> Job:
    """A queued job row in ``organization``."""
    return Job.objects.create(organization=organization, kind="probes.write", **fields)


class JobResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """The generic tests: list and detail only (jobs are started by the features that run them)."""

    module = "jobs"
    url = URL
    verbs = ("list", "retrieve")
    list_queries = 3

    def make_object(self, organization, index=0):
        return make_job(organization, index)


class JobApiTests(TenantFixtureMixin, ApiTestCase):
    """Cancel for every role, filters, and what a member sees of a job."""

    module = "jobs"

    def test_the_body_of_a_finished_job(self):
        with self.captureOnCommitCallbacks(execute=True):
            job = services.job_start(
                organization=self.org,
                user=self.users[Role.WORKER],
                kind="probes.write",
                title="From the API",
            )
        body = self.clients[Role.WORKER].get(f"{URL}{job.pk}/").json()
        self.assertEqual(
            set(body),
            {
                "id",
                "kind",
                "state",
                "progress",
                "result",
                "error",
                "attempts",
                "started_by",
                "created_at",
                "started_at",
                "finished_at",
            },
        )
        self.assertEqual(
            (body["kind"], body["state"], body["progress"], body["attempts"]),
            ("probes.write", "succeeded", 100, 1),
        )
        self.assertEqual(body["started_by"], str(self.users[Role.WORKER].pk))
        self.assertIn("task", body["result"])

    def test_each_role_cancels_what_the_policy_table_allows(self):
        expected_other = {
            Role.ADMIN: 200,
            Role.MANAGER: 200,
            Role.WORKER: 404,  # another member's job is not visible to them
            Role.BASIC: 404,
            Role.CLIENT: 403,
        }
        for role, status in expected_other.items():
            with self.subTest(role=role):
                others = make_job(self.org, started_by=self.users[Role.ADMIN])
                response = self.clients[role].post(f"{URL}{others.pk}/cancel/")
                self.assertEqual(response.status_code, status, response.content)
                others.refresh_from_db()
                cancelled = status == 200
                self.assertEqual(others.state == Job.State.CANCELLED, cancelled)
                own = make_job(self.org, started_by=self.users[role])
                response = self.clients[role].post(f"{URL}{own.pk}/cancel/")
                self.assertEqual(response.status_code, 403 if role == Role.CLIENT else 200)

    def test_cancel_answers_the_cancelled_job(self):
        job = make_job(self.org, started_by=self.users[Role.ADMIN])
        body = self.clients[Role.ADMIN].post(f"{URL}{job.pk}/cancel/").json()
        self.assertEqual(body["state"], "cancelled")
        self.assertIsNotNone(body["finished_at"])

    def test_cancelling_a_finished_job_is_a_409_problem(self):
        for state in Job.FINISHED:
            with self.subTest(state=state):
                job = make_job(self.org, state=state)
                response = self.clients[Role.ADMIN].post(f"{URL}{job.pk}/cancel/")
                self.assert_problem(response, 409, code="job_finished")
                job.refresh_from_db()
                self.assertEqual(job.state, state)

    def test_another_organization_cannot_cancel_or_see_a_job(self):
        job = make_job(self.org)
        self.assert_problem(self.other_client.post(f"{URL}{job.pk}/cancel/"), 404)
        self.assert_problem(self.other_client.get(f"{URL}{job.pk}/"), 404)
        job.refresh_from_db()
        self.assertEqual(job.state, Job.State.QUEUED)
        self.assertEqual(self.other_client.get(URL).json()["count"], 0)

    def test_platform_jobs_belong_to_no_organization(self):
        Job.objects.create(kind="jobs.prune_finished")
        self.assertEqual(self.clients[Role.ADMIN].get(URL).json()["count"], 0)

    def test_the_list_filters_by_kind_state_and_who_started_it(self):
        admin, worker = self.users[Role.ADMIN], self.users[Role.WORKER]
        make_job(self.org, started_by=admin)
        Job.objects.create(
            organization=self.org, kind="jobs.other", state="failed", started_by=worker
        )
        Job.objects.create(
            organization=self.org, kind="jobs.other", state="running", started_by=admin
        )
        client = self.clients[Role.ADMIN]

        def count(**query):
            response = client.get(URL, query)
            self.assertEqual(response.status_code, 200, response.content)
            return response.json()["count"]

        self.assertEqual(count(kind="jobs.other"), 2)
        self.assertEqual(count(state="failed"), 1)
        self.assertEqual(count(state=["failed", "running"]), 2)
        self.assertEqual(count(started_by="me"), 2)
        self.assertEqual(count(started_by=str(worker.pk)), 1)
        self.assert_problem(client.get(URL, {"state": "lost"}), 400, field="state")

    def test_the_cancel_of_a_job_changes_no_other_row(self):
        job, other = make_job(self.org), make_job(self.org)
        self.clients[Role.ADMIN].post(f"{URL}{job.pk}/cancel/")
        other.refresh_from_db()
        self.assertEqual(other.state, Job.State.QUEUED)
