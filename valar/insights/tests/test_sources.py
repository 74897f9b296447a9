"""``insights/sources/``: the catalogue a chart form builds a metrics query from."""

from valar.core.metrics import get_source
from valar.core.metrics.engine import INTERVALS, validate
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.insights.tests import support

SOURCES = support.INSIGHTS + "sources/"


class SourcesTests(TenantFixtureMixin, ApiTestCase):
    """Every source the caller may query, with the names the engine accepts, and no other."""

    module = "insights"

    def names(self, role: str) -> list[str]:
        """The source names ``role``'s member is offered."""
        response = self.clients[role].get(SOURCES)
        self.assertEqual(response.status_code, 200, response.content)
        return [source["name"] for source in response.json()["sources"]]

    def test_an_admin_gets_every_source_with_the_registrys_names(self):
        client = self.clients[Role.ADMIN]
        client.get(SOURCES)
        # The token's one statement (the membership is cached after the first request): the
        # catalogue itself is read from the registry, not the database.
        with self.assertNumQueries(1):
            body = client.get(SOURCES).json()
        self.assertEqual(body["intervals"], list(INTERVALS))
        names = [source["name"] for source in body["sources"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("income", names)
        self.assertIn("support", names)
        for item in body["sources"]:
            source = get_source(item["name"])
            with self.subTest(source=item["name"]):
                self.assertEqual(item["module"], source.module)
                self.assertEqual(item["money"], source.money)
                self.assertEqual(item["measures"], list(source.measures))
                self.assertEqual(item["dimensions"], sorted(source.dimensions))
                self.assertEqual(item["default_date_field"], source.date_field)
                self.assertEqual(item["date_fields"][0], source.date_field)

    def test_every_offered_combination_is_a_query_the_engine_accepts(self):
        body = self.clients[Role.ADMIN].get(SOURCES).json()
        period = {"start_date": "2025-01-01", "end_date": "2025-12-31"}
        for item in body["sources"]:
            for measure in item["measures"]:
                for group_by in [None, *item["dimensions"]]:
                    for date_field in item["date_fields"]:
                        spec = {
                            "source": item["name"],
                            "measure": measure,
                            "date_field": date_field,
                            "interval": body["intervals"][-1],
                            **period,
                        }
                        if group_by:
                            spec["group_by"] = group_by
                        with self.subTest(spec=spec):
                            validate(spec)

    def test_sources_of_modules_the_caller_lacks_are_left_out(self):
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks"])
        names = self.names(Role.WORKER)
        self.assertIn("tasks", names)
        for hidden in ("income", "expense", "profit", "deals", "leads", "support"):
            self.assertNotIn(hidden, names)
        support.grant(self.org, self.users[Role.WORKER], ["insights", "tasks", "finance"])
        self.assertIn("income", self.names(Role.WORKER))

    def test_the_role_matrix_is_the_insights_view_permission(self):
        support.grant(self.org, self.users[Role.WORKER], ["tasks"])
        self.assert_problem(self.clients[Role.WORKER].get(SOURCES), 403)
        for role in (Role.ADMIN, Role.MANAGER):
            with self.subTest(role=role):
                self.assertEqual(self.clients[role].get(SOURCES).status_code, 200)
        self.assert_problem(self.clients[Role.CLIENT].get(SOURCES), 403)

    def test_anonymous_is_401_and_writes_are_405(self):
        self.assert_problem(self.client.get(SOURCES), 401)
        self.assert_problem(self.clients[Role.ADMIN].post(SOURCES, {}, format="json"), 405)
