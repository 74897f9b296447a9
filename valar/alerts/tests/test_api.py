"""``ops/alerts/``: CRUD, validation, isolation, the role matrix, firings and check now."""

from decimal import Decimal

from valar.alerts.models import AlertFiring, AlertRule
from valar.alerts.services import check_alerts
from valar.alerts.tests.support import API, expense, rule
from valar.core.policy import Role
from valar.core.testing.cases import ApiTestCase
from valar.core.testing.resources import TenantResourceTestsMixin
from valar.organizations.models import Membership, Team


class AlertRuleResourceTests(TenantResourceTestsMixin, ApiTestCase):
    """The generic tests: 404 across organizations, the role matrix, pagination, queries."""

    url = API
    module = "alerts"
    update_data = {"name": "Renamed", "threshold": "5000.00"}
    list_queries = 5

    def setUp(self) -> None:
        """Managers hold the finance module (a rule over expenses needs it)."""
        super().setUp()
        for role in (Role.MANAGER, Role.WORKER, Role.BASIC):
            membership = Membership.objects.get(organization=self.org, user=self.users[role])
            membership.modules = ["finance", "tasks"]
            membership.save()

    def make_object(self, organization, index: int = 0):
        """An expenses rule of ``organization``."""
        return rule(organization, name=f"Rule {index}")

    def create_data(self, index: int) -> dict:
        """Expenses this month above 10,000, told to the manager."""
        return {
            "name": f"Expenses {index}",
            "source": "expense",
            "threshold": "10000.00",
            "users": [str(self.users[Role.MANAGER].pk)],
        }


class AlertRuleApiTests(ApiTestCase):
    """Validation, answers and the rule-specific endpoints."""

    def setUp(self) -> None:
        """An organization with an admin, a manager with finance, a worker; another one."""
        super().setUp()
        from valar.organizations.services import organization_create

        self.admin = self.make_user("admin@org.test")
        self.org = organization_create(name="Org", actor=self.admin)
        self.manager = self.make_user("manager@org.test")
        self.worker = self.make_user("worker@org.test")
        for user, role in ((self.manager, Role.MANAGER), (self.worker, Role.WORKER)):
            Membership.objects.create(
                organization=self.org, user=user, role=role, modules=["finance"], is_default=True
            )
        self.team = Team.objects.create(organization=self.org, name="Ops")
        self.as_admin = self.token_client(self.admin)
        self.as_manager = self.token_client(self.manager)
        self.as_worker = self.token_client(self.worker)
        self.other_admin = self.make_user("admin@other.test")
        self.other = organization_create(name="Other", actor=self.other_admin)
        self.other_team = Team.objects.create(organization=self.other, name="Theirs")
        self.as_other = self.token_client(self.other_admin)

    def create(self, client=None, **body):
        """POST a rule (expenses this month above 10,000 unless told otherwise)."""
        data = {"name": "Expenses", "source": "expense", "threshold": "10000.00"} | body
        return (client or self.as_admin).post(API, data, format="json")

    def test_a_rule_is_created_with_its_defaults_and_recipients(self):
        response = self.create(users=[str(self.manager.pk)], teams=[str(self.team.pk)])
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["measure"], "sum")
        self.assertEqual(body["date_field"], "date")
        self.assertEqual(body["period"], "this_month")
        self.assertIsNone(body["period_length"])
        self.assertEqual(body["comparison"], "above")
        self.assertEqual(body["threshold"], "10000.00")
        self.assertEqual(body["users"], [str(self.manager.pk)])
        self.assertEqual(body["teams"], [str(self.team.pk)])
        self.assertEqual(body["state"], "ok")
        self.assertIsNone(body["last_value"])
        self.assertTrue(body["enabled"])
        self.assertEqual(body["filters"], {})
        self.assertEqual(self.as_admin.get(f"{API}{body['id']}/").json(), body)

    def test_a_count_source_defaults_to_its_first_measure(self):
        response = self.create(
            source="tasks",
            date_field="due_date",
            period="before_today",
            filters={"status": ["todo", "in_progress", "blocked"]},
            threshold="20",
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["measure"], "count")
        self.assertEqual(body["filters"], {"status": ["blocked", "in_progress", "todo"]})
        self.assertEqual(body["threshold"], "20.00")

    def test_the_figure_must_be_one_the_metrics_engine_offers(self):
        cases = [
            ({"source": "nothing"}, "source"),
            ({"measure": "weighted"}, "measure"),
            ({"source": "tasks", "measure": "sum"}, "measure"),
            ({"date_field": "due_date"}, "date_field"),
            ({"filters": {"colour": "red"}}, "filters"),
            ({"filters": {"category": "not-a-uuid"}}, "filters"),
            ({"period": "last_hours", "period_length": 1}, "period"),
            ({"period": "last_days"}, "period_length"),
            ({"period": "last_days", "period_length": 367}, "period_length"),
            ({"period": "this_month", "period_length": 3}, "period_length"),
            ({"period_length": 0, "period": "last_days"}, "period_length"),
            ({"comparison": "equal"}, "comparison"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                self.assert_problem(self.create(**body), 400, field=field)
        self.assertFalse(AlertRule.objects.exists())

    def test_thresholds_are_exact_decimals(self):
        for threshold in ("10.001", "NaN", "Infinity", "", "ten", True, None):
            with self.subTest(threshold=threshold):
                self.assert_problem(self.create(threshold=threshold), 400, field="threshold")
        response = self.create(threshold="-500.05", source="profit")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["threshold"], "-500.05")
        self.assertEqual(AlertRule.objects.get().threshold, Decimal("-500.05"))

    def test_recipients_of_another_organization_are_refused_like_missing_ones(self):
        outsider = self.make_user("nobody@else.test")
        for body, field in (
            ({"users": [str(self.other_admin.pk)]}, "users"),
            ({"users": [str(outsider.pk)]}, "users"),
            ({"teams": [str(self.other_team.pk)]}, "teams"),
        ):
            with self.subTest(body=body):
                self.assert_problem(self.create(**body), 400, field=field)
        made = self.create().json()
        response = self.as_admin.patch(
            f"{API}{made['id']}/", {"teams": [str(self.other_team.pk)]}, format="json"
        )
        self.assert_problem(response, 400, field="teams")

    def test_a_manager_without_the_sources_module_neither_creates_nor_sees_its_rules(self):
        membership = Membership.objects.get(user=self.manager, organization=self.org)
        membership.modules = ["tasks"]
        membership.save()
        self.assert_problem(self.create(self.as_manager), 400, field="source")
        made = self.create().json()
        self.assert_problem(self.as_manager.get(f"{API}{made['id']}/"), 404)
        self.assertEqual(self.as_manager.get(API).json()["count"], 0)
        tasks = self.create(self.as_manager, source="tasks", threshold="5")
        self.assertEqual(tasks.status_code, 201, tasks.content)

    def test_workers_have_no_access_at_all(self):
        made = self.create().json()
        self.assert_problem(self.as_worker.get(API), 403)
        self.assert_problem(self.create(self.as_worker), 403)
        self.assert_problem(self.as_worker.get(f"{API}{made['id']}/firings/"), 403)
        self.assert_problem(self.as_worker.post(f"{API}{made['id']}/check/"), 403)

    def test_check_computes_the_figure_and_fires_once(self):
        made = self.create(users=[str(self.manager.pk)]).json()
        expense(self.org, "10000.01")
        url = f"{API}{made['id']}/check/"
        first = self.as_manager.post(url)
        self.assertEqual(first.status_code, 200, first.content)
        body = first.json()
        self.assertEqual(body["value"], "10000.01")
        self.assertEqual(body["threshold"], "10000.00")
        self.assertTrue(body["crossing"])
        self.assertEqual(body["state"], "firing")
        self.assertEqual(body["fired"]["value"], "10000.01")
        self.assertIsNone(body["cleared"])
        again = self.as_manager.post(url).json()
        self.assertEqual(again["state"], "firing")
        self.assertIsNone(again["fired"])
        self.assertEqual(AlertFiring.objects.count(), 1)
        shown = self.as_admin.get(f"{API}{made['id']}/").json()
        self.assertEqual(shown["state"], "firing")
        self.assertEqual(shown["last_value"], "10000.01")

    def test_firings_are_listed_newest_first_and_paginated(self):
        made = self.create().json()
        alert = AlertRule.objects.get(pk=made["id"])
        big = expense(self.org, "20000.00")
        check_alerts()
        big.delete()
        check_alerts()
        expense(self.org, "30000.00")
        check_alerts()
        body = self.as_admin.get(f"{API}{made['id']}/firings/", {"page_size": 1}).json()
        self.assertEqual(body["count"], 2)
        (newest,) = body["results"]
        self.assertEqual(newest["value"], "30000.00")
        self.assertIsNone(newest["cleared_at"])
        self.assertEqual(newest["rule"], str(alert.pk))
        older = self.as_admin.get(body["next"]).json()["results"][0]
        self.assertEqual(older["value"], "20000.00")
        self.assertEqual(older["cleared_value"], "0.00")

    def test_another_organizations_rule_its_firings_and_check_are_404(self):
        made = self.create().json()
        expense(self.org, "20000.00")
        check_alerts()
        for response in (
            self.as_other.get(f"{API}{made['id']}/firings/"),
            self.as_other.post(f"{API}{made['id']}/check/"),
            self.as_other.get(f"{API}{made['id']}/"),
        ):
            self.assert_problem(response, 404)
        self.assertEqual(self.as_other.get(API).json()["count"], 0)
        self.assertEqual(AlertFiring.objects.count(), 1)

    def test_the_list_filters_by_state_source_and_enabled(self):
        self.create(name="a")
        self.create(name="b", source="income", enabled=False)
        expense(self.org, "20000.00")
        check_alerts()
        names = lambda **q: [r["name"] for r in self.as_admin.get(API, q).json()["results"]]  # noqa: E731
        self.assertEqual(names(state="firing"), ["a"])
        self.assertEqual(names(source="income"), ["b"])
        self.assertEqual(names(enabled="false"), ["b"])
        self.assert_problem(self.as_admin.get(API, {"source": "nothing"}), 400)
