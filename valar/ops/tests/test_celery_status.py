"""``/api/v1/ops/celery/``: platform operators only; in eager mode it says so."""

from unittest import mock

from valar.celery import app as celery_app
from valar.core.testing import ApiTestCase
from valar.core.testing.jobs import celery_conf
from valar.core.testing.resources import TenantFixtureMixin
from valar.ops import selectors

URL = "/api/v1/ops/celery/"


class CeleryStatusTests(TenantFixtureMixin, ApiTestCase):
    """Who may read it, and what it answers without workers."""

    def setUp(self) -> None:
        """A platform operator besides the organization's members."""
        super().setUp()
        self.operator = self.make_user("operator@platform.test", is_superuser=True)

    def test_in_eager_mode_there_are_no_workers_and_it_says_so(self):
        with celery_conf(task_always_eager=True):
            response = self.token_client(self.operator).get(URL)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["eager"], True)
        self.assertEqual((body["workers"], body["queues"]), ([], []))
        self.assertTrue(body["reachable"])

    def test_every_member_is_refused_whatever_their_role(self):
        for role, client in self.clients.items():
            with self.subTest(role=role):
                self.assert_problem(client.get(URL), 403)
        self.assert_problem(self.other_client.get(URL), 403)

    def test_an_anonymous_caller_is_asked_to_sign_in(self):
        self.assert_problem(self.client.get(URL), 401)

    def test_it_is_read_only(self):
        client = self.token_client(self.operator)
        self.assert_problem(client.post(URL, {}), 405)

    def test_an_unreachable_broker_is_reported_not_raised(self):
        with (
            celery_conf(task_always_eager=False),
            mock.patch.object(celery_app.control, "inspect", side_effect=OSError("refused")),
            self.assertLogs("valar.ops", "WARNING"),
        ):
            body = self.token_client(self.operator).get(URL).json()
        self.assertEqual((body["eager"], body["reachable"]), (False, False))

    def test_a_worker_s_tasks_show_their_job_but_never_their_parameters(self):
        task = {"id": "t1", "name": "probes.write", "kwargs": {"job_id": "j1", "secret": "s"}}
        self.assertEqual(
            selectors._task_summary(task), {"id": "t1", "name": "probes.write", "job_id": "j1"}
        )
