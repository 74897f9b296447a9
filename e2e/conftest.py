"""The console's end-to-end harness: ``make run`` once, Debian's Chromium driven by Playwright.

The server is the real one, started by :func:`valar.core.testing.server.running_server` exactly
as ``make run`` starts it (a throwaway SQLite database, a free port), with throttles raised so
a run's sign-ins and messages are not 429s. The demo client's password is unprinted, so the
demo admin sets a known one through the API (``users/{id}/reset-password/``) before any test.

The browser is ``/usr/bin/chromium`` (installed by ``.ci/run`` when missing), launched headless
by Playwright for Python, which never downloads a browser of its own here. Each test gets fresh
browser contexts (their own cookies and storage) and signs in through the console's form.
Screenshots go to ``var/screenshots/``.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from valar.core.testing.server import RAISED_THROTTLES, LiveServer, browser_session, running_server

#: Debian's chromium; Playwright is told to use it instead of a browser build of its own.
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and no connection Chromium would make by itself (this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_CLIENT_EMAIL = "client@valar.local"
#: The password the demo admin gives the demo client for the run.
DEMO_CLIENT_PASSWORD = "e2e-Client-passphrase-41"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
#: How long the console may take to show what a test waits for (a page load, a sign-in).
UI_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Account:
    """A user the tests sign in as."""

    email: str
    password: str


def csrf_headers(context: BrowserContext) -> dict[str, str]:
    """The ``X-CSRFToken`` header a browser script sends, from the context's ``csrftoken``."""
    for cookie in context.cookies():
        if cookie["name"] == "csrftoken":
            return {"X-CSRFToken": cookie["value"]}
    raise AssertionError("the context has no csrftoken cookie")


def api_get(context: BrowserContext, path: str, **params) -> object:
    """``GET /api/v1/<path>`` with the context's session; the JSON answer (must be 200)."""
    response = context.request.get(f"/api/v1/{path}", params=params or None)
    assert response.status == 200, f"GET {path}: {response.status} {response.text()}"
    return response.json()


def api_post(context: BrowserContext, path: str, data: dict, expected: int = 201) -> object:
    """``POST /api/v1/<path>`` with the context's session and CSRF token; the JSON answer."""
    response = context.request.post(f"/api/v1/{path}", data=data, headers=csrf_headers(context))
    assert response.status == expected, f"POST {path}: {response.status} {response.text()}"
    return response.json() if response.text() else None


def signed_in(context: BrowserContext, account: Account, route: str = "") -> Page:
    """A page of ``context`` signed in as ``account`` through the console's sign-in form.

    Opens ``/app/`` (with ``route``, a hash route such as ``#/inbox``), fills in the form,
    presses "Sign in" and waits until the console says it is signed in.
    """
    page = context.new_page()
    page.goto("/app/" + route)
    form = page.locator("form#signin")
    expect(form).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator('body[data-signed-in="true"]')).to_have_count(1, timeout=UI_TIMEOUT_MS)
    return page


def _set_client_password(server: LiveServer) -> None:
    """Give the demo client a known password: the demo admin resets it through the API."""
    session, headers = browser_session(server.base_url, server.email, server.password)
    api = server.base_url + "/api/v1/"
    users = session.get(api + "users/", params={"search": DEMO_CLIENT_EMAIL}, timeout=30)
    users.raise_for_status()
    (client,) = [user for user in users.json()["results"] if user["email"] == DEMO_CLIENT_EMAIL]
    response = session.post(
        api + f"users/{client['id']}/reset-password/",
        json={"password": DEMO_CLIENT_PASSWORD},
        headers=headers,
        timeout=30,
    )
    response.raise_for_status()
    session.post(api + "auth/logout/", headers=headers, timeout=30)


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    """``make run`` on a free port with a throwaway database, for the whole run."""
    with running_server(extra_env=RAISED_THROTTLES) as server:
        _set_client_password(server)
        yield server


@pytest.fixture(scope="session")
def admin(live) -> Account:
    """The demo admin (an agent of the demo organization's support inbox)."""
    return Account(live.email, live.password)


@pytest.fixture(scope="session")
def client(live) -> Account:
    """The demo portal client (role client, module support) with the run's known password."""
    return Account(DEMO_CLIENT_EMAIL, DEMO_CLIENT_PASSWORD)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole run (closed with its driver at the end)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser, live) -> Iterator[Callable[..., BrowserContext]]:
    """Make fresh browser contexts on the server (a desktop viewport unless told); all are
    closed when the test ends."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        """A new context (own cookies and storage) with ``base_url`` set to the server."""
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live.base_url, **options)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``var/screenshots/`` (the project's runtime folder, not versioned), created."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def chat_id_from(url: str) -> str:
    """The chat id at the end of a ``#/support/<id>`` or ``#/inbox/<id>`` URL."""
    match = re.search(r"#/(?:support|inbox)/([^/?#]+)$", url)
    assert match, f"not a chat URL: {url}"
    return match.group(1)
