"""The benchmark harness behind ``make bench``: timing, SQL capture, plans, load runs, targets.

Apps contribute their rows in ``valar/<app>/bench.py`` (a ``seed()`` and ``cases()``); this
module measures the cases interleaved in one run, so every row sees the same machine state,
captures the SQL statements a Valar request sends and explains them, drives real servers with
``wrk`` once every worker has answered, serves ASGI applications for the socket rows
(:func:`asgi_server`), and checks the measured figures against the targets.
"""

import concurrent.futures
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

#: The response header the bench-only server entry points add (``valar.ops.bench_server``).
WORKER_HEADER = "X-Bench-Worker"


@dataclass
class Case:
    """One row of the table: a name and a call that does one request's worth of work.

    ``before`` runs before every timed call, outside the timing (a change elsewhere, say).
    """

    name: str
    call: Callable[[], object]
    note: str = ""
    before: Callable[[], object] | None = None
    timings: list[float] = field(default_factory=list)
    queries: int | None = None
    statements: list[str] = field(default_factory=list)
    #: A floor's count statement and its parameters (what its plan line explains).
    floor_count: tuple[str, list] | None = None

    def percentile(self, q: float) -> float:
        """The ``q`` percentile of the timings, in milliseconds."""
        ordered = sorted(self.timings)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1000

    @property
    def p50(self) -> float:
        """Median time in milliseconds."""
        return statistics.median(self.timings) * 1000

    @property
    def p95(self) -> float:
        """95th percentile in milliseconds."""
        return self.percentile(0.95)


def _run(case: Case) -> None:
    """One untimed call of ``case`` (with its ``before``)."""
    if case.before is not None:
        case.before()
    case.call()


def measure(cases: list[Case], *, iterations: int, warmup: int = 20) -> None:
    """Time every case ``iterations`` times, interleaved in a fresh random order each round.

    The SQL statements of each case are captured on one call after the warm-up, so they are
    the steady state's (caches filled), the statements every timed call sends.
    """
    for _ in range(warmup):
        for case in cases:
            _run(case)
    for case in cases:
        if case.before is not None:
            case.before()
        with CaptureQueriesContext(connection) as captured:
            case.call()
        case.statements = [query["sql"] for query in captured.captured_queries]
        case.queries = len(case.statements)
    for _ in range(iterations):
        order = cases[:]
        random.shuffle(order)
        for case in order:
            if case.before is not None:
                case.before()
            started = time.perf_counter()
            case.call()
            case.timings.append(time.perf_counter() - started)


# -- plans ----------------------------------------------------------------------------------

JOIN = re.compile(r"\bJOIN\b", re.IGNORECASE)
PLAN_JOIN = re.compile(r"\b(Nested Loop(?: \w+ Join)?|Hash(?: \w+)? Join|Merge(?: \w+)? Join)\b")


@dataclass
class Explained:
    """What the database does with one statement: its plan and the facts the table shows."""

    sql: str
    plan: str
    joins: int
    index_only: bool
    uses_index: bool
    seq_scan: bool
    seq_tables: tuple[str, ...] = ()
    time_ms: float | None = None
    buffers: str = ""

    @property
    def join_nodes(self) -> list[str]:
        """The plan's join nodes (``Hash Join``, ``Nested Loop``, ``Merge Join``), in order."""
        return PLAN_JOIN.findall(self.plan)

    def summary(self) -> str:
        """``index-only scan yes, joins 0, seq scan no, 0.41 ms, shared hit=12``."""
        seq = "yes" if self.seq_scan else "no"
        if self.seq_tables:
            seq = "on " + ", ".join(self.seq_tables)
        parts = [
            f"index-only scan {'yes' if self.index_only else 'no'}",
            f"index used {'yes' if self.uses_index else 'no'}",
            f"seq scan {seq}",
            f"joins {self.joins}",
        ]
        if self.time_ms is not None:
            # PostgreSQL drops a LEFT JOIN nothing reads; the plan says which joins remain.
            parts[-1] += f" in the SQL, {len(self.join_nodes)} in the plan"
        if self.time_ms is not None:
            parts.append(f"{self.time_ms:.2f} ms in the database")
        if self.buffers:
            parts.append(f"buffers {self.buffers}")
        return ", ".join(parts)


def explain(sql: str, params=()) -> Explained:
    """Explain ``sql`` (with ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL: it runs it).

    ``joins`` counts the JOINs the statement itself spells, subqueries included; the plan
    shows whether the database answers it from an index alone.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params or None)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            executed = re.search(r"Execution Time: ([\d.]+) ms", plan)
            buffers = re.search(r"Buffers: (shared [^\n]*)", plan)
            return Explained(
                sql=sql,
                plan=plan,
                joins=len(JOIN.findall(sql)),
                index_only="Index Only Scan" in plan,
                uses_index=bool(re.search(r"Index (Only )?Scan|Bitmap Index Scan", plan)),
                seq_scan="Seq Scan" in plan,
                seq_tables=tuple(dict.fromkeys(re.findall(r"Seq Scan on (\w+)", plan))),
                time_ms=float(executed.group(1)) if executed else None,
                buffers=buffers.group(1).strip() if buffers else "",
            )
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params or None)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        return Explained(
            sql=sql,
            plan=plan,
            joins=len(JOIN.findall(sql)),
            index_only="USING COVERING INDEX" in plan,
            uses_index="USING INDEX" in plan or "USING COVERING INDEX" in plan,
            seq_scan=bool(re.search(r"\bSCAN \w+$", plan, re.MULTILINE)),
        )


def explain_uses_index(sql: str, params) -> tuple[bool, str]:
    """Whether the database answers ``sql`` from an index, and its plan."""
    explained = explain(sql, params)
    return explained.uses_index, explained.plan


def count_and_page(statements: list[str], table: str) -> tuple[str | None, str | None]:
    """Pick, from a request's captured statements, the list's count and its page on ``table``.

    The count is the ``COUNT(*)`` that reads ``table``; the page is the statement selecting
    from ``table`` with a ``LIMIT``.
    """
    count = page = None
    quoted = f'FROM "{table}"'
    for sql in statements:
        if "COUNT(" in sql.upper() and table in sql and count is None:
            count = sql
        elif quoted in sql and re.search(r"\bLIMIT\b", sql, re.IGNORECASE) and page is None:
            page = sql
    return count, page


def compiled(queryset: QuerySet) -> tuple[str, list]:
    """The SQL and parameters of ``queryset``."""
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def floor_case(
    name: str,
    *,
    page: QuerySet,
    count: QuerySet,
    render: Callable[[tuple], dict],
    next_url: str | None,
) -> Case:
    """The raw-SQL floor of a list: its page of rows and its count, JSON written by hand.

    ``page`` is a ``.values()`` queryset of the page (its SQL is compiled once and run raw);
    ``count`` is the filtered queryset the count needs (no joins); ``render`` turns one row
    tuple into the list's output object, as a hand-written endpoint would.
    """
    page_sql, page_params = compiled(page)
    count_sql, count_params = compiled(count.values("pk").order_by())
    count_sql = f"SELECT COUNT(*) FROM ({count_sql}) counted"

    def call():
        with connection.cursor() as cursor:
            cursor.execute(page_sql, page_params)
            results = [render(row) for row in cursor.fetchall()]
            cursor.execute(count_sql, count_params)
            total = cursor.fetchone()[0]
        return json.dumps(
            {"count": total, "next": next_url, "previous": None, "results": results},
            default=str,
        ).encode()

    return Case(name, call, floor_count=(count_sql, count_params))


def columns_floor(
    name: str,
    *,
    filtered: QuerySet,
    page: QuerySet | None = None,
    ordering: tuple[str, ...],
    columns: list[tuple[str, str]],
    next_url: str | None,
    size: int = 25,
) -> Case:
    """A :func:`floor_case` whose rows are plain columns: ``(output key, values path)`` pairs.

    ``filtered`` is what the count reads; ``page`` (``filtered`` by default) may add the
    annotations the list shows.
    """
    keys = [key for key, _ in columns]
    rows = (page if page is not None else filtered).order_by(*ordering)
    return floor_case(
        name,
        page=rows.values_list(*[path for _, path in columns])[:size],
        count=filtered,
        render=lambda row: dict(zip(keys, row, strict=True)),
        next_url=next_url,
    )


#: The setting that turns the optional list count cache on (``LIST_COUNT_CACHE``).
COUNT_CACHE_SETTING = "LIST_COUNT_CACHE"


def count_cache_available() -> bool:
    """Whether this build has the list count cache (its setting exists)."""
    from django.conf import settings

    return hasattr(settings, COUNT_CACHE_SETTING)


def count_cache_case(name: str, client, url: str) -> Case | None:
    """``url`` with the count cache on, or ``None`` when this build has no count cache.

    The setting is switched on around each call only, so the other rows of the same run are
    measured without it.
    """
    from django.conf import settings

    if not count_cache_available():
        return None
    plain = get_case(name, client, url)

    def call():
        before = getattr(settings, COUNT_CACHE_SETTING)
        setattr(settings, COUNT_CACHE_SETTING, True)
        try:
            return plain.call()
        finally:
            setattr(settings, COUNT_CACHE_SETTING, before)

    return Case(
        name,
        call,
        note="an advantage the floor does not get: the count comes from a cache kept under "
        "the organization's data version",
    )


def same_shape(floor: Case, valar: Case) -> str:
    """Whether the floor answers what Valar answers: the same count, page length and keys."""
    mine = json.loads(floor.call())
    theirs = json.loads(valar.call().content)
    differences = [
        what
        for what, a, b in (
            ("count", mine["count"], theirs["count"]),
            ("rows", len(mine["results"]), len(theirs["results"])),
            ("keys", list(mine), list(theirs)),
            (
                "fields",
                list(mine["results"][0]) if mine["results"] else [],
                list(theirs["results"][0]) if theirs["results"] else [],
            ),
        )
        if a != b
    ]
    return "yes" if not differences else "NO (" + ", ".join(differences) + " differ)"


def get_case(name: str, client, url: str, **kwargs) -> Case:
    """A case that GETs ``url`` with ``client`` and insists on a 200."""

    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response

    return Case(name, call, **kwargs)


def list_rows(
    title: str, client, url: str, floor: Case, *, count_cache: bool = True
) -> tuple[str, list[Case]]:
    """A list's rows: its floor, Valar, and Valar with the count cache when this build has it
    (and ``count_cache``: a list that keeps no count in the cache gets no such row)."""
    path = url.split("?")[0]
    rows = [floor, get_case(f"Valar GET {path}", client, url)]
    cached = (
        count_cache_case(f"Valar GET {path}, count cache on", client, url) if count_cache else None
    )
    if cached is not None:
        rows.append(cached)
    return f"{title}: {url}", rows


def print_table(cases: list[Case], *, floor: str, out=sys.stdout) -> None:
    """Print p50/p95, the ratio to the floor and the SQL statements per request of every case."""
    base = next(case for case in cases if case.name == floor).p50
    out.write(f"{'row':<58}{'p50 ms':>9}{'p95 ms':>9}{'x floor':>9}{'SQL':>6}\n")
    for case in cases:
        out.write(
            f"{case.name:<58}{case.p50:>9.2f}{case.p95:>9.2f}"
            f"{case.p50 / base:>9.2f}{case.queries if case.queries is not None else '-':>6}\n"
        )
        if case.note:
            out.write(f"    {case.note}\n")


# -- load -----------------------------------------------------------------------------------


def free_port(start: int | None = None, end: int | None = None, taken=frozenset()) -> int:
    """A TCP port nobody listens on, in ``[start, end]`` when given, and not one of ``taken``
    (ports given to servers that may not listen yet).

    ``SO_REUSEADDR`` as the servers set it: a port whose last run's connections linger in
    ``TIME_WAIT`` is free for them.
    """
    # Without a range, the kernel picks (asked again if it picks one of ``taken``).
    candidates = range(start, end + 1) if start and end else [0] * (len(taken) + 10)
    for candidate in candidates:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port = sock.getsockname()[1]
            if port not in taken:
                return port
    raise RuntimeError(f"no free port in {start}-{end}")


def wait_for(port: int, timeout: float = 60, server: subprocess.Popen | None = None) -> None:
    """Wait until something accepts connections on ``port`` (the server must stay alive)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def stop_server(*servers: subprocess.Popen) -> None:
    """Stop servers started in their own sessions: SIGTERM to each group (all at once), then
    SIGKILL to those still running after 30 s."""
    for server in servers:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


#: The environment of the socket rows' servers: the product's settings (DEBUG off, plain HTTP
#: on loopback), throttles out of the way, errors only in the logs.
ASGI_ENV = {
    "DEBUG": "false",
    "LOCAL_HTTP": "true",
    "THROTTLE_USER": "1000000000/min",
    "THROTTLE_CHAT_MESSAGE": "1000000000/min",
    "THROTTLE_CHAT_OPEN": "1000000000/min",
    "LOG_LEVEL": "ERROR",
}


@contextlib.contextmanager
def asgi_servers(applications: list[str], *, ports: str, env: dict | None = None) -> Iterator:
    """Serve each of ``applications`` (``module:attribute``) with its own uvicorn process, all
    started at once; yield their ports, in the same order.

    The ports are free ones of ``ports`` (``"8130-8139"``; ``"0-0"``: any free ports, as the
    tests ask); the block starts once every server accepts connections, and every server's
    process group is stopped when it ends. Raises ``RuntimeError`` when a server exits or does
    not listen within 60 s.
    """
    low, high = (int(n) for n in ports.split("-"))
    servers: list[tuple[int, subprocess.Popen]] = []
    try:
        for application in applications:
            port = free_port(low, high, taken={taken for taken, _ in servers})
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                application,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--no-access-log",
            ]
            server = subprocess.Popen(
                command,
                env={**os.environ, **ASGI_ENV, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            servers.append((port, server))
        for port, server in servers:
            try:
                wait_for(port, server=server)
            except RuntimeError as exc:
                if server.poll() is not None:
                    raise RuntimeError(f"{exc}: {server.stderr.read().decode()[-500:]}") from exc
                raise
        yield [port for port, _ in servers]
    finally:
        stop_server(*(server for _, server in servers))


@contextlib.contextmanager
def asgi_server(application: str, *, ports: str, env: dict | None = None) -> Iterator[int]:
    """One server of :func:`asgi_servers`; yield its port."""
    with asgi_servers([application], ports=ports, env=env) as (port,):
        yield port


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (inclusive method; the value itself when alone)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def api_keys(users, name: str) -> list[str]:
    """A fresh API token key per user, named ``name`` (that name's earlier tokens deleted)."""
    from valar.accounts.models import ApiToken
    from valar.accounts.services import token_create

    ApiToken.objects.filter(user__in=users, name=name).delete()
    return [token_create(user=user, name=name)[1] for user in users]


def _one_request(port: int, path: str, cookie: str) -> tuple[int, str]:
    """GET ``path`` on a new connection; the status and the answering worker's pid."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader(WORKER_HEADER) or ""
    finally:
        conn.close()


def warm_workers(
    port: int, path: str, *, cookie: str, workers: int, per_worker: int = 20, timeout: float = 90
) -> dict[str, int]:
    """Send requests until each of ``workers`` worker pids has answered ``per_worker`` 200s.

    Requests go concurrently on new connections, so the kernel spreads them over the workers'
    accepts; each worker's pid comes back in the bench-only ``X-Bench-Worker`` header. Raises
    when a request fails or when the workers do not all answer within ``timeout`` seconds.
    """
    answered: dict[str, int] = {}
    deadline = time.time() + timeout
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(4, 2 * workers)) as pool:
        while True:
            ready = [pid for pid, n in answered.items() if n >= per_worker]
            if len(ready) >= workers:
                return answered
            if time.time() > deadline:
                raise RuntimeError(
                    f"only {len(ready)} of {workers} workers answered {per_worker} requests "
                    f"within {timeout:.0f} s: {answered}"
                )
            batch = pool.map(lambda _: _one_request(port, path, cookie), range(4 * workers))
            for status, pid in batch:
                if status != 200:
                    raise RuntimeError(f"warm-up request answered {status}")
                if not pid:
                    raise RuntimeError(f"the server sends no {WORKER_HEADER} header")
                answered[pid] = answered.get(pid, 0) + 1


def _milliseconds(text: str) -> float:
    """wrk's ``1.23ms`` / ``870.00us`` / ``1.02s`` as milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(text: str) -> dict:
    """requests/s, p50, p99 (ms), non-2xx responses and socket errors from wrk's output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s+50%\s+([\d.]+\w+)", text, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+\w+)", text, re.MULTILINE)
    total = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {}
    )
    if not (rps and p50 and p99):
        return {"error": "wrk gave no figures: " + text.strip()[-200:]}
    non2xx_count = int(non2xx.group(1)) if non2xx else 0
    return {
        "requests/s": float(rps.group(1)),
        "p50": _milliseconds(p50.group(1)),
        "p99": _milliseconds(p99.group(1)),
        "requests": int(total.group(1)) if total else None,
        "non2xx": non2xx_count,
        "socket_errors": socket_errors,
        "errors": non2xx_count + sum(socket_errors.values()),
    }


def wrk(url: str, *, cookie: str, seconds: int, connections: int = 16) -> dict:
    """Drive ``url`` with wrk (2 threads) and return :func:`parse_wrk`'s figures."""
    if shutil.which("wrk") is None:
        return {"error": "wrk is not installed (apt-get install wrk)"}
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(connections, 2)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_wrk(result.stdout + result.stderr)


def serve_and_load(
    command: list[str],
    *,
    port: int,
    path: str,
    cookie: str,
    seconds: int,
    env: dict,
    workers: int,
    connections: int = 16,
) -> dict:
    """Start a server, wait until every worker has answered, load it with wrk, stop it.

    Returns wrk's figures plus ``warm`` (requests each worker pid answered before the load).
    """
    if shutil.which("wrk") is None:
        return {"error": "wrk is not installed (apt-get install wrk)"}
    server = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        try:
            wait_for(port, server=server)
            warm = warm_workers(port, path, cookie=cookie, workers=workers)
        except RuntimeError as exc:
            return {"error": str(exc)}
        figures = wrk(
            f"http://127.0.0.1:{port}{path}",
            cookie=cookie,
            seconds=seconds,
            connections=connections,
        )
        figures["warm"] = warm
        # The machine's 1-minute load average at the end of the run: other jobs show here.
        figures["loadavg"] = os.getloadavg()[0]
        return figures
    finally:
        stop_server(server)


def combine_rounds(runs: list[dict]) -> dict:
    """One row's figures from several runs: medians of rate and latencies, errors summed.

    A run that produced no figures (the server did not start, a warm-up request failed) is
    named in ``failed``; a row whose runs all failed keeps the first reason as ``error``.
    """
    good = [run for run in runs if "error" not in run]
    failed = [run["error"] for run in runs if "error" in run]
    if not good:
        return {"error": failed[0] if failed else "no run"}
    sockets: dict[str, int] = {}
    for run in good:
        for kind, n in run["socket_errors"].items():
            sockets[kind] = sockets.get(kind, 0) + n
    return {
        "requests/s": statistics.median(run["requests/s"] for run in good),
        "p50": statistics.median(run["p50"] for run in good),
        "p99": statistics.median(run["p99"] for run in good),
        "rounds": [run["requests/s"] for run in good],
        "non2xx": sum(run["non2xx"] for run in good),
        "socket_errors": sockets,
        "errors": sum(run["errors"] for run in good) + len(failed),
        "loadavg": statistics.mean(run["loadavg"] for run in good),
        "workers": min(len(run["warm"]) for run in good),
        "failed": "; ".join(failed),
    }


# -- targets --------------------------------------------------------------------------------


@dataclass
class Target:
    """A figure the issue sets, the measured value, and whether it is met."""

    label: str
    goal: str
    measured: float | None
    check: Callable[[float], bool]
    unit: str = ""
    why_missing: str = ""

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, or ``n/a`` when the figure was not measured."""
        if self.measured is None:
            return "n/a"
        return "pass" if self.check(self.measured) else "FAIL"

    def shown(self) -> str:
        """The measured value as printed."""
        if self.measured is None:
            return self.why_missing or "not measured"
        if float(self.measured).is_integer() and not self.unit.startswith("x"):
            return f"{self.measured:.0f}{self.unit}"
        return f"{self.measured:.2f}{self.unit}"


def at_most(limit: float) -> Callable[[float], bool]:
    """A check that passes at or below ``limit``."""
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    """A check that passes at or above ``limit``."""
    return lambda value: value >= limit


def print_targets(targets: list[Target], out=sys.stdout) -> None:
    """The targets table: goal, measured value, verdict computed from the measurement."""
    out.write(f"\n{'target':<64}{'goal':>10}  {'measured':<32}verdict\n")
    for target in targets:
        out.write(f"{target.label:<64}{target.goal:>10}  {target.shown():<32}{target.verdict}\n")


def drop_organizations(slugs) -> None:
    """Delete benchmark organizations fast: their big tables by raw DELETEs, then the rest.

    Raw deletes send no signals, so a million ledger rows do not become a million audit rows.
    """
    from django.apps import apps

    from valar.organizations.models import Organization

    for label in (
        "crm.DealStageChange",
        "crm.Deal",
        "finance.Attachment",
        "finance.Payment",
        "finance.DocumentLine",
        "finance.Document",
        "finance.LedgerEntry",
        "tasks.Task",
        "crm.Lead",
        "crm.Customer",
        "insights.Chart",
        "insights.DashboardShare",
        "insights.Dashboard",
        "audit.AuditEvent",
    ):
        model = apps.get_model(label)
        model.objects.filter(organization__slug__in=slugs)._raw_delete(model.objects.db)
    Organization.objects.filter(slug__in=slugs).delete()


def settle() -> None:
    """Leave freshly seeded tables as autovacuum would: statistics and the visibility map.

    ``VACUUM`` cannot run inside a transaction (a test's), where only ``ANALYZE`` runs.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
