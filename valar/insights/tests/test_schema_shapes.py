"""The reports' shapes in the OpenAPI document: declared, and matched by what is answered.

Each report is fetched as the demo admin (the seeded demo organization has entries, tasks,
leads, deals and a dashboard) and its body validated against the schema the generator
produces, so a key added to a selector without the serializer (or the reverse) fails here.
"""

import copy
import datetime

import jsonschema
from drf_spectacular.generators import SchemaGenerator

from valar.accounts.models import User
from valar.core.schema import FORMAT_PATTERNS
from valar.core.testing import ApiTestCase
from valar.ops.services import DEMO_EMAIL, demo_seed

_SCHEMA: dict = {}


def openapi() -> dict:
    """The generated OpenAPI document (built once)."""
    if not _SCHEMA:
        _SCHEMA.update(SchemaGenerator().get_schema(request=None, public=True))
    return _SCHEMA


def _json_schema(node, components: dict):
    """An OpenAPI schema as plain JSON Schema: refs inlined, ``nullable`` as a null type.

    Objects admit exactly their declared keys, so a key answered but not declared fails too.
    """
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    result = {key: _json_schema(value, components) for key, value in node.items()}
    if "properties" in result and "additionalProperties" not in result:
        result["additionalProperties"] = False  # exactly the declared keys
    if result.pop("nullable", False):
        return {"anyOf": [result, {"type": "null"}]}
    return result


def response_schema(path: str, method: str = "get", status: str = "200") -> dict:
    """The JSON Schema of an operation's response."""
    document = openapi()
    content = document["paths"][path][method]["responses"][status]["content"]
    raw = content["application/json"]["schema"]
    return _json_schema(copy.deepcopy(raw), document["components"]["schemas"])


class ReportShapesTests(ApiTestCase):
    """Reports, queries and charts are typed, and their bodies match their types."""

    def setUp(self) -> None:
        super().setUp()
        demo_seed()
        self.admin = User.objects.get(email=DEMO_EMAIL)
        self.client = self.token_client(self.admin)
        today = datetime.date.today()
        self.period = {"start_date": (today - datetime.timedelta(days=400)).isoformat()}

    def check(self, path: str, url: str, params=None, method="get", body=None) -> dict:
        """Fetch ``url`` and validate the body against ``path``'s declared 200/201."""
        if method == "get":
            response = self.client.get(url, params or {})
            status = "200"
        else:
            response = self.client.post(url, body, format="json")
            status = str(response.status_code)
        self.assertIn(response.status_code, (200, 201), response.content)
        schema = response_schema(path, method, status)
        self.assertNotEqual(schema.get("type"), None, "the response is declared")
        jsonschema.validate(response.json(), schema)
        return response.json()

    def test_no_report_is_an_untyped_object(self):
        paths = [
            "/api/v1/finance/summary/",
            "/api/v1/insights/overview/",
            "/api/v1/insights/trends/",
            "/api/v1/insights/breakdown/",
            "/api/v1/insights/projections/",
            "/api/v1/insights/teams/",
            "/api/v1/insights/teams/{team_id}/",
        ]
        for path in paths:
            with self.subTest(path=path):
                schema = response_schema(path)
                self.assertIn("properties", schema)
        query = response_schema("/api/v1/insights/query/", "post")
        self.assertIn("series", query["properties"])
        chart = openapi()["components"]["schemas"]["Chart"]["properties"]
        self.assertIn("$ref", chart["query"])
        self.assertEqual(
            chart["document"]["allOf"], [{"$ref": "#/components/schemas/MetricsDocument"}]
        )
        dashboard = openapi()["components"]["schemas"]["Dashboard"]["properties"]
        self.assertEqual(dashboard["charts"]["items"], {"$ref": "#/components/schemas/Chart"})

    def test_finance_summary_matches_its_schema_with_and_without_group_by(self):
        body = self.check("/api/v1/finance/summary/", "/api/v1/finance/summary/", self.period)
        self.assertEqual([s["name"] for s in body["series"]], ["income", "expense", "profit"])
        self.check(
            "/api/v1/finance/summary/",
            "/api/v1/finance/summary/",
            {**self.period, "group_by": "category", "interval": "quarter"},
        )

    def test_insights_reports_match_their_schemas(self):
        base = "/api/v1/insights/"
        body = self.check(f"{base}overview/", f"{base}overview/", self.period)
        self.assertIn("finance", body)
        self.check(f"{base}trends/", f"{base}trends/", self.period)
        for by in ("category", "team", "source"):
            with self.subTest(by=by):
                self.check(f"{base}breakdown/", f"{base}breakdown/", {**self.period, "by": by})
        self.check(f"{base}projections/", f"{base}projections/")
        board = self.check(f"{base}teams/", f"{base}teams/", self.period)
        self.assertTrue(board["results"])
        team = board["results"][0]["team"]
        self.check(f"{base}teams/{{team_id}}/", f"{base}teams/{team}/", self.period)

    def test_query_documents_match_their_schema(self):
        today = datetime.date.today()
        specs = [
            {"source": "income", "group_by": "category", "interval": "month"},
            {"source": "tasks", "measure": "count", "group_by": "status"},
            {"source": "deals", "measure": "weighted", "interval": "quarter"},
            {"source": "expense", "measure": "max", "interval": "week"},
        ]
        for spec in specs:
            with self.subTest(spec=spec):
                self.check(
                    "/api/v1/insights/query/",
                    "/api/v1/insights/query/",
                    method="post",
                    body={
                        **spec,
                        "start_date": (today - datetime.timedelta(days=90)).isoformat(),
                        "end_date": today.isoformat(),
                    },
                )

    def test_a_chart_and_the_charts_list_match_their_schemas(self):
        dashboard = self.client.post(
            "/api/v1/dashboards/", {"title": "Shapes"}, format="json"
        ).json()
        today = datetime.date.today()
        chart = self.check(
            "/api/v1/dashboards/{id}/charts/",
            f"/api/v1/dashboards/{dashboard['id']}/charts/",
            method="post",
            body={
                "title": "Income",
                "chart_type": "bar",
                "query": {
                    "source": "income",
                    "start_date": (today - datetime.timedelta(days=60)).isoformat(),
                    "end_date": today.isoformat(),
                    "interval": "month",
                },
            },
        )
        self.assertEqual(chart["document"]["query"]["source"], "income")
        charts = self.check(
            "/api/v1/dashboards/{id}/charts/", f"/api/v1/dashboards/{dashboard['id']}/charts/"
        )
        self.assertIsInstance(charts, list)
        detail = self.check("/api/v1/dashboards/{id}/", f"/api/v1/dashboards/{dashboard['id']}/")
        self.assertEqual([item["document"] for item in detail["charts"]], [chart["document"]])


class ArrayEndpointsTests(ApiTestCase):
    """Endpoints that answer a bare array are declared as arrays, with no page parameters."""

    def test_funnel_and_value_by_stage_answer_exactly_their_declared_rows(self):
        demo_seed()
        client = self.token_client(User.objects.get(email=DEMO_EMAIL))
        pipeline = client.get("/api/v1/crm/pipelines/").json()["results"][0]["id"]
        for name in ("funnel", "value-by-stage"):
            with self.subTest(name=name):
                response = client.get(f"/api/v1/crm/pipelines/{pipeline}/{name}/")
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.json())
                path = f"/api/v1/crm/pipelines/{{id}}/{name}/"
                jsonschema.validate(response.json(), response_schema(path))

    def test_funnel_value_by_stage_and_charts_are_arrays_without_page_or_filters(self):
        paths = [
            "/api/v1/crm/pipelines/{id}/funnel/",
            "/api/v1/crm/pipelines/{id}/value-by-stage/",
            "/api/v1/dashboards/{id}/charts/",
        ]
        for path in paths:
            with self.subTest(path=path):
                operation = openapi()["paths"][path]["get"]
                names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
                self.assertEqual(names, set())
                self.assertEqual(response_schema(path)["type"], "array")


class InputShapesTests(ApiTestCase):
    """Inputs are declared with their real constraints."""

    def components(self) -> dict:
        """The generated component schemas."""
        return openapi()["components"]["schemas"]

    def test_money_patterns_refuse_empty_sign_and_point_and_state_the_minimum(self):
        import re

        deal = self.components()["DealRequest"]["properties"]["value"]
        entry = self.components()["EntryRequest"]["properties"]["amount"]
        self.assertEqual(deal["minimum"], 0)
        self.assertEqual(entry["exclusiveMinimum"], 0)
        for schema in (deal, entry):
            for bad in ("", "-", ".", "-1", "1.", "1.234", "1234567890123"):
                with self.subTest(schema=schema["pattern"], bad=bad):
                    self.assertIsNone(re.search(schema["pattern"], bad))
            for good in ("1", "0.5", "12.34", "999999999999.99"):
                with self.subTest(schema=schema["pattern"], good=good):
                    self.assertIsNotNone(re.search(schema["pattern"], good))
        self.assertIsNotNone(re.search(deal["pattern"], "0"))
        self.assertIsNone(re.search(entry["pattern"], "0.00"))
        answered = self.components()["Deal"]["properties"]["value"]
        self.assertIsNone(re.search(answered["pattern"], "12.5"))
        self.assertIsNotNone(re.search(answered["pattern"], "12.50"))

    def test_user_filters_are_an_id_or_me(self):
        cases = {
            "/api/v1/tasks/": "assignee",
            "/api/v1/crm/leads/": "assigned_to",
            "/api/v1/finance/transactions/": "created_by",
        }
        for path, name in cases.items():
            with self.subTest(path=path):
                params = openapi()["paths"][path]["get"]["parameters"]
                schema = next(p for p in params if p["name"] == name)["schema"]
                self.assertEqual(
                    schema["oneOf"],
                    [
                        {"type": "string", "format": "uuid", "pattern": FORMAT_PATTERNS["uuid"]},
                        {"type": "string", "enum": ["me"]},
                    ],
                )

    def test_time_zones_are_an_enum_of_iana_names(self):
        enum = self.components()["TimezoneEnum"]["enum"]
        self.assertIn("Europe/Paris", enum)
        self.assertIn("UTC", enum)
        for name in ("PreferencesRequest", "OrganizationSettingsRequest"):
            with self.subTest(name=name):
                prop = self.components()[name]["properties"]["timezone"]
                self.assertEqual(prop["allOf"], [{"$ref": "#/components/schemas/TimezoneEnum"}])

    def test_the_metrics_query_declares_its_enums_and_filters(self):
        raw = copy.deepcopy(self.components()["QuerySpecRequest"])
        query = _json_schema(raw, self.components())["properties"]

        def values(prop) -> set:
            found = set(prop.get("enum", []))
            for part in prop.get("allOf", []) + prop.get("anyOf", []) + prop.get("oneOf", []):
                found |= values(part)
            return found

        self.assertEqual(
            values(query["source"]),
            {
                "income",
                "expense",
                "expense_all",
                "profit",
                "profit_all",
                "leads",
                "customers",
                "deals",
                "tasks",
                "support",
                "invoices",
                "payments",
                "screening_matches",
                "screening_runs",
                "screening_entries",
            },
        )
        self.assertLessEqual({"sum", "count", "weighted"}, values(query["measure"]))
        self.assertEqual(values(query["interval"]), {"day", "week", "month", "quarter", "year"})
        self.assertLessEqual({"category", "team", "status", "assignee"}, values(query["group_by"]))
        self.assertIn("date", values(query["date_field"]))
        self.assertEqual(query["filters"]["type"], "object")
        self.assertIn("oneOf", query["filters"]["additionalProperties"])


class DeclaredRulesTests(ApiTestCase):
    """Rules the API enforces are stated in the schema."""

    def test_stages_are_required_on_pipeline_create_and_read_only_afterwards(self):
        components = openapi()["components"]["schemas"]
        create = openapi()["paths"]["/api/v1/crm/pipelines/"]["post"]
        ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = components[ref.rsplit("/", 1)[1]]
        self.assertIn("stages", body["required"])
        self.assertEqual(body["properties"]["stages"]["minItems"], 1)
        self.assertNotIn("stages", components["PatchedPipelineRequest"]["properties"])
        stage = components["PipelineStageInput"]
        self.assertIn("id", stage["properties"])
        self.assertTrue(stage["properties"]["id"]["readOnly"])

    def test_report_periods_state_their_five_year_limit(self):
        for path in ("/api/v1/finance/summary/", "/api/v1/insights/overview/"):
            with self.subTest(path=path):
                params = openapi()["paths"][path]["get"]["parameters"]
                end = next(p for p in params if p["name"] == "end_date")
                self.assertIn("at most 5 years", end["description"])
