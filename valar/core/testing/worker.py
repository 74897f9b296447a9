"""A real Celery worker for tests and the benchmark: started as a process group, always stopped.

:func:`running_worker` starts ``celery -A valar worker`` on its own queue (so no other worker
on the same Redis takes its jobs, and it takes no one else's) against the database this
process uses (the test database, under a test run: the worker must see committed rows, so
callers use ``TransactionTestCase``), waits until it answers a ping, and stops the whole
process group when the block ends, whatever happened in it.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from valar.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[3]
#: Seconds a worker has to start answering pings.
START_TIMEOUT = 60


def database_url() -> str:
    """The URL of the database this process uses (PostgreSQL: the test database in tests)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}"
    )


def worker_unavailable_reason() -> str | None:
    """Why no real worker can run here (``None`` when one can)."""
    if not settings.REDIS_URL:
        return "needs REDIS_URL (a Redis broker) to start a real Celery worker"
    if connection.vendor != "postgresql":
        return "needs PostgreSQL: a worker process cannot see an in-memory SQLite test database"
    return None


def _stop(process: subprocess.Popen) -> None:
    """Stop the worker's process group: a warm shutdown first, then a kill."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_worker(
    queue: str, *, include: tuple[str, ...] = (), concurrency: int = 2
) -> Iterator[str]:
    """Run a worker on ``queue`` (importing ``include`` too); yield its node name."""
    node = f"{queue}@{os.uname().nodename}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL", "CELERY_QUEUE")
    }
    env.update(
        {
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": celery_app.conf.broker_url,
            "CELERY_QUEUE": queue,
            "DEBUG": env.get("DEBUG", "true"),
        }
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "valar",
        "worker",
        "-Q",
        queue,
        "-n",
        node,
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "-l",
        "warning",
    ]
    for module in include:
        command += ["-I", module]
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not celery_app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the Celery worker did not start:\n{log.read()[-4000:]}")
        yield node
    finally:
        _stop(process)
        log.close()
