"""gunicorn's configuration for Valar: Prometheus metrics summed over every worker process.

Used by the ``Dockerfile``'s command (``gunicorn -c deploy/gunicorn.conf.py ...``). It puts
prometheus-client in multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` (``var/prometheus`` unless
set) is set before the application is imported and emptied when the server starts (the files
of a previous run would be added to this one's counters); each worker writes its metrics
there and ``/metrics``, on any worker, answers the sum. When a worker exits, ``child_exit``
removes its share of the live gauges (open WebSocket connections), as prometheus-client asks.
"""

import os
from pathlib import Path

_DIRECTORY = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", str(Path(__file__).resolve().parent.parent / "var/prometheus")
    )
)
# Once per server: gunicorn reads this file again on a reload (HUP), when the workers' files
# must stay.
if not os.environ.get("VALAR_METRICS_DIR_READY"):
    _DIRECTORY.mkdir(parents=True, exist_ok=True)
    for stale in _DIRECTORY.glob("*.db"):
        stale.unlink()
    os.environ["VALAR_METRICS_DIR_READY"] = "1"


def child_exit(server, worker) -> None:
    """A worker has exited: drop its live gauges from the sums (prometheus-client's hook)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
