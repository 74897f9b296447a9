"""The weighted deal measure, and charts hidden from viewers who lack their module."""

from django.utils import timezone

from valar.core.metrics import run
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.insights.models import Dashboard, DashboardShare
from valar.insights.tests.support import category, deal, entry, grant


class WeightedMeasureTests(TenantFixtureMixin, ApiTestCase):
    """``deals`` weighted by probability, exact to the cent on any database."""

    module = "crm"

    def test_the_weighted_value_is_exact(self):
        deal(self.org, "1234.56", probability=35)
        deal(self.org, "99.99", probability=10)
        deal(self.org, "10.01", probability=70)
        today = timezone.localdate().isoformat()
        spec = {"source": "deals", "measure": "weighted", "start_date": today, "end_date": today}
        document = run(organization=self.org, spec=spec)
        self.assertEqual(document["totals"], {"deals": "449.10"})
        response = self.clients[Role.ADMIN].post("/api/v1/insights/query/", spec, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["totals"], {"deals": "449.10"})


class HiddenChartTests(TenantFixtureMixin, ApiTestCase):
    """A chart over a module the viewer lacks is not reachable by its own URLs either."""

    module = "insights"

    def test_a_hidden_chart_is_404_by_id_and_by_export(self):
        sales = category(self.org, "Sales", "income")
        entry(self.org, sales, "10.00", timezone.localdate())
        dashboard = Dashboard.objects.create(
            organization=self.org, title="Money", created_by=self.users[Role.ADMIN]
        )
        today = timezone.localdate().isoformat()
        created = self.clients[Role.ADMIN].post(
            f"/api/v1/dashboards/{dashboard.pk}/charts/",
            {
                "title": "Income",
                "chart_type": "bar",
                "query": {"source": "income", "start_date": today, "end_date": today},
            },
            format="json",
        )
        self.assertEqual(created.status_code, 201, created.content)
        chart_id = created.json()["id"]
        DashboardShare.objects.create(
            organization=self.org, dashboard=dashboard, user=self.users[Role.WORKER]
        )
        grant(self.org, self.users[Role.WORKER], ["insights"])
        client = self.clients[Role.WORKER]
        base = f"/api/v1/dashboards/{dashboard.pk}/charts/{chart_id}/"
        self.assertEqual(client.get(f"/api/v1/dashboards/{dashboard.pk}/").json()["charts"], [])
        self.assert_problem(client.get(base), 404)
        self.assert_problem(client.get(f"{base}export/", {"format": "csv"}), 404)
