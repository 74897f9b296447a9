"""``manage.py bench``: the benchmark of ``make bench`` (see ``valar.ops.bench``)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from valar.finance import bench as finance_bench
from valar.insights import bench as insights_bench
from valar.ops import bench
from valar.tasks import bench as tasks_bench

TARGETS = (
    "targets: Valar p50 <= 3x floor (stretch 2.5x), <= 0.7x tuned peer, <= 0.2x naive peer, "
    "<= 5 queries; >= 400 req/s with p99 <= 60 ms and 0 errors; "
    "engine cold <= 1.3x raw, warm <= 3 ms"
)


class Command(BaseCommand):
    """Seed, time every row interleaved in one run, then load real servers with wrk."""

    help = "Benchmark Valar's endpoints against the SQL floor and DRF peers."

    def add_arguments(self, parser):
        """Rows to seed, iterations per row, the load run's length, which suites."""
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--ledger-rows", type=int, default=1_000_000)
        parser.add_argument("--iterations", type=int, default=300)
        parser.add_argument("--load-seconds", type=int, default=20)
        parser.add_argument("--no-load", action="store_true", help="Skip the wrk load runs.")
        parser.add_argument("--insights-tasks", type=int, default=200_000)
        parser.add_argument("--insights-deals", type=int, default=50_000)
        parser.add_argument(
            "--only", choices=["tasks", "finance", "insights"], help="Run one suite."
        )

    def handle(self, *args, **options):
        """Run the suites and print their tables."""
        settings.DEBUG = False
        backend = settings.CACHES["default"]["BACKEND"]
        self.stdout.write(f"database: {connection.vendor}; cache: {backend}\n")
        if options["only"] in (None, "tasks"):
            self.tasks(options)
        if options["only"] in (None, "finance", "insights"):
            organization = self.finance(options)
            if options["only"] in (None, "insights"):
                self.insights(options, organization)
        self.stdout.write(TARGETS + "\n")

    def tasks(self, options) -> None:
        """The task list against the floors and the DRF peers, then the load runs."""
        out = self.stdout
        organization, admin = tasks_bench.seed(options["rows"], stdout=out)
        with override_settings(ROOT_URLCONF="valar.ops.bench_urls"):
            cases, count_statement = tasks_bench.cases(organization, admin)
            bench.measure(cases, iterations=options["iterations"])
        out.write(
            f"\ntask list, {options['rows']} tasks in 2 organizations, page of 25, status filter, "
            f"ordering by due date; {options['iterations']} interleaved iterations\n"
        )
        bench.print_table(cases, floor=cases[0].name, out=out)
        floor, naive, tuned, valar = cases[0], cases[2], cases[3], cases[4]
        out.write(
            f"\nValar / floor {valar.p50 / floor.p50:.2f}x; / tuned peer "
            f"{valar.p50 / tuned.p50:.2f}x; / naive peer {valar.p50 / naive.p50:.2f}x; "
            f"queries {valar.queries}\n"
        )
        uses_index, plan = bench.explain_uses_index(*count_statement)
        out.write(f"count query answered from an index: {'yes' if uses_index else 'no'}\n")
        out.write("  " + plan.replace("\n", "\n  ") + "\n")
        if not options["no_load"]:
            self.load(admin, options["load_seconds"])

    def finance(self, options):
        """The metrics engine against the raw GROUP BY, cold and warm."""
        out = self.stdout
        organization = finance_bench.seed(options["ledger_rows"], stdout=out)
        if options["only"] == "insights":
            return organization
        cases = finance_bench.cases(organization)
        bench.measure(cases, iterations=max(options["iterations"] // 3, 20), warmup=5)
        out.write(
            f"\nmetrics engine, {options['ledger_rows']} ledger entries over 3 years; "
            "one year of expenses by month x category\n"
        )
        bench.print_table(cases, floor=cases[0].name, out=out)
        out.write(
            f"engine cold / raw {cases[1].p50 / cases[0].p50:.2f}x; "
            f"warm p50 {cases[2].p50:.2f} ms\n"
        )
        return organization

    def insights(self, options, organization) -> None:
        """The leaderboard against its statements raw; a 10-chart dashboard read."""
        out = self.stdout
        tenant = insights_bench.seed(
            organization,
            tasks=options["insights_tasks"],
            deals=options["insights_deals"],
            stdout=out,
        )
        cases, statements = insights_bench.cases(tenant)
        bench.measure(cases, iterations=max(options["iterations"] // 10, 10), warmup=2)
        out.write(
            f"\ninsights: leaderboard of 30 teams over {options['ledger_rows']} ledger entries, "
            f"{options['insights_tasks']} tasks, {options['insights_deals']} deals; one year\n"
        )
        bench.print_table(cases, floor=cases[0].name, out=out)
        out.write(
            f"leaderboard: {statements} SQL statements; computed / raw "
            f"{cases[1].p50 / cases[0].p50:.2f}x; dashboard read p50 {cases[2].p50:.2f} ms "
            f"in {cases[2].queries} queries\n"
        )

    def load(self, admin, seconds: int) -> None:
        """Serve the app as gunicorn (sync) and as uvicorn workers, and drive each with wrk."""
        client = Client()
        client.force_login(admin)
        name = settings.SESSION_COOKIE_NAME
        cookie = f"{name}={client.cookies[name].value}"
        env = {
            "DEBUG": "false",
            "SECRET_KEY": settings.SECRET_KEY,
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "THROTTLE_USER": "100000000/min",
            "LOG_LEVEL": "ERROR",
        }
        path = f"/api/v1/tasks/?{tasks_bench.PAGE_QUERY}"
        bindir = sys.executable.rsplit("/", 1)[0]

        def gunicorn(port):
            return [
                f"{bindir}/gunicorn",
                "valar.wsgi:application",
                "-w",
                "3",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "error",
            ]

        def uvicorn(port):
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "valar.asgi:application",
                "--workers",
                "3",
                "--port",
                str(port),
                "--log-level",
                "error",
            ]

        servers = {
            "gunicorn, 3 sync workers (WSGI)": (gunicorn, {}),
            "uvicorn, 3 workers (ASGI)": (uvicorn, {"DATABASE_POOL": "true"}),
        }
        self.stdout.write(f"\nload: wrk, 16 connections, {seconds} s, {path}\n")
        self.stdout.write(f"{'server':<36}{'req/s':>10}{'p99':>10}  errors\n")
        for label, (command, extra) in servers.items():
            port = bench.free_port()
            figures = bench.serve_and_load(
                command(port),
                port=port,
                path=path,
                cookie=cookie,
                seconds=seconds,
                env={**env, **extra},
            )
            self.stdout.write(
                f"{label:<36}{figures.get('requests/s', '-'):>10}{figures.get('p99', '-'):>10}  "
                f"{figures.get('errors', figures.get('error', ''))}\n"
            )
