"""Prometheus metrics of the service (prometheus-client), and how ``/metrics`` is rendered.

What is counted, where:

- every HTTP request, by route template (the URL pattern that matched, never the raw path),
  method and status, with its latency and its number of database statements
  (:func:`observe_request`, called by ``core.middleware.RequestTelemetryMiddleware``);
- cache lookups, counted in process by the code that makes them (:data:`REDIS_HIT` ...
  in ``core.rediscache``, :func:`count_entries` in ``core.entries``): no extra round trip;
- figures computed when Prometheus scrapes (business gauges, later jobs and queue depth):
  the functions registered with :func:`register_scrape_collector`, run by the process that
  answers the scrape; the built-in one counts organizations and users with SQL ``COUNT``.

Several worker processes (gunicorn): prometheus-client's multiprocess mode. When
``PROMETHEUS_MULTIPROC_DIR`` is set before this module is imported, every process writes its
counters to memory-mapped files in that directory and a scrape of any process sums them all
(:func:`render`); the server command empties the directory when it starts, and gunicorn's
``child_exit`` hook (``deploy/gunicorn.conf.py``) marks a dead worker's live gauges. Without
the variable (one process: ``make run``, tests) the metrics live in the process's registry.

Extension points for the parts that are not built yet:

- jobs by kind and state, Celery queue depth: a function ``collect() -> Iterable[Metric]``
  registered with :func:`register_scrape_collector` (SQL ``COUNT ... GROUP BY`` over the job
  table, the broker's queue length), computed per scrape like the business gauges;
- open WebSocket connections: :func:`websocket_opened` / :func:`websocket_closed` from the
  consumer base class (a gauge summed over live processes).
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from functools import lru_cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

# No ``*_created`` series: Prometheus does not need them and they double the output.
disable_created_metrics()

#: Media type of the exposition format.
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Whether the metrics live in files shared by several processes (see the module doc).
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

#: Methods counted by name; any other is counted as ``other`` (no label per invented verb).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request no URL pattern matched (a 404, a static file).
UNMATCHED = "<unmatched>"

HTTP_REQUESTS = Counter(
    "valar_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "valar_http_request_duration_seconds",
    "Time from the request reaching Django to its response (a streamed body not included).",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_DB_QUERIES = Histogram(
    "valar_http_request_db_queries",
    "Database statements run while answering one request.",
    ["route", "method"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)
CACHE_LOOKUPS = Counter(
    "valar_cache_lookups",
    "Cache lookups by cache and result. cache=redis: keys read from Redis (hit, miss, or "
    "error when Redis did not answer); cache=entries_process: user and membership entries "
    "found (hit) or not (miss) in the process's own copy; cache=entries: those entries valid "
    "(hit, from the process or Redis) or missing (miss: read from the database).",
    ["cache", "result"],
)
LOG_LINES_DROPPED = Counter(
    "valar_log_lines_dropped",
    "Log lines dropped because the writing thread was too far behind (core.logs).",
)
WEBSOCKET_CONNECTIONS = Gauge(
    "valar_websocket_connections",
    "Open WebSocket connections, by route (summed over the live processes).",
    ["route"],
    multiprocess_mode="livesum",
)

# Children bound once, so that counting a lookup is one increment and no label lookup.
REDIS_HIT = CACHE_LOOKUPS.labels("redis", "hit")
REDIS_MISS = CACHE_LOOKUPS.labels("redis", "miss")
REDIS_ERROR = CACHE_LOOKUPS.labels("redis", "error")
_PROCESS_HIT = CACHE_LOOKUPS.labels("entries_process", "hit")
_PROCESS_MISS = CACHE_LOOKUPS.labels("entries_process", "miss")
_ENTRY_HIT = CACHE_LOOKUPS.labels("entries", "hit")
_ENTRY_MISS = CACHE_LOOKUPS.labels("entries", "miss")

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@lru_cache(maxsize=1024)
def route_template(pattern: str) -> str:
    """A resolver's route pattern as a URL template: ``/api/v1/tasks/{pk}/``.

    Regex groups and path converters become ``{name}``; anchors go. The patterns are the
    project's own (a bounded set), so the answers are cached.
    """
    text = _GROUP.sub(r"{\1}", pattern)
    text = _CONVERTER.sub(r"{\1}", text)
    text = text.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + text.lstrip("/")


def route_of(request) -> str:
    """The route template of ``request``, or :data:`UNMATCHED` when no pattern matched."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return UNMATCHED
    return route_template(match.route)


def observe_request(route: str, method: str, status: int, seconds: float, queries: int) -> None:
    """Count one answered request: its status, latency and database statements."""
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)
    HTTP_DB_QUERIES.labels(route, method).observe(queries)


def count_entries(process_hits: int, process_misses: int, hits: int, misses: int) -> None:
    """Count the outcome of one read of cache entries (``core.entries.fetch``)."""
    if process_hits:
        _PROCESS_HIT.inc(process_hits)
    if process_misses:
        _PROCESS_MISS.inc(process_misses)
    if hits:
        _ENTRY_HIT.inc(hits)
    if misses:
        _ENTRY_MISS.inc(misses)


def websocket_opened(route: str) -> None:
    """Count a WebSocket connection accepted on ``route`` (the consumer's route template)."""
    WEBSOCKET_CONNECTIONS.labels(route).inc()


def websocket_closed(route: str) -> None:
    """Count a WebSocket connection on ``route`` closed (whatever closed it)."""
    WEBSOCKET_CONNECTIONS.labels(route).dec()


#: Functions run at every scrape, each yielding prometheus-client metric families.
_SCRAPE_COLLECTORS: dict[str, Callable[[], Iterable[Metric]]] = {}
_SCRAPE_LOCK = threading.Lock()


def register_scrape_collector(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """Run ``collect()`` at every scrape of ``/metrics`` and expose what it yields.

    For figures that are read, not counted: they are computed by the process that answers
    the scrape, so they are right however many processes there are. ``collect`` yields
    ``prometheus_client.core`` metric families (``GaugeMetricFamily`` ...); it must be cheap
    (SQL ``COUNT``, a queue length). An exception in it is reported as the metric
    ``valar_scrape_collector_errors`` for ``name``, never a failed scrape. Registering the
    same ``name`` again replaces the function (an app's ``ready()`` may run twice in tests).

    Example, for the jobs app::

        def collect_jobs():
            family = GaugeMetricFamily("valar_jobs", "Jobs by kind and state.",
                                       labels=["kind", "state"])
            for row in Job.objects.values("kind", "state").annotate(n=Count("id")):
                family.add_metric([row["kind"], row["state"]], row["n"])
            yield family

        telemetry.register_scrape_collector("jobs", collect_jobs)
    """
    with _SCRAPE_LOCK:
        _SCRAPE_COLLECTORS[name] = collect


def unregister_scrape_collector(name: str) -> None:
    """Stop running the scrape collector ``name`` (tests)."""
    with _SCRAPE_LOCK:
        _SCRAPE_COLLECTORS.pop(name, None)


class _ScrapeCollectors:
    """The registered scrape-time functions as one prometheus-client collector."""

    def collect(self) -> Iterable[Metric]:
        """Run every registered function; report the ones that failed and how long all took."""
        with _SCRAPE_LOCK:
            collectors = list(_SCRAPE_COLLECTORS.items())
        errors = GaugeMetricFamily(
            "valar_scrape_collector_errors",
            "1 when the scrape-time collector failed during this scrape.",
            labels=["collector"],
        )
        started = time.perf_counter()
        for name, collect in collectors:
            try:
                families = list(collect())
            except Exception:  # noqa: BLE001  one failing source must not fail the scrape
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors
        yield GaugeMetricFamily(
            "valar_scrape_collectors_seconds",
            "Time the scrape-time collectors took during this scrape.",
            value=time.perf_counter() - started,
        )


def _scrape_registry() -> CollectorRegistry:
    """What a scrape exposes: the counted metrics (this process's, or every process's) and
    the scrape-time figures."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(_ScrapeCollectors())
    return registry


class _ProcessRegistry:
    """The process's default registry (its counters, and process and GC metrics)."""

    def collect(self) -> Iterable[Metric]:
        """Everything the default registry holds."""
        return REGISTRY.collect()


def render() -> bytes:
    """The exposition text of every metric (see the module doc for several processes)."""
    return generate_latest(_scrape_registry())
