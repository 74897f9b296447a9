"""Tests of ``make bench``'s harness: a tiny end-to-end run, and the parts that read figures.

The run is small (a few hundred rows, two iterations, no load) so the harness cannot break
silently; the figures it prints mean nothing at that size.
"""

import io
import re
import unittest
from unittest import mock

from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase, override_settings

from valar.core.testing import ApiTestCase
from valar.core.testing.worker import database_url, worker_unavailable_reason
from valar.finance import bench as finance_bench
from valar.finance.models import Document
from valar.ops import bench
from valar.organizations.models import Organization
from valar.support import bench as support_bench
from valar.tasks.bench import SCALE_PREFIX

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8105/api/v1/tasks/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    48.11ms   20.07ms 256.03ms   81.52%
    Req/Sec   168.02     31.17   250.00     70.00%
  Latency Distribution
     50%   44.93ms
     75%   55.60ms
     90%   69.90ms
     99%    1.12s
  1675 requests in 5.01s, 23.51MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:    334.41
Transfer/sec:      4.69MB
"""


class BenchJobsRowTests(ApiTestCase):
    """The jobs row says it is skipped, and why, where no real worker can run."""

    def test_the_jobs_row_is_skipped_with_its_reason_without_a_broker(self):
        reason = worker_unavailable_reason()
        if reason is None:
            self.skipTest("a real worker can run here: make bench measures the row")
        out = io.StringIO()
        call_command("bench", only="jobs", jobs=5, stdout=out)
        self.assertIn(f"jobs: skipped: {reason}", out.getvalue())


class BenchCommandTests(ApiTestCase):
    """``manage.py bench`` runs every suite end to end on a tiny data set."""

    def test_a_tiny_run_prints_every_table_and_computes_the_verdicts(self):
        out = io.StringIO()
        call_command(
            "bench",
            rows=200,
            ledger_rows=300,
            invoices=300,
            insights_tasks=100,
            insights_deals=50,
            iterations=2,
            warmup=1,
            organizations=14,
            no_load=True,
            # The fan-out row serves the bench database from another process, which cannot
            # see this test's uncommitted rows.
            fanout_rounds=0,
            chat_messages=0,
            chat_rounds=0,
            jobs=0,
            screening_entries=50,
            screening_subjects=20,
            stdout=out,
        )
        text = out.getvalue()
        for title in ("task list:", "leads:", "customers:", "deals:", "transactions:", "invoices:"):
            self.assertIn(f"\n{title}", text)
        # Each list's floor answers what Valar answers, and Valar's own count is explained.
        self.assertEqual(
            text.count("floor answers the same count, page length and fields as Valar: yes"), 6
        )
        self.assertEqual(len(re.findall(r"Valar count: index-only scan (yes|no)", text)), 6)
        self.assertEqual(len(re.findall(r"Valar page: +index-only scan (yes|no)", text)), 6)
        self.assertIn("invoices: /api/v1/finance/invoices/?page_size=25 (300 issued invoices", text)
        self.assertIn("count cache: this list keeps no count in the cache", text)
        # Receivables: the API's figures were checked equal to the raw GROUP BY's (it raises
        # otherwise), cold and warm.
        self.assertIn("\nreceivables aging: GET /api/v1/insights/receivables/ over ", text)
        for row in ("(r1) raw SQL: GROUP BY customer", "(r2) Valar", "(r3) Valar"):
            self.assertIn(row, text)
        self.assertIn("the API's figures equal the raw GROUP BY's exactly", text)
        self.assertIn("with 10 vs 14 organizations", text)
        self.assertIn("phases 10, 14, 10 again", text)
        self.assertFalse(Organization.objects.filter(slug__startswith=SCALE_PREFIX).exists())
        if bench.count_cache_available():
            self.assertIn("count cache on", text)
        else:
            self.assertEqual(text.count("count cache: not available in this build"), 5)
        targets = text[text.index("\ntarget") :]
        verdicts = re.findall(r"(pass|FAIL|n/a)$", targets, re.MULTILINE)
        self.assertEqual(len(verdicts), 14)
        # The screening rows: quality scored alone and through the pipeline, and throughput.
        self.assertIn("labelled pairs (tests/data/quality_pairs.csv)", text)
        self.assertIn("  pipeline: tp ", text)
        self.assertIn("screening subjects/s against", targets)
        self.assertIn("--no-load", targets)
        # The bulk row: 1,000 ledger entries through bulk/ beside one raw INSERT of them.
        self.assertIn("bulk create: 1,000 ledger entries in one request", text)
        self.assertIn("bulk create of 1,000 entries: SQL statements", targets)


class BenchReceivablesTests(ApiTestCase):
    """The receivables rows report a figure only for the answer the raw GROUP BY gives."""

    def setUp(self):
        super().setUp()
        self.organizations = [
            Organization.objects.create(name=slug, slug=slug)
            for slug in finance_bench.ORGANIZATIONS
        ]
        finance_bench.seed_invoices(self.organizations, 400, stdout=io.StringIO())

    def test_the_floor_and_the_api_agree_on_every_figure(self):
        cases = finance_bench.receivables_cases(self.organizations[0])
        figures = finance_bench.receivables_agree(cases)
        open_invoices = Document.objects.filter(
            organization=self.organizations[0],
            type=Document.Type.INVOICE,
            status__in=finance_bench.OPEN,
        )
        self.assertEqual(figures["invoices"], open_invoices.count())
        self.assertEqual(
            sum(bucket["invoices"] for bucket in figures["buckets"]), len(open_invoices)
        )
        self.assertEqual(len(figures["customers"]), 20)

    def test_an_answer_that_differs_from_the_floor_raises(self):
        cases = finance_bench.receivables_cases(self.organizations[0])
        with (
            mock.patch("valar.finance.selectors.RECEIVABLE_CUSTOMERS", 10),
            self.assertRaisesRegex(RuntimeError, r"cold \(cache miss\) differs .*'customers'"),
        ):
            finance_bench.receivables_agree(cases)


class BenchPartsTests(SimpleTestCase):
    """The parsing and the verdicts the bench's report rests on."""

    def test_wrk_output_gives_rate_percentiles_and_every_error(self):
        figures = bench.parse_wrk(WRK_OUTPUT)
        self.assertEqual(figures["requests/s"], 334.41)
        self.assertAlmostEqual(figures["p50"], 44.93)
        self.assertAlmostEqual(figures["p99"], 1120.0)
        self.assertEqual(figures["non2xx"], 7)
        self.assertEqual(
            figures["socket_errors"], {"connect": 0, "read": 3, "write": 0, "timeout": 2}
        )
        self.assertEqual(figures["errors"], 12)

    def test_wrk_output_without_errors_counts_zero_and_a_failed_run_says_so(self):
        clean = re.sub(r"  (Socket errors|Non-2xx)[^\n]*\n", "", WRK_OUTPUT)
        self.assertEqual(bench.parse_wrk(clean)["errors"], 0)
        self.assertIn("error", bench.parse_wrk("unable to connect to 127.0.0.1:8105"))

    def test_verdicts_come_from_the_measured_value(self):
        self.assertEqual(bench.Target("t", "<= 2", 2.0, bench.at_most(2)).verdict, "pass")
        self.assertEqual(bench.Target("t", "<= 2", 2.01, bench.at_most(2)).verdict, "FAIL")
        self.assertEqual(bench.Target("t", ">= 300", 299, bench.at_least(300)).verdict, "FAIL")
        self.assertEqual(bench.Target("t", ">= 300", None, bench.at_least(300)).verdict, "n/a")

    def test_the_count_and_the_page_are_picked_from_a_request_s_statements(self):
        statements = [
            'SELECT "accounts_user"."id" FROM "accounts_user" WHERE "accounts_user"."id" = 1',
            'SELECT COUNT(*) AS "__count" FROM "tasks_task" WHERE "tasks_task"."status" = 1',
            'SELECT "tasks_task"."id" FROM "tasks_task" ORDER BY 1 LIMIT 25',
        ]
        self.assertEqual(bench.count_and_page(statements, "tasks_task"), tuple(statements[1:]))
        self.assertEqual(bench.count_and_page(statements[:1], "tasks_task"), (None, None))

    def test_rounds_combine_as_medians_with_every_error_and_failed_run_counted(self):
        run = bench.parse_wrk(WRK_OUTPUT) | {"warm": {"1": 20, "2": 20}, "loadavg": 1.0}
        faster = run | {"requests/s": 400.0, "p99": 80.0, "errors": 0, "socket_errors": {}}
        combined = bench.combine_rounds([run, faster, {"error": "did not start"}])
        self.assertEqual(combined["requests/s"], (334.41 + 400.0) / 2)
        self.assertEqual(combined["rounds"], [334.41, 400.0])
        self.assertEqual(combined["errors"], 12 + 0 + 1)
        self.assertEqual(combined["failed"], "did not start")
        self.assertEqual(bench.combine_rounds([{"error": "x"}]), {"error": "x"})


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: the chat's server process cannot see an in-memory SQLite test database",
)
class BenchSupportRowsTests(TransactionTestCase):
    """The support chat rows, tiny, on real servers: the chat and the bare consumer."""

    def test_both_servers_deliver_every_message_once_in_order_and_give_figures(self):
        out = io.StringIO()
        # The servers use the in-memory channel layer (each server's sockets are all its own):
        # no Redis needed, and they stop at once (channels-redis keeps a closed socket's
        # consumer until its blocking pop times out, up to 5 s).
        figures = support_bench.measure(
            ports="0-0",
            messages=5,
            rounds=2,
            stdout=out,
            env={"DATABASE_URL": database_url(), "REDIS_URL": ""},
            warmup_messages=1,
            warmup_rounds=1,
            listeners=10,
        )
        self.assertNotIn("error", figures, figures)
        for name in ("baseline", "support"):
            row = figures[name]
            self.assertEqual(set(row["problems"].values()), {0}, (name, row))
            self.assertEqual(row["errors"], [], name)
            self.assertEqual(len(row["problems"]), 4)
            self.assertEqual(row["deliveries"], 2 * 10)
            for key in ("pair_p50", "pair_p95", "rate", "fan_p50", "last_p95"):
                self.assertGreater(row[key], 0, (name, key))


class BenchSupportPartsTests(SimpleTestCase):
    """The checks and the bare consumer the support rows rest on."""

    # Channels closes old database connections around each consumer event (no query).
    databases = {"default"}

    def test_a_socket_s_numbers_are_checked_for_loss_duplicates_and_order(self):
        check = support_bench.order_problems
        self.assertEqual(set(check([1, 2, 3], range(1, 4)).values()), {0})
        problems = check([1, 3, 3, 2, 9], range(1, 5))
        self.assertEqual(
            dict(problems), {"lost": 1, "duplicated": 1, "unexpected": 1, "out_of_order": 1}
        )

    @override_settings(
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    )
    def test_the_bare_consumer_numbers_what_it_receives_for_its_whole_group(self):
        from valar.ops.bench_asgi import application

        channel_layers.backends.clear()
        self.addCleanup(channel_layers.backends.clear)

        async def scenario():
            """Two sockets of one group: one sends, both get it numbered 1."""
            sockets = [WebsocketCommunicator(application, "/ws/bench/chat/ab12/") for _ in (1, 2)]
            for socket in sockets:
                connected, _ = await socket.connect()
                self.assertTrue(connected)
                self.assertEqual(await socket.receive_json_from(), {"type": "hello"})
            await sockets[0].send_json_to({"type": "message.send", "text": "hi"})
            for socket in sockets:
                event = await socket.receive_json_from()
                self.assertEqual(event["message"], {"seq": 1, "text": "hi"})
            for socket in sockets:
                await socket.disconnect()

        async_to_sync(scenario)()

    def test_the_production_routes_never_reach_the_bare_consumer(self):
        from valar.core.sockets import NotFoundConsumer
        from valar.routing import websocket_urlpatterns

        matched = next(
            route.resolve("ws/bench/chat/ab12/")
            for route in websocket_urlpatterns
            if route.resolve("ws/bench/chat/ab12/")
        )
        self.assertIs(matched.func.consumer_class, NotFoundConsumer)
