"""The metrics engine over the finance sources: validation, buckets, measures, the cache."""

import datetime
from decimal import Decimal
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from valar.core.metrics import MetricsError, run
from valar.core.metrics import engine as metrics_engine
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.finance.models import Kind
from valar.finance.tests.support import API, category, entry
from valar.organizations.models import Team

CENT = Decimal("0.01")


class EngineTestCase(TenantFixtureMixin, ApiTestCase):
    """An organization with income and expense categories and two teams."""

    module = "finance"

    def setUp(self):
        super().setUp()
        self.sales = category(self.org, name="Sales")
        self.fees = category(self.org, name="Fees")
        self.rent = category(self.org, name="Rent", kind=Kind.EXPENSE)
        self.north = Team.objects.create(organization=self.org, name="North")
        self.south = Team.objects.create(organization=self.org, name="South")

    def run_spec(self, **spec):
        """Run an income sum query unless ``spec`` says otherwise."""
        spec = {"source": "income", "measure": "sum", **spec}
        return run(organization=self.org, spec=spec)

    def assert_refused(self, spec, *fields):
        """``spec`` is a :class:`MetricsError` naming each of ``fields``."""
        with self.assertRaises(MetricsError) as caught:
            run(organization=self.org, spec=spec)
        error = caught.exception
        self.assertEqual((error.status, error.code), (400, "invalid_query"))
        for field in fields:
            self.assertIn(field, error.errors, error.errors)
            self.assertTrue(error.errors[field][0])
        return error


VALID = {"source": "income", "start_date": "2026-01-01", "end_date": "2026-01-31"}


class EngineValidationTests(EngineTestCase):
    """Each invalid spec is refused with the field at fault."""

    def test_a_valid_spec_is_echoed_back_normalised(self):
        document = run(
            organization=self.org,
            spec={
                **VALID,
                "start_date": datetime.date(2026, 1, 1),
                "filters": {"team": [str(self.south.pk), str(self.north.pk)]},
            },
        )
        expected = {
            "source": "income",
            "measure": "sum",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "interval": None,
            "group_by": None,
            "filters": {"team": sorted([str(self.south.pk), str(self.north.pk)])},
        }
        self.assertEqual({key: document["query"].get(key) for key in expected}, expected)
        self.assertTrue(document["generated_at"].endswith("Z"))
        self.assertEqual(document["currency"], "USD")

    def test_a_spec_that_is_not_an_object_is_refused(self):
        self.assert_refused(["income"], "query")

    def test_an_unknown_source_is_refused_with_the_known_ones_listed(self):
        error = self.assert_refused({**VALID, "source": "revenue"}, "source")
        for name in ("income", "expense", "profit"):
            self.assertIn(name, error.errors["source"][0])
        self.assert_refused(
            {key: value for key, value in VALID.items() if key != "source"}, "source"
        )

    def test_an_unknown_measure_is_refused_and_profit_has_only_sum(self):
        self.assert_refused({**VALID, "measure": "median"}, "measure")
        for measure in ("count", "avg", "min", "max"):
            with self.subTest(measure=measure):
                self.assert_refused({**VALID, "source": "profit", "measure": measure}, "measure")

    def test_an_unknown_group_by_is_refused(self):
        self.assert_refused({**VALID, "group_by": "color"}, "group_by")
        self.assert_refused({**VALID, "group_by": "category__name"}, "group_by")

    def test_an_unknown_filter_dimension_or_a_bad_filter_value_is_refused(self):
        self.assert_refused({**VALID, "filters": {"colour": "x"}}, "filters")
        self.assert_refused({**VALID, "filters": {"team": {"id": 1}}}, "filters")
        self.assert_refused({**VALID, "filters": {"team": []}}, "filters")
        self.assert_refused({**VALID, "filters": {"team": [None]}}, "filters")
        self.assert_refused({**VALID, "filters": ["team"]}, "filters")

    def test_an_unknown_key_is_refused_by_name(self):
        self.assert_refused({**VALID, "limit": 10, "order": "asc"}, "limit", "order")

    def test_an_unknown_interval_is_refused(self):
        self.assert_refused({**VALID, "interval": "fortnight"}, "interval")

    def test_an_end_before_the_start_is_refused_on_end_date(self):
        self.assert_refused({**VALID, "start_date": "2026-02-01"}, "end_date")

    def test_bad_or_missing_dates_are_refused_on_their_field(self):
        for bad in ("2026-02-30", "01/02/2026", "2026-1-1x", "", None, 20260101):
            with self.subTest(date=bad):
                self.assert_refused({**VALID, "start_date": bad}, "start_date")
                self.assert_refused({**VALID, "end_date": bad}, "end_date")
        self.assert_refused({"source": "income"}, "start_date", "end_date")

    def test_a_day_interval_covers_at_most_five_years(self):
        start = datetime.date(2020, 1, 1)
        longest = start + datetime.timedelta(days=5 * 366)
        spec = {"source": "income", "start_date": start, "interval": "day"}
        document = run(organization=self.org, spec={**spec, "end_date": longest})
        self.assertEqual(len(document["labels"]), 5 * 366 + 1)
        self.assert_refused({**spec, "end_date": longest + datetime.timedelta(days=1)}, "interval")

    def test_longer_ranges_are_allowed_at_coarser_intervals(self):
        document = self.run_spec(start_date="2016-01-01", end_date="2025-12-31", interval="month")
        self.assertEqual(len(document["labels"]), 120)

    def test_several_errors_are_reported_together(self):
        self.assert_refused(
            {"source": "income", "measure": "median", "start_date": "x", "end_date": "2026-01-01"},
            "measure",
            "start_date",
        )

    def test_the_summary_refuses_a_bad_interval_group_by_or_range_with_a_400(self):
        client = self.clients[Role.ADMIN]
        summary = f"{API}summary/"
        cases = [
            ({"interval": "fortnight"}, "interval"),
            ({"group_by": "color"}, "group_by"),
            ({"start_date": "2026-02-30"}, "start_date"),
            ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
            ({"start_date": "2016-01-01", "end_date": "2026-01-01"}, "end_date"),
        ]
        for params, field in cases:
            with self.subTest(params=params):
                self.assert_problem(client.get(summary, params), 400, field=field)


class EngineIntervalTests(EngineTestCase):
    """Each interval's bucket labels, edges included; dates outside the range are left out."""

    def record(self, *days_and_amounts):
        for day, amount in days_and_amounts:
            entry(self.org, self.sales, amount, day)

    def series(self, **spec):
        document = self.run_spec(**spec)
        return document["labels"], document["series"][0]["data"]

    def test_day_labels_are_dates_and_cross_a_leap_day(self):
        self.record(("2024-02-28", "1.00"), ("2024-02-29", "2.00"), ("2024-03-02", "4.00"))
        labels, data = self.series(start_date="2024-02-27", end_date="2024-03-01", interval="day")
        self.assertEqual(labels, ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"])
        self.assertEqual(data, ["0.00", "1.00", "2.00", "0.00"])

    def test_week_labels_are_mondays_and_cross_the_year_boundary(self):
        self.record(
            ("2025-12-29", "100.00"),  # Monday of the first week, but before the range
            ("2025-12-31", "1.00"),
            ("2026-01-04", "2.00"),  # Sunday: still the week of Dec 29
            ("2026-01-05", "4.00"),  # Monday: the next week
            ("2026-01-14", "8.00"),
            ("2026-01-15", "16.00"),  # after the range
        )
        labels, data = self.series(start_date="2025-12-31", end_date="2026-01-14", interval="week")
        self.assertEqual(labels, ["2025-12-29", "2026-01-05", "2026-01-12"])
        self.assertEqual(data, ["3.00", "4.00", "8.00"])
        for label in labels:
            self.assertEqual(datetime.date.fromisoformat(label).weekday(), 0)

    def test_a_53rd_iso_week_starts_in_the_old_year(self):
        self.record(("2021-01-03", "1.00"), ("2021-01-04", "2.00"))
        labels, data = self.series(start_date="2021-01-01", end_date="2021-01-04", interval="week")
        self.assertEqual(labels, ["2020-12-28", "2021-01-04"])
        self.assertEqual(data, ["1.00", "2.00"])

    def test_month_labels_cross_the_year_and_a_leap_february(self):
        self.record(("2024-01-31", "1.00"), ("2024-02-29", "2.00"), ("2024-03-01", "4.00"))
        labels, data = self.series(start_date="2023-12-15", end_date="2024-03-01", interval="month")
        self.assertEqual(labels, ["2023-12", "2024-01", "2024-02", "2024-03"])
        self.assertEqual(data, ["0.00", "1.00", "2.00", "4.00"])

    def test_quarter_labels_and_their_first_and_last_days(self):
        self.record(
            ("2025-03-31", "1.00"),
            ("2025-04-01", "2.00"),
            ("2025-06-30", "4.00"),
            ("2025-09-30", "8.00"),
            ("2025-10-01", "16.00"),
        )
        labels, data = self.series(
            start_date="2025-03-31", end_date="2025-10-01", interval="quarter"
        )
        self.assertEqual(labels, ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"])
        self.assertEqual(data, ["1.00", "6.00", "8.00", "16.00"])

    def test_year_labels_and_their_edges(self):
        self.record(
            ("2024-12-31", "1.00"),
            ("2025-01-01", "2.00"),
            ("2025-12-31", "4.00"),
            ("2026-01-01", "8.00"),
        )
        labels, data = self.series(start_date="2024-12-31", end_date="2026-01-01", interval="year")
        self.assertEqual(labels, ["2024", "2025", "2026"])
        self.assertEqual(data, ["1.00", "6.00", "8.00"])

    def test_without_an_interval_there_is_one_bucket_named_by_the_range(self):
        self.record(("2023-12-31", "1.00"), ("2024-01-01", "2.00"), ("2024-12-31", "4.00"))
        labels, data = self.series(start_date="2024-01-01", end_date="2024-12-31")
        self.assertEqual(labels, ["2024-01-01..2024-12-31"])
        self.assertEqual(data, ["6.00"])

    def test_the_organizations_timezone_does_not_shift_date_buckets(self):
        self.record(
            ("2026-01-31", "1.00"),
            ("2026-02-01", "2.00"),
            ("2026-02-28", "4.00"),
            ("2026-03-01", "8.00"),
        )
        for zone in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"):
            with self.subTest(zone=zone):
                self.org.timezone = zone
                self.org.save()
                months = self.series(
                    start_date="2026-01-31", end_date="2026-03-01", interval="month"
                )
                self.assertEqual(
                    months, (["2026-01", "2026-02", "2026-03"], ["1.00", "6.00", "8.00"])
                )
                labels, days = self.series(
                    start_date="2026-01-31", end_date="2026-02-01", interval="day"
                )
                self.assertEqual((labels, days), (["2026-01-31", "2026-02-01"], ["1.00", "2.00"]))

    def test_each_query_is_one_sql_statement(self):
        self.record(("2026-01-05", "1.00"), ("2026-02-05", "2.00"))
        spec = {
            "source": "profit",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "interval": "month",
            "group_by": "category",
            "filters": {"team": [str(self.north.pk)]},
        }
        with CaptureQueriesContext(connection) as queries:
            run(organization=self.org, spec=spec, use_cache=False)
        self.assertEqual(len(queries), 1)
        self.assertIn("GROUP BY", queries[0]["sql"].upper())


class EngineMeasureTests(EngineTestCase):
    """Sum, count, average, minimum and maximum against values computed in the test."""

    AMOUNTS = {
        "2026-01-03": ["1.00", "2.00", "4.00"],
        "2026-02-14": ["10.10", "0.20"],
    }

    def setUp(self):
        super().setUp()
        for day, amounts in self.AMOUNTS.items():
            for amount in amounts:
                entry(self.org, self.sales, amount, day)
        entry(self.org, self.rent, "999.99", "2026-01-03")
        entry(self.other, category(self.other), "555.55", "2026-01-03")
        self.months = [[Decimal(a) for a in amounts] for amounts in self.AMOUNTS.values()]
        self.everything = [value for month in self.months for value in month]

    def measure(self, measure):
        document = self.run_spec(
            measure=measure, start_date="2026-01-01", end_date="2026-03-31", interval="month"
        )
        self.assertEqual(document["labels"], ["2026-01", "2026-02", "2026-03"])
        return document

    @staticmethod
    def money(value):
        return str(value.quantize(CENT))

    def test_sum_is_exact_per_bucket_and_in_total(self):
        document = self.measure("sum")
        expected = [self.money(sum(month)) for month in self.months]
        self.assertEqual(document["series"][0]["data"], [*expected, "0.00"])
        self.assertEqual(document["totals"], {"income": self.money(sum(self.everything))})

    def test_count_counts_rows_and_fills_empty_buckets_with_zero(self):
        document = self.measure("count")
        self.assertEqual(document["series"][0]["data"], [3, 2, 0])
        self.assertEqual(document["totals"], {"income": 5})
        self.assertIsNone(document["currency"])

    def test_avg_is_the_mean_of_the_rows_not_of_the_buckets(self):
        document = self.measure("avg")
        expected = [self.money(sum(month) / len(month)) for month in self.months]
        self.assertEqual(expected, ["2.33", "5.15"])
        self.assertEqual(document["series"][0]["data"], [*expected, None])
        overall = sum(self.everything) / len(self.everything)
        self.assertEqual(document["totals"], {"income": self.money(overall)})
        self.assertEqual(document["totals"]["income"], "3.46")
        self.assertEqual(document["currency"], "USD")

    def test_min_and_max_are_per_bucket_with_none_for_empty_ones(self):
        low, high = self.measure("min"), self.measure("max")
        self.assertEqual(
            low["series"][0]["data"], [self.money(min(m)) for m in self.months] + [None]
        )
        self.assertEqual(
            high["series"][0]["data"], [self.money(max(m)) for m in self.months] + [None]
        )
        self.assertEqual(low["totals"], {"income": "0.20"})
        self.assertEqual(high["totals"], {"income": "10.10"})

    def test_a_period_without_rows_fills_every_bucket(self):
        spec = {"start_date": "2025-01-01", "end_date": "2025-03-31", "interval": "month"}
        expected = {
            "sum": (["0.00"] * 3, "0.00"),
            "count": ([0] * 3, 0),
            "avg": ([None] * 3, None),
            "min": ([None] * 3, None),
            "max": ([None] * 3, None),
        }
        for measure, (data, total) in expected.items():
            with self.subTest(measure=measure):
                document = self.run_spec(measure=measure, **spec)
                self.assertEqual(document["labels"], ["2025-01", "2025-02", "2025-03"])
                self.assertEqual(
                    document["series"], [{"name": "income", "key": None, "data": data}]
                )
                self.assertEqual(document["totals"], {"income": total})

    def test_expense_and_profit_use_their_own_rows(self):
        spec = {"start_date": "2026-01-01", "end_date": "2026-01-31"}
        self.assertEqual(self.run_spec(source="expense", **spec)["totals"], {"expense": "999.99"})
        profit = sum(self.months[0]) - Decimal("999.99")
        self.assertEqual(
            self.run_spec(source="profit", **spec)["totals"], {"profit": self.money(profit)}
        )


class EngineFilterAndGroupTests(EngineTestCase):
    """Filters by category and team; one series per group, named by the group."""

    def setUp(self):
        super().setUp()
        entry(self.org, self.sales, "0.10", "2026-01-05", team=self.north)
        entry(self.org, self.sales, "0.20", "2026-02-05", team=self.south)
        entry(self.org, self.fees, "1000.10", "2026-01-06", team=self.north)
        entry(self.org, self.fees, "5.00", "2026-02-06")
        entry(self.org, self.rent, "50.00", "2026-01-07", team=self.north)
        self.spec = {"start_date": "2026-01-01", "end_date": "2026-02-28", "interval": "month"}

    def test_a_category_filter_keeps_that_categorys_rows(self):
        document = self.run_spec(filters={"category": str(self.fees.pk)}, **self.spec)
        self.assertEqual(document["series"][0]["data"], ["1000.10", "5.00"])
        both = self.run_spec(
            filters={"category": [str(self.fees.pk), str(self.sales.pk)]}, **self.spec
        )
        self.assertEqual(both["series"][0]["data"], ["1000.20", "5.20"])

    def test_a_team_filter_keeps_that_teams_rows_across_sources(self):
        north = {"team": str(self.north.pk)}
        income = self.run_spec(filters=north, **self.spec)
        self.assertEqual(income["series"][0]["data"], ["1000.20", "0.00"])
        profit = self.run_spec(source="profit", filters=north, **self.spec)
        self.assertEqual(profit["series"][0]["data"], ["950.20", "0.00"])

    def test_filters_combine_with_and(self):
        document = self.run_spec(
            filters={"team": str(self.north.pk), "category": str(self.sales.pk)}, **self.spec
        )
        self.assertEqual(document["totals"], {"income": "0.10"})

    def test_group_by_category_names_each_series_by_the_category_in_order(self):
        document = self.run_spec(group_by="category", **self.spec)
        self.assertEqual(
            document["series"],
            [
                {"name": "Fees", "key": str(self.fees.pk), "data": ["1000.10", "5.00"]},
                {"name": "Sales", "key": str(self.sales.pk), "data": ["0.10", "0.20"]},
            ],
        )
        self.assertEqual(document["totals"], {"Fees": "1005.10", "Sales": "0.30"})

    def test_group_by_team_puts_entries_without_a_team_last_as_none(self):
        document = self.run_spec(group_by="team", **self.spec)
        names = [(series["name"], series["key"]) for series in document["series"]]
        self.assertEqual(
            names, [("North", str(self.north.pk)), ("South", str(self.south.pk)), ("None", None)]
        )
        self.assertEqual(document["totals"], {"North": "1000.20", "South": "0.20", "None": "5.00"})

    def test_group_by_created_by_names_series_by_email(self):
        entry(self.org, self.sales, "1.00", "2026-01-09", created_by=self.users[Role.WORKER])
        document = self.run_spec(group_by="created_by", **self.spec)
        self.assertEqual(document["totals"], {"worker@org.test": "1.00", "None": "1005.40"})

    def test_a_group_without_rows_in_the_range_has_no_series(self):
        document = self.run_spec(
            group_by="category", start_date="2025-01-01", end_date="2025-01-31", interval="month"
        )
        self.assertEqual((document["series"], document["totals"]), ([], {}))

    def test_another_organizations_rows_never_count(self):
        theirs = category(self.other, name="Sales")
        entry(self.other, theirs, "777.00", "2026-01-05")
        filtered = self.run_spec(filters={"category": str(theirs.pk)}, **self.spec)
        self.assertEqual(filtered["totals"], {"income": "0.00"})
        self.assertEqual(self.run_spec(**self.spec)["totals"], {"income": "1005.40"})


class EngineCacheTests(EngineTestCase):
    """A second identical run is a cache hit; any ledger write makes the next run fresh."""

    SPEC = {"source": "income", "start_date": "2026-01-01", "end_date": "2026-01-31"}

    def setUp(self):
        super().setUp()
        self.admin = self.clients[Role.ADMIN]
        self.first = entry(self.org, self.sales, "1.00", "2026-01-05")
        patcher = mock.patch.object(metrics_engine, "_compute", wraps=metrics_engine._compute)
        self.compute = patcher.start()
        self.addCleanup(patcher.stop)

    def total(self, spec=None, organization=None):
        document = run(organization=organization or self.org, spec=spec or self.SPEC)
        return next(iter(document["totals"].values()), None)

    def warm(self):
        """Run the spec twice: one computation, then a hit answering the same document."""
        before = self.compute.call_count
        first = run(organization=self.org, spec=self.SPEC)
        second = run(organization=self.org, spec=self.SPEC)
        self.assertEqual(self.compute.call_count, before + 1)
        self.assertEqual(first, second)
        return first["totals"]["income"]

    def test_a_second_identical_run_is_served_from_the_cache(self):
        self.assertEqual(self.warm(), "1.00")
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.total(), "1.00")
        self.assertEqual(len(queries), 0)
        self.assertEqual(self.compute.call_count, 1)

    def test_an_equivalent_spec_hits_the_same_entry_and_a_different_one_does_not(self):
        self.warm()
        self.total({**self.SPEC, "measure": "sum", "interval": "", "filters": {}})
        self.assertEqual(self.compute.call_count, 1)
        self.total({**self.SPEC, "measure": "count"})
        self.assertEqual(self.compute.call_count, 2)

    def test_use_cache_false_always_computes(self):
        self.warm()
        run(organization=self.org, spec=self.SPEC, use_cache=False)
        self.assertEqual(self.compute.call_count, 2)

    def test_creating_an_entry_makes_the_next_run_fresh(self):
        self.warm()
        body = {
            "title": "x",
            "amount": "0.20",
            "date": "2026-01-06",
            "category": str(self.sales.pk),
        }
        self.assertEqual(self.admin.post(f"{API}incomes/", body, format="json").status_code, 201)
        self.assertEqual(self.total(), "1.20")
        self.assertEqual(self.compute.call_count, 2)

    def test_updating_an_entry_makes_the_next_run_fresh(self):
        self.warm()
        response = self.admin.patch(
            f"{API}incomes/{self.first.pk}/", {"amount": "1.10"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.total(), "1.10")
        self.assertEqual(self.compute.call_count, 2)

    def test_deleting_an_entry_makes_the_next_run_fresh(self):
        self.warm()
        self.assertEqual(self.admin.delete(f"{API}incomes/{self.first.pk}/").status_code, 204)
        self.assertEqual(self.total(), "0.00")
        self.assertEqual(self.compute.call_count, 2)

    def test_an_expense_write_makes_the_next_income_and_profit_runs_fresh(self):
        profit = {**self.SPEC, "source": "profit"}
        self.assertEqual(self.total(profit), "1.00")
        self.warm()
        body = {"title": "x", "amount": "0.40", "date": "2026-01-06", "category": str(self.rent.pk)}
        self.assertEqual(self.admin.post(f"{API}expenses/", body, format="json").status_code, 201)
        calls = self.compute.call_count
        self.assertEqual(self.total(profit), "0.60")
        self.assertEqual(self.total(), "1.00")
        self.assertEqual(self.compute.call_count, calls + 2)

    def test_reassigning_a_categorys_entries_makes_the_next_run_fresh(self):
        spec = {**self.SPEC, "group_by": "category"}
        run(organization=self.org, spec=spec)
        self.assertEqual(run(organization=self.org, spec=spec)["totals"], {"Sales": "1.00"})
        self.assertEqual(self.compute.call_count, 1)
        response = self.admin.delete(f"{API}categories/{self.sales.pk}/?reassign_to={self.fees.pk}")
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(run(organization=self.org, spec=spec)["totals"], {"Fees": "1.00"})
        self.assertEqual(self.compute.call_count, 2)

    def test_each_organization_has_its_own_cached_answers(self):
        self.warm()
        entry(self.other, category(self.other), "9.00", "2026-01-05")
        self.assertEqual(self.total(organization=self.other), "9.00")
        self.assertEqual(self.compute.call_count, 2)
        self.assertEqual(self.total(), "1.00")
        self.assertEqual(self.compute.call_count, 2)
