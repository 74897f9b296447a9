"""The real server, started exactly as ``make run`` starts it, for tests that drive it over HTTP.

:func:`running_server` runs ``make run`` itself (the same settings, migrations, demo seed and
ASGI server a user gets) on a free loopback port with a throwaway SQLite database and media
folder, waits until ``/api/v1/health/`` answers, yields a :class:`LiveServer` with the base URL
and the demo admin's credentials printed once by the seed, and stops the whole process group
afterwards. Extra environment (higher throttles for a fuzz run, say) is passed through to it.
"""

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings

#: Throttles high enough that a test run's thousands of requests, sign-ins, messages and chats
#: from one client are never 429s (the live fuzz and the console's end-to-end tests).
RAISED_THROTTLES = {
    "THROTTLE_ANON": "100000/min",
    "THROTTLE_USER": "100000/min",
    "THROTTLE_LOGIN": "100000/min",
    "THROTTLE_ACCOUNT_ADMIN": "100000/min",
    "THROTTLE_CHAT_MESSAGE": "100000/min",
    "THROTTLE_CHAT_OPEN": "100000/min",
    "THROTTLE_OPERATOR": "100000/min",
}

#: Start-up covers ``make install`` (a no-op when installed), migrations and the seed.
START_TIMEOUT = float(os.environ.get("LIVE_SERVER_START_TIMEOUT", "240"))
HEALTH_PATH = "/api/v1/health/"


@dataclass
class LiveServer:
    """A running ``make run``: where it listens, the demo admin and what it printed so far."""

    base_url: str
    email: str
    password: str
    output: list[str] = field(default_factory=list)
    #: Where its database and media live (another server may share them).
    directory: Path | None = None

    def log(self) -> str:
        """Everything the server has printed so far (for assertion messages)."""
        return "".join(self.output)


def browser_session(
    base_url: str, email: str, password: str
) -> tuple[requests.Session, dict[str, str]]:
    """Sign in over HTTP as a browser does (CSRF cookie, ``auth/login/``, the rotated token).

    Returns the session (its cookies) and the headers an unsafe request of it must carry.
    """
    session = requests.Session()
    api = base_url + "/api/v1/auth/"
    csrf = session.get(api + "csrf/", timeout=30).json()["csrf_token"]
    headers = {"X-CSRFToken": csrf, "Referer": base_url + "/"}
    response = session.post(
        api + "login/", json={"email": email, "password": password}, headers=headers, timeout=30
    )
    response.raise_for_status()
    headers["X-CSRFToken"] = session.cookies.get("csrftoken", csrf)
    return session, headers


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_output(process: subprocess.Popen, output: list[str]) -> None:
    """Collect the server's combined output line by line until it exits."""
    for line in process.stdout:
        output.append(line)


def _stop(process: subprocess.Popen) -> None:
    """Stop make and the server it started (the whole process group), politely first."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=15)


def server_environment(
    directory: Path, port: int, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment ``make run`` gets: this one without what the test run set for itself.

    The database, cache and debug settings of the suite (``DATABASE_URL``, ``REDIS_URL``,
    ``DEBUG``, ``DJANGO_*``) and its test-only switches (``PYTEST_*``, ``VALAR_TEST_*``, such
    as the fast password hasher) are left out, so the server runs as ``make run`` does for a
    user; the database is a SQLite file and the media a folder in ``directory``.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "LOCAL_HTTP", "MAKEFLAGS"}
        and not key.startswith(("PYTEST_", "DJANGO_", "VALAR_TEST_"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'valar.sqlite3'}",
            "MEDIA_ROOT": str(directory / "media"),
            "LOG_DIR": str(directory / "log"),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    return env


@contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, shared_with: LiveServer | None = None
) -> Iterator[LiveServer]:
    """Run ``make run`` on a free port with a throwaway database; yield it once it answers.

    With ``shared_with``, the new server is a second process over that server's database and
    media (its seed finds the demo data there and prints nothing; the credentials are the
    first server's): what a deployment with several processes is.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="valar-live-") as own:
        directory = shared_with.directory if shared_with is not None else Path(own)
        env = server_environment(directory, port, extra_env)
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        output: list[str] = []
        reader = threading.Thread(target=_read_output, args=(process, output), daemon=True)
        reader.start()
        try:
            server = LiveServer(f"http://127.0.0.1:{port}", "", "", output, directory)
            _wait_until_ready(process, server)
            if shared_with is not None:
                server.email, server.password = shared_with.email, shared_with.password
            else:
                server.email = _printed(output, "email")
                server.password = _printed(output, "password")
            yield server
        finally:
            _stop(process)
            reader.join(timeout=5)


def _wait_until_ready(process: subprocess.Popen, server: LiveServer) -> None:
    """Poll the health endpoint until it answers 200; fail with the output otherwise."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"make run exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.base_url + HEALTH_PATH, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"make run did not answer within {START_TIMEOUT} s:\n{server.log()}")


def _printed(output: list[str], label: str) -> str:
    """A value the demo seed printed as ``label: value``."""
    match = re.search(rf"^\s*{label}:\s+(\S+)\s*$", "".join(output), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"make run printed no demo {label}:\n{''.join(output)}")
    return match.group(1)
