"""The benchmark harness behind ``make bench``: timing, query counts, plans and load runs.

Apps contribute their rows in ``valar/<app>/bench.py`` (a ``seed()`` and ``cases()``); this
module measures the cases interleaved in one run, so every row sees the same machine state,
and drives a real server with ``wrk`` for throughput.
"""

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
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Case:
    """One row of the table: a name and a call that does one request's worth of work."""

    name: str
    call: Callable[[], object]
    note: str = ""
    timings: list[float] = field(default_factory=list)
    queries: int | None = None

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


def measure(cases: list[Case], *, iterations: int, warmup: int = 20) -> None:
    """Time every case ``iterations`` times, interleaved in a fresh random order each round."""
    for case in cases:
        with CaptureQueriesContext(connection) as captured:
            case.call()
        case.queries = len(captured)
    for _ in range(warmup):
        for case in cases:
            case.call()
    for _ in range(iterations):
        order = cases[:]
        random.shuffle(order)
        for case in order:
            started = time.perf_counter()
            case.call()
            case.timings.append(time.perf_counter() - started)


def explain_uses_index(sql: str, params) -> tuple[bool, str]:
    """Whether the database answers ``sql`` from an index, and the plan's first line(s)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            return bool(re.search(r"Index (Only )?Scan|Bitmap Index Scan", plan)), plan
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        return ("USING INDEX" in plan or "USING COVERING INDEX" in plan), plan


def print_table(cases: list[Case], *, floor: str, out=sys.stdout) -> None:
    """Print p50/p95, the ratio to the floor and the queries per request of every case."""
    base = next(case for case in cases if case.name == floor).p50
    out.write(f"{'row':<44}{'p50 ms':>9}{'p95 ms':>9}{'x floor':>9}{'queries':>9}\n")
    for case in cases:
        out.write(
            f"{case.name:<44}{case.p50:>9.2f}{case.p95:>9.2f}"
            f"{case.p50 / base:>9.2f}{case.queries if case.queries is not None else '-':>9}\n"
        )


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def wrk(url: str, *, cookie: str, seconds: int, connections: int = 16) -> dict[str, str]:
    """Drive ``url`` with wrk from a second process; return requests/s, p99 and errors."""
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
    text = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"99%\s+([\d.]+\w+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {
        "requests/s": rps.group(1) if rps else "?",
        "p99": p99.group(1) if p99 else "?",
        "errors": (non2xx.group(1) if non2xx else "0")
        + (f" ({socket_errors.group(1)})" if socket_errors else ""),
    }


def serve_and_load(
    command: list[str], *, port: int, path: str, cookie: str, seconds: int, env: dict
) -> dict[str, str]:
    """Start a server with ``command``, load it with wrk, stop it, and return the figures."""
    server = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(port)
        wrk(f"http://127.0.0.1:{port}{path}", cookie=cookie, seconds=2)  # warm up
        return wrk(f"http://127.0.0.1:{port}{path}", cookie=cookie, seconds=seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


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
        "finance.LedgerEntry",
        "tasks.Task",
        "crm.Lead",
        "insights.Chart",
        "insights.DashboardShare",
        "insights.Dashboard",
        "audit.AuditEvent",
    ):
        model = apps.get_model(label)
        model.objects.filter(organization__slug__in=slugs)._raw_delete(model.objects.db)
    Organization.objects.filter(slug__in=slugs).delete()
