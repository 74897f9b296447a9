"""``manage.py bench``: the benchmark of ``make bench`` (see ``valar.ops.bench``)."""

import os
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from valar.crm import bench as crm_bench
from valar.finance import bench as finance_bench
from valar.insights import bench as insights_bench
from valar.jobs import bench as jobs_bench
from valar.notifications import bench as notifications_bench
from valar.ops import bench
from valar.ops.bench import Target, at_least, at_most
from valar.organizations.models import Organization
from valar.screening import bench as screening_bench
from valar.support import bench as support_bench
from valar.tasks import bench as tasks_bench

#: The lists whose count and page statements the report explains: title prefix -> table.
LIST_TABLES = {
    "tasks": "tasks_task",
    "leads": "crm_lead",
    "customers": "crm_customer",
    "deals": "crm_deal",
    "transactions": "finance_ledgerentry",
    "invoices": "finance_document",
}
#: Connections wrk keeps open (the issue's load figure is at 16).
CONNECTIONS = 16


class Command(BaseCommand):
    """Seed, time every row interleaved in one run, explain, load real servers, check targets."""

    help = "Benchmark Valar's endpoints against their SQL floors and DRF peers."

    def add_arguments(self, parser):
        """Rows to seed, iterations per row, the load run's length, which suites."""
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--ledger-rows", type=int, default=1_000_000)
        parser.add_argument(
            "--invoices",
            type=int,
            default=100_000,
            help="Issued invoices of the invoice list and receivables rows (+10%% as noise).",
        )
        parser.add_argument("--iterations", type=int, default=300)
        parser.add_argument(
            "--warmup", type=int, default=20, help="Untimed calls of every row before timing."
        )
        parser.add_argument("--load-seconds", type=int, default=10, help="wrk's run per row.")
        parser.add_argument(
            "--load-rounds", type=int, default=3, help="Runs of every load row (median reported)."
        )
        parser.add_argument("--no-load", action="store_true", help="Skip the wrk load runs.")
        parser.add_argument("--insights-tasks", type=int, default=200_000)
        parser.add_argument("--insights-deals", type=int, default=50_000)
        parser.add_argument(
            "--organizations",
            type=int,
            default=10_000,
            help="Organizations of the scale row (compared with 10); 0 skips the row.",
        )
        parser.add_argument(
            "--workers",
            default="2,3,4,5",
            help="gunicorn sync worker counts to measure (comma-separated).",
        )
        parser.add_argument(
            "--gthread",
            default="2x4,3x4,4x2",
            help="gunicorn gthread setups to measure, as WORKERSxTHREADS (comma-separated).",
        )
        parser.add_argument(
            "--ports",
            default="8105-8110",
            help="The port range the load runs' servers may listen on.",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=200,
            help="Trivial jobs of the jobs row (through a real worker; needs REDIS_URL); 0 skips.",
        )
        parser.add_argument(
            "--only",
            choices=[
                "lists",
                "scale",
                "finance",
                "insights",
                "realtime",
                "support",
                "bulk",
                "load",
                "jobs",
                "screening",
            ],
            help="One suite.",
        )
        parser.add_argument(
            "--screening-entries",
            type=int,
            default=10_000,
            help="Filler watch-list entries the screening rows search among (0 skips them).",
        )
        parser.add_argument(
            "--screening-subjects",
            type=int,
            default=1_000,
            help="Subjects the screening throughput row screens.",
        )
        parser.add_argument(
            "--fanout-rounds",
            type=int,
            default=30,
            help="Timed notifications of the realtime row (each to 50 open sockets); 0 skips it.",
        )
        parser.add_argument(
            "--chat-messages",
            type=int,
            default=400,
            help="Timed messages of the support chat's socket pair (and its baseline's); 0 skips.",
        )
        parser.add_argument(
            "--chat-rounds",
            type=int,
            default=30,
            help="Timed messages of the support chat's fan-out to 50 sockets; 0 skips it.",
        )

    def handle(self, *args, **options):
        """Run the suites, print their tables, then the targets with their verdicts."""
        self.targets: list[Target] = []
        only = options["only"]
        if only == "jobs":
            self.jobs(options)
            self.report_targets(only, options)
            return
        with override_settings(DEBUG=False):
            backend = settings.CACHES["default"]["BACKEND"]
            self.stdout.write(
                f"database: {connection.vendor}; cache: {backend}; "
                f"{os.cpu_count()} CPUs (shared: absolute figures are noisy)\n"
            )
            organization, admin = tasks_bench.seed(options["rows"], stdout=self.stdout)
            if only in (None, "lists"):
                self.lists(options, organization, admin)
            if only in (None, "scale") and options["organizations"]:
                self.scale(options, organization, admin)
            if only in (None, "finance", "insights"):
                ledger = self.finance(options)
                if only in (None, "insights"):
                    self.insights(options, ledger)
            if only in (None, "realtime") and options["fanout_rounds"]:
                self.realtime(options)
            if only in (None, "support") and (options["chat_messages"] or options["chat_rounds"]):
                self.support(options)
            if only in (None, "bulk"):
                self.bulk(options, organization, admin)
            if only in (None, "screening") and options["screening_entries"]:
                self.screening(options)
            if only in (None, "load") and not options["no_load"]:
                self.load(options, admin)
        if only is None:
            self.jobs(options)
        self.report_targets(only, options)

    # -- the lists ------------------------------------------------------------------------

    def lists(self, options, organization, admin) -> None:
        """Every list against its own floor, interleaved in one run; Valar's SQL explained."""
        out = self.stdout
        organizations = list(
            Organization.objects.filter(slug__in=tasks_bench.ORGANIZATIONS).order_by("slug")
        )
        crm_bench.seed(organizations, options["rows"], stdout=out)
        finance_bench.seed_transactions(organizations, options["rows"], stdout=out)
        tasks = tasks_bench.cases(organization, admin)
        with override_settings(ROOT_URLCONF="valar.ops.bench_urls"):
            others = [
                *crm_bench.cases(organization, admin),
                finance_bench.transaction_cases(organization, admin),
            ]
            everything = tasks + [case for _, rows in others for case in rows]
            bench.measure(everything, iterations=options["iterations"], warmup=options["warmup"])
        share = options["rows"] // len(organizations)
        out.write(
            f"\ntask list: {share} tasks in each of {len(organizations)} organizations, page of "
            f"25, status filter, ordering by due date; {options['iterations']} iterations, "
            "every row of every list interleaved in one run\n"
        )
        bench.print_table(tasks, floor=tasks[0].name, out=out)
        floor, tuned, valar = tasks[0], tasks[3], tasks[4]
        cached = tasks[5] if len(tasks) > 5 else None
        out.write(
            f"Valar / floor {valar.p50 / floor.p50:.2f}x; / tuned peer "
            f"{valar.p50 / tuned.p50:.2f}x; SQL statements {valar.queries}\n"
        )
        self.explain("tasks", floor, valar, cached)
        self.targets += [
            Target(
                "task list / its floor, no count cache",
                "<= 2.3x",
                valar.p50 / floor.p50,
                at_most(2.3),
                "x",
            ),
            self.count_cache_target(
                "task list / its floor, count cache on", "<= 2.0x", cached, floor, 2.0
            ),
            Target(
                "task list / tuned DRF peer", "<= 0.6x", valar.p50 / tuned.p50, at_most(0.6), "x"
            ),
            Target("task list: SQL statements per request", "<= 2", valar.queries, at_most(2)),
        ]
        for title, rows in others:
            out.write(f"\n{title} ({share} rows in each organization)\n")
            bench.print_table(rows, floor=rows[0].name, out=out)
            name = title.split(":")[0]
            self.explain(name, rows[0], rows[1], rows[2] if len(rows) > 2 else None)
            self.targets.append(
                Target(
                    f"{name} list / its floor",
                    "<= 2.5x",
                    rows[1].p50 / rows[0].p50,
                    at_most(2.5),
                    "x",
                )
            )

    def count_cache_target(self, label, goal, cached, floor, limit) -> Target:
        """The count-cache target, ``n/a`` when this build has no count cache."""
        if cached is None:
            return Target(
                label, goal, None, at_most(limit), why_missing="count cache not in this build"
            )
        return Target(label, goal, cached.p50 / floor.p50, at_most(limit), "x")

    def explain(self, name, floor, valar, cached, *, keeps_count=True) -> None:
        """Explain the count and page statements Valar sent (captured), and the floor's count.

        ``keeps_count``: whether the list can keep its count in the cache at all.
        """
        out = self.stdout
        table = LIST_TABLES[name]
        count_sql, page_sql = bench.count_and_page(valar.statements, table)
        out.write(f"  Valar sent {valar.queries} SQL statements:\n")
        for sql in valar.statements:
            out.write(f"    {sql[:160]}{'...' if len(sql) > 160 else ''}\n")
        if count_sql is None:
            out.write("  Valar count: no COUNT statement captured\n")
        else:
            out.write(f"  Valar count: {bench.explain(count_sql).summary()}\n")
        if page_sql is None:
            out.write("  Valar page: no page statement captured\n")
        else:
            out.write(f"  Valar page:  {bench.explain(page_sql).summary()}\n")
        if floor.floor_count is not None:
            out.write(f"  floor count: {bench.explain(*floor.floor_count).summary()}\n")
        out.write(
            "  floor answers the same count, page length and fields as Valar: "
            f"{bench.same_shape(floor, valar)}\n"
        )
        if not keeps_count:
            out.write("  count cache: this list keeps no count in the cache (no count_sources)\n")
        elif cached is None:
            out.write("  count cache: not available in this build\n")
        else:
            cached_count, _ = bench.count_and_page(cached.statements, table)
            out.write(
                f"  count cache: {cached.queries} SQL statements; count statement skipped: "
                f"{'yes' if cached_count is None else 'no'}\n"
            )

    # -- organizations at scale -----------------------------------------------------------

    def scale(self, options, organization, admin) -> None:
        """The task list with 10 organizations, with ``--organizations``, then with 10 again.

        The phases run one after the other (the organizations are added, then removed), so the
        large phase is compared with the mean of the two small ones around it: a machine that
        slows down or speeds up during the run moves both sides alike.
        """
        out = self.stdout
        iterations = max(options["iterations"] // 2, 10)
        phases = []
        plans: list[str] = []
        try:
            for total in (10, options["organizations"], 10):
                if total == 10:
                    tasks_bench.drop_scale_organizations()
                count = tasks_bench.grow_organizations(total, stdout=out)
                with override_settings(ROOT_URLCONF="valar.ops.bench_urls"):
                    cases = tasks_bench.scale_cases(organization, admin)
                    bench.measure(cases, iterations=iterations, warmup=options["warmup"])
                phases.append((count, cases))
                count_sql, _ = bench.count_and_page(cases[1].statements, LIST_TABLES["tasks"])
                if count_sql is not None:
                    plan = bench.explain(count_sql)
                    timing = f"{plan.time_ms:.2f} ms in the database, " if plan.time_ms else ""
                    joins = ", ".join(plan.join_nodes) or "none"
                    plans.append(f"{count} organizations: {timing}join nodes: {joins}")
        finally:
            tasks_bench.drop_scale_organizations()
        (few, first), (many, large), (_, again) = phases
        out.write(
            f"\ntask list with {few} vs {many} organizations (the measured organization's rows "
            f"unchanged; each added organization has a member and {tasks_bench.SCALE_TASKS} "
            f"tasks); {iterations} iterations per phase; phases {few}, {many}, {few} again, one "
            "after the other\n"
        )
        out.write(
            f"{'row':<58}{'p50 ' + str(few):>10}{'p50 ' + str(many):>12}"
            f"{'p50 ' + str(few):>10}{'ratio':>8}\n"
        )
        ratios = []
        for before, during, after in zip(first, large, again, strict=True):
            ratio = during.p50 / ((before.p50 + after.p50) / 2)
            ratios.append(ratio)
            out.write(
                f"{before.name:<58}{before.p50:>10.2f}{during.p50:>12.2f}{after.p50:>10.2f}"
                f"{ratio:>8.2f}\n"
            )
        out.write(
            f"Valar p50 ratio {ratios[1]:.2f} ({many} / the mean of the two {few} phases; the "
            f"floor's own ratio {ratios[0]:.2f} shows the machine's drift); SQL statements "
            f"{first[1].queries} -> {large[1].queries}; after a change in another organization "
            f"{first[2].queries} -> {large[2].queries}\n"
        )
        for line in plans:
            out.write(f"  Valar count with {line}\n")
        self.targets.append(
            Target(
                f"task list p50, {many} / {few} organizations",
                "<= 1.10",
                ratios[1],
                at_most(1.10),
                "x",
            )
        )

    # -- finance and insights -------------------------------------------------------------

    def finance(self, options):
        """The metrics engine against the raw GROUP BY, cold and warm; then the invoices."""
        out = self.stdout
        organization = finance_bench.seed(options["ledger_rows"], stdout=out)
        if options["only"] == "insights":
            return organization
        cases = finance_bench.cases(organization)
        bench.measure(
            cases,
            iterations=max(options["iterations"] // 3, 20),
            warmup=min(5, options["warmup"]),
        )
        out.write(
            f"\nmetrics engine, {options['ledger_rows']} ledger entries over 3 years; "
            "one year of expenses by month x category\n"
        )
        bench.print_table(cases, floor=cases[0].name, out=out)
        out.write(
            f"engine cold / raw {cases[1].p50 / cases[0].p50:.2f}x; "
            f"warm p50 {cases[2].p50:.2f} ms\n"
        )
        self.invoices(options, organization)
        return organization

    def invoices(self, options, organization) -> None:
        """The invoice list against its floor; receivables aging against a raw GROUP BY."""
        out = self.stdout
        organizations = list(
            Organization.objects.filter(slug__in=finance_bench.ORGANIZATIONS).order_by("slug")
        )
        finance_bench.seed_invoices(organizations, options["invoices"], stdout=out)
        title, rows = finance_bench.invoice_cases(organization)
        bench.measure(rows, iterations=options["iterations"], warmup=options["warmup"])
        out.write(
            f"\n{title} ({options['invoices']} issued invoices, two lines each, "
            f"+{options['invoices'] // 10} in a second organization)\n"
        )
        bench.print_table(rows, floor=rows[0].name, out=out)
        out.write(
            f"Valar / floor {rows[1].p50 / rows[0].p50:.2f}x; SQL statements {rows[1].queries} "
            f"(the floor: {rows[0].queries})\n"
        )
        self.explain("invoices", rows[0], rows[1], None, keeps_count=False)

        cases = finance_bench.receivables_cases(organization)
        finance_bench.receivables_agree(cases)  # raises unless the API answers as the floor
        bench.measure(
            cases,
            iterations=max(options["iterations"] // 3, 20),
            warmup=min(5, options["warmup"]),
        )
        figures = finance_bench.receivables_agree(cases)  # still the same answer after timing
        out.write(
            f"\nreceivables aging: GET /api/v1/insights/receivables/ over {figures['invoices']} "
            f"open invoices (sent or partly paid) of {options['invoices']} issued, due over the "
            f"past {finance_bench.AGING_DAYS} days; the ledger's {options['ledger_rows']} entries "
            "are in the same organization, but receivables reads the invoices' stored balances, "
            "not the ledger\n"
        )
        bench.print_table(cases, floor=cases[0].name, out=out)
        floor, cold, warm = cases
        out.write(
            f"cold / raw {cold.p50 / floor.p50:.2f}x; warm p50 {warm.p50:.2f} ms; SQL "
            f"statements cold {cold.queries}, warm {warm.queries}; the API's figures equal the "
            "raw GROUP BY's exactly (every bucket, total and customer; checked before and after "
            "timing, cold and warm)\n"
        )

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
        bench.measure(
            cases,
            iterations=max(options["iterations"] // 10, 10),
            warmup=min(2, options["warmup"]),
        )
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

    # -- real time ------------------------------------------------------------------------

    def realtime(self, options) -> None:
        """Notification fan-out: one send over HTTP to 50 open sockets, on uvicorn."""
        out = self.stdout
        rounds = options["fanout_rounds"]
        figures = notifications_bench.fanout(
            ports=options["ports"], rounds=rounds, warmup=3, stdout=out
        )
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        out.write(
            f"\nrealtime: POST notifications/send/ (everyone) -> 50 open ws/notifications/ "
            f"sockets, one uvicorn process, channel layer {layer}; {rounds} rounds after 3 "
            "untimed\n"
        )
        if "error" in figures:
            out.write(f"no figures: {figures['error']}\n")
        else:
            out.write(
                f"{'row':<58}{'p50 ms':>9}{'p95 ms':>9}\n"
                f"{'every delivery (' + str(figures['deliveries']) + ')':<58}"
                f"{figures['p50']:>9.2f}{figures['p95']:>9.2f}\n"
                f"{'the last of the 50 sockets, per round':<58}"
                f"{figures['last_p50']:>9.2f}{figures['last_p95']:>9.2f}\n"
            )

    def support(self, options) -> None:
        """The support chat's socket pair and 50-socket fan-out, each beside a bare consumer."""
        out = self.stdout
        messages, rounds = options["chat_messages"], options["chat_rounds"]
        figures = support_bench.measure(
            ports=options["ports"], messages=messages, rounds=rounds, stdout=out
        )
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        out.write(
            f"\nsupport chat: ws/support/chats/{{id}}/ on one uvicorn process (valar.asgi), "
            f"channel layer {layer}; baseline: a bare AsyncJsonWebsocketConsumer (group_send of "
            "what it receives; no auth, no database) on its own uvicorn process "
            "(valar.ops.bench_asgi), same layer, same clients, interleaved\n"
            f"  pair: the opener sends {messages} message.send (after "
            f"{support_bench.WARMUP_MESSAGES} untimed), each once the previous one reached both "
            "sockets; latency to the agent's socket\n"
            f"  fan-out: {rounds} rounds (after {support_bench.WARMUP_ROUNDS} untimed) of one "
            f"message.send over the opener's socket to {support_bench.LISTENERS} listening "
            f"sockets ({support_bench.AGENTS} agents x {support_bench.SOCKETS_PER_AGENT})\n"
        )
        label = "support chat: messages lost, duplicated or out of seq order"
        if "error" in figures:
            out.write(f"no figures: {figures['error']}\n")
            self.targets.append(
                Target(label, "0", None, at_most(0), why_missing=figures["error"][:30])
            )
            return
        base, chat = figures["baseline"], figures["support"]
        out.write(f"{'row':<58}{'p50 ms':>9}{'p95 ms':>9}{'msgs/s':>9}{'x baseline':>12}\n")
        rows = [
            ("pair, one message in flight", "pair_p50", "pair_p95", "rate"),
            ("fan-out to 50, every delivery", "fan_p50", "fan_p95", None),
            ("fan-out to 50, the last socket per round", "last_p50", "last_p95", None),
        ]
        for title, p50, p95, rate in rows:
            for name, row in (("baseline", base), ("support", chat)):
                if p50 not in row:
                    continue
                shown = f"{row[rate]:>9.0f}" if rate else f"{'-':>9}"
                ratio = row[p50] / base[p50] if p50 in base else float("nan")
                out.write(
                    f"{name + ' ' + title:<58}{row[p50]:>9.2f}{row[p95]:>9.2f}{shown}"
                    f"{ratio:>12.2f}\n"
                )
        if "rate" in chat and "rate" in base:
            out.write(
                f"  x baseline: the p50 ratio; the pair's messages/s are "
                f"{chat['rate'] / base['rate']:.2f}x the baseline's\n"
            )
        for name, row in (("baseline", base), ("support", chat)):
            problems = ", ".join(f"{kind} {n}" for kind, n in sorted(row["problems"].items()))
            out.write(
                f"  {name}: every socket's message numbers checked: {problems}"
                f"{'; errors: ' + '; '.join(row['errors']) if row['errors'] else ''}\n"
            )
        out.write(f"  machine load average at the end: {figures['loadavg']:.2f}\n")
        self.targets.append(Target(label, "0", sum(chat["problems"].values()), at_most(0)))

    # -- bulk writes ----------------------------------------------------------------------

    def bulk(self, options, organization, admin) -> None:
        """A bulk create of 1,000 ledger entries through the API beside one raw INSERT of them."""
        out = self.stdout
        finance_bench.seed_transactions([organization], options["rows"] // 10, stdout=out)
        cases = finance_bench.bulk_cases(organization, admin)
        iterations = max(options["iterations"] // 30, 5)
        bench.measure(cases, iterations=iterations, warmup=min(2, options["warmup"]))
        floor, valar = cases
        out.write(
            f"\nbulk create: {finance_bench.BULK_ROWS:,} ledger entries in one request, "
            f"{iterations} iterations (the entries deleted between calls, untimed)\n"
        )
        bench.print_table(cases, floor=floor.name, out=out)
        ratio = valar.p50 / floor.p50
        out.write(
            f"Valar / raw INSERT {ratio:.2f}x; {valar.p50 / finance_bench.BULK_ROWS:.3f} ms per "
            f"entry; SQL statements {valar.queries} (the floor: {floor.queries})\n"
        )
        for sql in valar.statements:
            out.write(f"    {sql[:120]}{'...' if len(sql) > 120 else ''}\n")
        self.targets.append(
            Target(
                f"bulk create of {finance_bench.BULK_ROWS:,} entries: SQL statements",
                "<= 12",
                valar.queries,
                at_most(12),
            )
        )

    # -- load -----------------------------------------------------------------------------

    def servers(self, options) -> list[tuple[str, int, Callable[[int], list[str]], dict]]:
        """The server setups to measure: label, worker processes, command(port), environment.

        Each serves ``valar.ops.bench_server`` (the real application plus the worker's pid in a
        header, so the warm-up sees every worker answer); gunicorn runs with ``--preload``.
        """
        bindir = os.path.dirname(sys.executable)

        def gunicorn(*extra: str) -> Callable[[int], list[str]]:
            return lambda port: [
                f"{bindir}/gunicorn",
                "valar.ops.bench_server:wsgi",
                "--preload",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "error",
                *extra,
            ]

        def uvicorn(workers: int) -> Callable[[int], list[str]]:
            return lambda port: [
                sys.executable,
                "-m",
                "uvicorn",
                "valar.ops.bench_server:asgi",
                "--workers",
                str(workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--no-access-log",
            ]

        setups = [
            (f"gunicorn sync --preload, {n} workers", n, gunicorn("--workers", str(n)), {})
            for n in (int(n) for n in options["workers"].split(",") if n.strip())
        ]
        for spec in (spec for spec in options["gthread"].split(",") if spec.strip()):
            workers, threads = (int(n) for n in spec.split("x"))
            setups.append(
                (
                    f"gunicorn gthread --preload, {workers} workers x {threads} threads",
                    workers,
                    gunicorn(
                        "--workers",
                        str(workers),
                        "--worker-class",
                        "gthread",
                        "--threads",
                        str(threads),
                    ),  # fmt: skip
                    {},
                )
            )
        pool = {"DATABASE_POOL": "true", "DATABASE_POOL_MAX": "4"}
        setups += [(f"uvicorn (ASGI), {n} workers, pool on", n, uvicorn(n), pool) for n in (2, 3)]
        return setups

    def load(self, options, admin) -> None:
        """Measure each server setup under wrk after warm-up; pick the production mode."""
        out = self.stdout
        client = Client()
        client.force_login(admin)
        name = settings.SESSION_COOKIE_NAME
        cookie = f"{name}={client.cookies[name].value}"
        env = {
            "DEBUG": "false",
            "LOCAL_HTTP": "false",
            "SECRET_KEY": settings.SECRET_KEY,
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "THROTTLE_USER": "1000000000/min",
            "LOG_LEVEL": "ERROR",
        }
        path = f"/api/v1/tasks/?{tasks_bench.PAGE_QUERY}"
        low, high = (int(n) for n in options["ports"].split("-"))
        seconds = options["load_seconds"]
        out.write(
            f"\nload: wrk, {CONNECTIONS} connections, 2 threads, {seconds} s per run, "
            f"{options['load_rounds']} rounds (medians shown), GET {path} (session cookie); in "
            "every run each worker answered 20 requests before the load began\n"
            "  wrk runs on the same CPUs as the server and the database, as do other jobs\n"
        )
        out.write(
            f"{'server':<68}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'loadavg':>9}"
            "  req/s per round\n"
        )

        def run(setup, extra_env=None) -> dict:
            label, workers, command, extra = setup
            port = bench.free_port(low, high)
            return bench.serve_and_load(
                command(port),
                port=port,
                path=path,
                cookie=cookie,
                seconds=seconds,
                env={**env, **extra, **(extra_env or {})},
                workers=workers,
                connections=CONNECTIONS,
            )

        setups = self.servers(options)
        rounds: dict[str, list[dict]] = {setup[0]: [] for setup in setups}
        # Round-robin: each round runs every setup once, so a machine that slows down during
        # the run weighs on every setup alike; each row reports the median of its rounds.
        for _ in range(options["load_rounds"]):
            for setup in setups:
                rounds[setup[0]].append(run(setup))
        rows = []
        for setup in setups:
            figures = bench.combine_rounds(rounds[setup[0]])
            rows.append((setup, figures))
            self.write_load_row(setup[0], figures)
        measured = [row for row in rows if "error" not in row[1]]
        if not measured:
            out.write("no load figures (see the rows above)\n")
            return
        sync = [row for row in measured if row[0][0].startswith("gunicorn")] or measured
        chosen, figures = max(
            sync,
            key=lambda row: (row[1]["errors"] == 0 and row[1]["p99"] <= 100, row[1]["requests/s"]),
        )
        fastest = max(measured, key=lambda row: row[1]["requests/s"])[0][0]
        out.write(
            f"chosen for production HTTP: {chosen[0]} (the gunicorn setup with the most req/s "
            f"among those with 0 errors and p99 <= 100 ms, else the most req/s); fastest row "
            f"overall: {fastest}\n"
        )
        self.targets += [
            Target(f"load req/s ({chosen[0]})", ">= 300", figures["requests/s"], at_least(300)),
            Target("load p99 at 16 connections", "<= 100 ms", figures["p99"], at_most(100), " ms"),
            Target("load errors (non-2xx + socket)", "0", figures["errors"], at_most(0)),
        ]
        label = f"{chosen[0]}, count cache on"
        if not bench.count_cache_available():
            out.write(f"{label}: count cache not available in this build\n")
            cached = {"error": "count cache not in this build"}
        else:
            cached = bench.combine_rounds(
                [
                    run(chosen, {bench.COUNT_CACHE_SETTING: "true"})
                    for _ in range(options["load_rounds"])
                ]
            )
            self.write_load_row(label, cached)
            out.write("  (count cache on: an advantage the floor does not get)\n")
        self.targets.append(
            Target(
                "load req/s, count cache on",
                ">= 350",
                cached.get("requests/s"),
                at_least(350),
                why_missing=cached.get("error", ""),
            )
        )

    def write_load_row(self, label: str, figures: dict) -> None:
        """One row of the load table (or the reason it has no figures)."""
        if "error" in figures:
            self.stdout.write(f"{label:<68}  {figures['error']}\n")
            return
        sockets = figures["socket_errors"]
        detail = ", ".join(f"{k} {v}" for k, v in sockets.items() if v)
        each = "/".join(f"{rate:.0f}" for rate in figures["rounds"])
        self.stdout.write(
            f"{label:<68}{figures['requests/s']:>8.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
            f"{figures['errors']:>8}{figures['loadavg']:>9.2f}  {each}; "
            f"{figures['workers']} workers warm"
            f"{'; sockets: ' + detail if detail else ''}"
            f"{'; non-2xx ' + str(figures['non2xx']) if figures['non2xx'] else ''}"
            f"{'; failed rounds: ' + figures['failed'] if figures['failed'] else ''}\n"
        )

    # -- screening ------------------------------------------------------------------------

    def screening(self, options) -> None:
        """The matcher's precision, recall and F1 on the labelled set; subjects per second."""
        out = self.stdout
        figures = screening_bench.measure(
            options["screening_entries"], options["screening_subjects"], stdout=out
        )
        out.write(
            f"\nscreening: {figures['pairs']} labelled pairs (tests/data/quality_pairs.csv) at "
            f"the default threshold {figures['threshold']:.2f}; {figures['entries']:,} entries "
            f"in one organization\n"
        )
        for name in ("scoring", "pipeline"):
            row = figures[name]
            out.write(
                f"  {name:<8}: tp {row['tp']} fp {row['fp']} fn {row['fn']} tn {row['tn']}; "
                f"precision {row['precision']:.4f} recall {row['recall']:.4f} "
                f"F1 {row['f1']:.4f}\n"
            )
        out.write(
            f"  throughput: {figures['subjects']} subjects against {figures['entries']:,} "
            f"entries: {figures['subjects_per_second']:.0f} subjects/s (candidate search + "
            f"scoring); {figures['stored_per_second']:.0f} subjects/s storing "
            f"{figures['matches_stored']} matches\n"
        )
        pipeline = figures["pipeline"]
        self.targets += [
            Target("screening F1 at the default threshold (pipeline)", ">= 0.90",
                   pipeline["f1"], at_least(0.90)),
            Target("screening recall on true pairs (pipeline)", ">= 0.95",
                   pipeline["recall"], at_least(0.95)),
            Target(f"screening subjects/s against {figures['entries']:,} entries", ">= 200",
                   figures["subjects_per_second"], at_least(200)),
        ]  # fmt: skip

    # -- jobs -----------------------------------------------------------------------------

    def jobs(self, options) -> None:
        """Trivial jobs through a real worker: jobs per second, enqueue to ``succeeded``."""
        out = self.stdout
        count = options["jobs"]
        if not count:
            out.write("\njobs: skipped (--jobs 0)\n")
            return
        figures = jobs_bench.measure(count)
        if "skipped" in figures:
            out.write(f"\njobs: skipped: {figures['skipped']}\n")
            return
        out.write(
            f"\njobs: {count} trivial jobs started in one transaction, through a real worker "
            f"({figures['worker']}, {figures['broker']} broker), timed from the first start to "
            "the last row succeeded\n"
        )
        out.write(
            f"  {figures['succeeded']}/{count} succeeded in {figures['seconds']:.2f} s: "
            f"{figures['jobs_per_second']:.0f} jobs/s"
            f"{'' if figures['finished'] else ' (timed out)'}\n"
            f"  one job alone, start to succeeded: p50 {figures['latency_p50']:.1f} ms, "
            f"p95 {figures['latency_p95']:.1f} ms\n"
        )

    # -- targets --------------------------------------------------------------------------

    def report_targets(self, only, options) -> None:
        """The issue's targets, each with the measured figure and a computed verdict."""
        if only is None and options["no_load"]:
            self.targets.append(
                Target("load (gunicorn, 16 connections)", ">= 300", None, at_least(300),
                       why_missing="--no-load")
            )  # fmt: skip
        bench.print_targets(self.targets, out=self.stdout)
