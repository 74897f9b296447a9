"""The web console at ``/app/`` in headless Chromium against ``make run``.

Each test signs in through the console's form in fresh browser contexts and checks what a
person would see against what the API says: the sign-in and its errors, CSRF, the dashboards'
charts (their Chart.js data and tables against the stored documents), the chart form, a
support chat live between an agent and a client (a dropped socket included), a notification
arriving live, screenshots at desktop and phone widths, and keyboard and label access.
"""

import re
import time
import uuid

from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from e2e.conftest import (
    DESKTOP,
    PHONE,
    UI_TIMEOUT_MS,
    Account,
    api_get,
    api_post,
    csrf_headers,
    signed_in,
)

DEMO_DASHBOARD = "Business overview"
CHART_TYPES = {"bar", "line", "area", "pie", "table"}
#: A live message or notification must be on the other side within this long.
LIVE_MS = 1000


def number(value):
    """A document value as Chart.js is given it (a decimal string as a number; null stays)."""
    return None if value is None else float(value)


def open_dashboard(page: Page, name: str = DEMO_DASHBOARD) -> str:
    """Open dashboard ``name`` from the list; its id (from the URL) once its title shows."""
    page.goto("/app/#/dashboards")
    page.locator("ul#dashboard-list > li > a", has_text=name).first.click()
    expect(page).to_have_url(re.compile(r"#/dashboards/[^/]+$"))
    expect(page.locator("h1#dashboard-title")).to_have_text(name)
    return page.url.rsplit("/", 1)[1]


def drawn_charts(page: Page, count: int) -> None:
    """Wait until ``#charts`` holds ``count`` figures, every one drawn."""
    figures = page.locator("#charts figure.chart")
    expect(figures).to_have_count(count)
    for index in range(count):
        expect(figures.nth(index)).to_have_attribute("data-state", "drawn")


def chart_data(page: Page, chart_id: str) -> dict:
    """The labels and datasets Chart.js holds for the chart's canvas, and the canvas size."""
    return page.locator(f'#charts figure.chart[data-chart-id="{chart_id}"] canvas').evaluate(
        """(canvas) => {
            const chart = window.Chart.getChart(canvas);
            return {
                width: canvas.width,
                height: canvas.height,
                labels: chart ? [...chart.data.labels] : null,
                datasets: chart ? chart.data.datasets.map(
                    (set) => ({label: set.label, data: [...set.data]})) : null,
            };
        }"""
    )


def expected_chart_data(chart_type: str, document: dict) -> tuple[list, list]:
    """The labels and datasets a drawn chart must hold for the stored ``document``.

    bar, line and area: the document's labels, one dataset per series (its name, its values).
    pie: for a grouped query (``group_by``, or several series) one slice per group holding
    its total, else the labels' slices of the single series.
    """
    series = document["series"]
    if chart_type == "pie":
        if document["query"].get("group_by") or len(series) > 1:
            labels = [item["name"] for item in series]
            data = [number(document["totals"][item["name"]]) for item in series]
        else:
            labels = document["labels"]
            data = [number(value) for value in series[0]["data"]] if series else []
        return labels, [data]
    return document["labels"], [
        {"label": item["name"], "data": [number(value) for value in item["data"]]}
        for item in series
    ]


def session_cookie(context: BrowserContext) -> dict:
    """The context's ``sessionid`` cookie."""
    (cookie,) = [item for item in context.cookies() if item["name"] == "sessionid"]
    return cookie


class TestSignIn:
    """Signing in and out through the form."""

    def test_sign_in_lands_on_the_dashboards_list(self, new_context, admin):
        """The form signs the admin in; the header shows organization, bell and sign-out."""
        page = signed_in(new_context(), admin)
        expect(page).to_have_url(re.compile(r"/app/#/dashboards$"))
        expect(page.locator("ul#dashboard-list > li > a", has_text=DEMO_DASHBOARD)).to_be_visible()
        organization = page.get_by_label("Organization")
        expect(organization).to_have_id("org-select")
        expect(organization.locator("option:checked")).to_have_text("Valar Demo")
        expect(page.locator("a#bell")).to_have_attribute("href", "#/notifications")
        expect(page.locator("a#bell span#bell-count")).to_have_text(re.compile(r"^\d+$"))
        expect(page.locator("button#signout")).to_have_text("Sign out")

    def test_a_wrong_password_shows_the_apis_error(self, new_context, admin):
        """A wrong password is refused with the API's ``invalid_credentials`` detail."""
        context = new_context()
        page = context.new_page()
        page.goto("/app/")
        # The detail the API gives every failed sign-in (asked with an email that has no
        # account: the same body, and the admin's failure count is not touched twice).
        context.request.get("/api/v1/auth/csrf/")
        refused = context.request.post(
            "/api/v1/auth/login/",
            data={"email": "nobody@valar.local", "password": "wrong"},
            headers=csrf_headers(context),
        )
        assert refused.status == 400 and refused.json()["code"] == "invalid_credentials"
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(admin.password + "-wrong")
        page.get_by_role("button", name="Sign in").click()
        error = page.locator("#signin-error")
        expect(error).to_be_visible()
        expect(error).to_have_attribute("role", "alert")
        expect(error).to_contain_text(refused.json()["detail"])
        expect(page.locator('body[data-signed-in="true"]')).to_have_count(0)
        expect(page.locator("form#signin")).to_be_visible()

    def test_a_new_account_creates_its_organization_from_the_console(self, new_context):
        """Registered without an organization, a new user signs in, is offered the form
        creating one, and lands in it as its admin, with the organization picked."""
        context = new_context()
        context.request.get("/api/v1/auth/csrf/")
        account = Account(f"new-{uuid.uuid4().hex[:8]}@example.com", "A-new-passphrase-2026")
        api_post(
            context,
            "auth/register/",
            {
                "email": account.email,
                "password": account.password,
                "first_name": "New",
                "last_name": "Person",
            },
            expected=202,
        )
        page = signed_in(context, account)
        form = page.locator("form#org-create")
        expect(form).to_be_visible()
        expect(page.locator("a#bell")).to_have_count(0)
        page.get_by_label("Organization name").fill("")
        form.get_by_role("button", name="Create organization").click()
        expect(page.locator("#org-create-name-error")).to_be_visible()
        expect(page.locator("#org-create-name")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Organization name").fill("Newcomer Ltd")
        form.get_by_role("button", name="Create organization").click()
        expect(page).to_have_url(re.compile(r"/app/#/dashboards$"))
        expect(page.get_by_label("Organization").locator("option:checked")).to_have_text(
            "Newcomer Ltd"
        )
        permissions = api_get(context, "auth/me/permissions/")
        assert permissions["role"] == "admin", permissions

    def test_sign_out_returns_to_the_form_and_ends_the_session(self, new_context, admin):
        """ "Sign out" shows the form again and the session no longer answers."""
        context = new_context()
        page = signed_in(context, admin)
        page.locator("button#signout").click()
        expect(page.locator("form#signin")).to_be_visible()
        expect(page.locator('body[data-signed-in="true"]')).to_have_count(0)
        assert context.request.get("/api/v1/auth/me/").status in (401, 403)


class TestRefusals:
    """What a member sees where the API says no, or cannot answer."""

    def test_another_roles_page_says_it_is_not_available(self, new_context, client):
        """The client (not an agent) typing the agents' inbox route is told it is not theirs,
        with the way back; their navigation never offered it."""
        page = signed_in(new_context(), client, "#/support")
        expect(page.locator("nav a")).to_have_text(["Support", "Notifications"])
        page.goto("/app/#/inbox")
        expect(page.get_by_role("heading", name="Not available")).to_be_visible()
        page.get_by_role("link", name="Go to your start page").click()
        expect(page).to_have_url(re.compile(r"#/support$"))
        expect(page.locator("form#chat-open")).to_be_visible()

    def test_a_server_that_cannot_answer_is_said_so_with_a_retry(self, new_context):
        """A 429 (or any failure) on the first call leaves no endless "Loading…": the page
        says what the API said and offers to try again, which works once the API answers."""
        context = new_context()
        page = context.new_page()

        def throttled(route):
            route.fulfill(
                status=429,
                headers={"Content-Type": "application/problem+json", "Retry-After": "1"},
                body='{"status": 429, "code": "throttled", "detail": "Request was throttled."}',
            )

        page.route("**/api/v1/auth/me/", throttled)
        page.goto("/app/")
        expect(page.get_by_role("heading", name="The console could not load")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("Request was throttled.")
        page.unroute("**/api/v1/auth/me/")
        page.get_by_role("button", name="Try again").click()
        expect(page.locator("form#signin")).to_be_visible()


class TestCsrf:
    """The session is a cookie scripts cannot read, and unsafe requests need the CSRF token."""

    def test_a_request_without_the_csrf_token_is_refused(self, new_context, admin):
        """A same-origin POST without ``X-CSRFToken`` is a 403; with the cookie's token it
        goes through."""
        context = new_context()
        page = signed_in(context, admin)
        post = """async (token) => {
            const headers = {"Content-Type": "application/json"};
            if (token) headers["X-CSRFToken"] = token;
            const response = await fetch("/api/v1/notifications/read-all/", {
                method: "POST", credentials: "same-origin", headers, body: "{}"});
            return {status: response.status, body: await response.text()};
        }"""
        refused = page.evaluate(post, None)
        assert refused["status"] == 403, refused
        assert '"permission_denied"' in refused["body"] and "CSRF" in refused["body"], refused
        token = page.evaluate(
            "() => document.cookie.split('; ').find((c) => c.startsWith('csrftoken='))"
            ".split('=')[1]"
        )
        accepted = page.evaluate(post, token)
        assert 200 <= accepted["status"] < 300, accepted

    def test_the_session_is_httponly_and_not_in_web_storage(self, new_context, admin):
        """``sessionid`` is HttpOnly (``document.cookie`` lacks it) and neither storage holds
        the session, the CSRF token or anything named like a credential."""
        context = new_context()
        page = signed_in(context, admin)
        session = session_cookie(context)
        assert session["httpOnly"] is True
        assert "sessionid" not in page.evaluate("document.cookie")
        (csrf,) = [c["value"] for c in context.cookies() if c["name"] == "csrftoken"]
        stored = page.evaluate(
            """() => [localStorage, sessionStorage].flatMap((storage) =>
                Object.keys(storage).map((key) => [key, storage.getItem(key)]))"""
        )
        for key, value in stored:
            assert session["value"] not in value and csrf not in value, (key, value)
            assert not re.search(r"token|session|jwt|auth|password", key, re.I), (key, value)


class TestDashboard:
    """The demo dashboard's charts drawn from their stored documents."""

    def test_every_chart_is_drawn_with_its_documents_data(self, new_context, admin):
        """ "Business overview" has its five charts, each drawn: the canvas charts hold the
        document's labels and series, the table its labels, series and values."""
        context = new_context()
        page = signed_in(context, admin)
        dashboard = open_dashboard(page)
        charts = api_get(context, f"dashboards/{dashboard}/charts/")
        assert {chart["chart_type"] for chart in charts} == CHART_TYPES, charts
        drawn_charts(page, len(charts))
        for chart in charts:
            figure = page.locator(f'#charts figure.chart[data-chart-id="{chart["id"]}"]')
            expect(figure).to_have_attribute("data-chart-type", chart["chart_type"])
            expect(figure.locator("figcaption")).to_contain_text(chart["title"])
            stale = figure.locator(".chart-stale")
            if chart["stale"]:
                expect(stale).to_be_visible()
            else:
                expect(stale).to_be_hidden()
            expect(figure.locator("button.chart-refresh")).to_be_visible()
            document = chart["document"]
            if chart["chart_type"] == "table":
                self.assert_table(figure, document)
                continue
            drawn = chart_data(page, chart["id"])
            assert drawn["width"] > 0 and drawn["height"] > 0, drawn
            labels, datasets = expected_chart_data(chart["chart_type"], document)
            assert drawn["labels"] == labels, chart["title"]
            if chart["chart_type"] == "pie":
                assert [item["data"] for item in drawn["datasets"]] == datasets, chart["title"]
            else:
                assert drawn["datasets"] == datasets, chart["title"]

    def test_refresh_recomputes_a_chart_and_clears_its_stale_flag(self, new_context, admin):
        """ "Refresh" on a chart asks the API to recompute it: its time moves on, the stale
        flag is hidden, and the API agrees the chart is fresh."""
        context = new_context()
        page = signed_in(context, admin)
        dashboard = open_dashboard(page)
        charts = api_get(context, f"dashboards/{dashboard}/charts/")
        drawn_charts(page, len(charts))
        chart = charts[0]
        figure = page.locator(f'#charts figure.chart[data-chart-id="{chart["id"]}"]')
        with page.expect_response(re.compile(rf"/charts/{chart['id']}/refresh/$")) as answer:
            figure.locator("button.chart-refresh").click()
        assert answer.value.status == 200, answer.value.text()
        expect(figure.locator(".chart-stale")).to_be_hidden()
        expect(figure).to_have_attribute("data-state", "drawn")
        (after,) = [
            c for c in api_get(context, f"dashboards/{dashboard}/charts/") if c["id"] == chart["id"]
        ]
        assert after["stale"] is False and after["computed_at"] > chart["computed_at"], after

    def test_sharing_a_dashboard_with_a_team_from_the_form(self, new_context, admin):
        """A private dashboard shared with a team as editors through the sharing form: the
        API's share list says so."""
        context = new_context()
        page = signed_in(context, admin)
        created = api_post(context, "dashboards/", {"title": f"Shared {uuid.uuid4().hex[:6]}"})
        page.goto(f"/app/#/dashboards/{created['id']}")
        form = page.locator("form#share-form")
        expect(form).to_be_visible()
        team = api_get(context, "teams/")["results"][0]
        page.get_by_label("Visibility").select_option("private")
        page.get_by_label("Share with").select_option(f"team:{team['id']}")
        page.get_by_label("Role").select_option("editor")
        form.get_by_role("button", name="Add").click()
        expect(page.locator("#share-list li")).to_have_count(1)
        form.get_by_role("button", name="Save sharing").click()
        expect(page.locator("#share-status")).to_have_text("Sharing saved.")
        share = api_get(context, f"dashboards/{created['id']}/share/")
        assert share["visibility"] == "private", share
        assert [(item.get("team"), item["role"]) for item in share["shares"]] == [
            (team["id"], "editor")
        ], share

    @staticmethod
    def assert_table(figure, document: dict) -> None:
        """The table chart shows one column per series and one row per label, with the
        document's values as written."""
        table = figure.locator("table.chart-table")
        expect(table).to_be_visible()
        headers = table.locator("thead th").all_inner_texts()
        names = [item["name"] for item in document["series"]]
        assert len(headers) == len(names) + 1, headers
        for header, name in zip(headers[1:], names, strict=True):
            assert header.startswith(name), (header, name)
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(len(document["labels"]))
        for index, label in enumerate(document["labels"]):
            cells = rows.nth(index).locator("th, td").all_inner_texts()
            assert cells[0] == label, cells
            for cell, item in zip(cells[1:], document["series"], strict=True):
                value = item["data"][index]
                if value is not None:
                    assert cell == str(value), (label, item["name"], cell, value)


class TestChartForm:
    """Adding a chart to a dashboard through the form."""

    def fill(self, page: Page, title: str, start: str, end: str) -> None:
        """Fill the chart form: a bar chart of income by month between two dates."""
        page.locator("input#chart-title").fill(title)
        page.locator("select#chart-type").select_option("bar")
        page.locator("select#chart-source").select_option("income")
        page.locator("select#chart-measure").select_option("sum")
        page.locator("input#chart-start-date").fill(start)
        page.locator("input#chart-end-date").fill(end)
        page.locator("select#chart-interval").select_option("month")
        page.locator("select#chart-group-by").select_option("")

    def test_an_invalid_query_shows_the_apis_message_then_a_valid_one_adds_a_chart(
        self, new_context, admin
    ):
        """End date before start date: the API's message next to the date field it names,
        no chart added; then a valid query adds a drawn chart."""
        context = new_context()
        page = signed_in(context, admin)
        dashboard = open_dashboard(page)
        before = len(api_get(context, f"dashboards/{dashboard}/charts/"))
        drawn_charts(page, before)
        form = page.locator("form#chart-form")
        expect(page.locator("select#chart-group-by option").first).to_have_attribute("value", "")

        query = {
            "source": "income",
            "measure": "sum",
            "start_date": "2026-03-01",
            "end_date": "2026-01-01",
            "interval": "month",
        }
        refused = api_post(
            context,
            f"dashboards/{dashboard}/charts/",
            {"title": "probe", "chart_type": "bar", "query": query},
            expected=400,
        )
        date_errors = {
            key.removeprefix("query."): " ".join(messages)
            for key, messages in refused["errors"].items()
            if key.removeprefix("query.") in ("start_date", "end_date")
        }
        assert date_errors, f"the API names no date field: {refused}"

        self.fill(page, "Bad dates", query["start_date"], query["end_date"])
        form.get_by_role("button", name="Add chart").click()
        for field, message in date_errors.items():
            slot = page.locator(f"#chart-{field.replace('_', '-')}-error")
            expect(slot).to_be_visible()
            expect(slot).to_contain_text(message)
        expect(page.locator("#charts figure.chart")).to_have_count(before)

        title = f"Income e2e {uuid.uuid4().hex[:6]}"
        self.fill(page, title, "2026-01-01", "2026-06-30")
        form.get_by_role("button", name="Add chart").click()
        drawn_charts(page, before + 1)
        added = page.locator("#charts figure.chart", has_text=title)
        expect(added).to_have_attribute("data-state", "drawn")
        expect(added).to_have_attribute("data-chart-type", "bar")
        for field in date_errors:
            expect(page.locator(f"#chart-{field.replace('_', '-')}-error")).to_be_hidden()
        charts = api_get(context, f"dashboards/{dashboard}/charts/")
        (stored,) = [chart for chart in charts if chart["title"] == title]
        labels, datasets = expected_chart_data("bar", stored["document"])
        drawn = chart_data(page, stored["id"])
        assert drawn["labels"] == labels and drawn["datasets"] == datasets


class SocketGate:
    """A switch in front of a page's chat sockets (Playwright's WebSocket routing).

    While up, each socket the page opens is connected to the real server and every frame is
    passed through unchanged. :meth:`drop` closes the open ones (the page sees close code
    1006, an abnormal closure, and the server sees its socket closed) and refuses every new
    one until :meth:`restore`: a refused socket is closed before it ever opens, as a
    connection that cannot be made is. The URLs the page asked for are kept.
    """

    def __init__(self) -> None:
        """Up, with no sockets yet."""
        self.down = False
        self.open: list[WebSocketRoute] = []
        self.urls: list[str] = []
        self.refused = 0

    def handle(self, socket: WebSocketRoute) -> None:
        """Connect the page's new socket to the server, or refuse it while down."""
        self.urls.append(socket.url)
        if self.down:
            self.refused += 1
            socket.close(code=1006, reason="connection refused")
            return
        server = socket.connect_to_server()
        # The page closed it (it left the chat): the server's side closes too.
        socket.on_close(lambda code, reason: server.close())
        self.open.append(socket)

    def drop(self) -> None:
        """Close every open socket as a dropped connection and refuse new ones."""
        self.down = True
        for socket in self.open:
            socket.close(code=1006, reason="connection dropped")
        self.open.clear()

    def restore(self) -> None:
        """Let new sockets through again."""
        self.down = False


def shown_seqs(page: Page) -> list[int]:
    """The ``data-seq`` of every message the chat view shows, in the page's order."""
    return [
        int(seq)
        for seq in page.locator("ol#messages > li.message").evaluate_all(
            "(items) => items.map((item) => item.dataset.seq)"
        )
    ]


def all_messages(context: BrowserContext, chat: str) -> list[dict]:
    """Every message of the chat as the API lists it to the context's user, oldest first."""
    messages, after = [], 0
    while True:
        page = api_get(context, f"support/chats/{chat}/messages/", after=after)
        messages += page["results"]
        if not page["next"] or not page["results"]:
            return messages
        after = page["results"][-1]["seq"]


def send(page: Page, text: str) -> None:
    """Type ``text`` into the reply box and press "Send"."""
    page.get_by_label("Message", exact=True).fill(text)
    page.locator("form#message-form").get_by_role("button", name="Send").click()


class TestChat:
    """A support chat live between the demo client and an agent (the demo admin)."""

    def open_chat(self, context: BrowserContext, client: Account) -> tuple[Page, str, str]:
        """The client opens a chat from ``#/support`` (or is given its open one); the page on
        ``#/support/<id>``, the chat's id and subject."""
        page = signed_in(context, client, "#/support")
        expect(page).to_have_url(re.compile(r"#/support"))
        subject = f"E2E help {uuid.uuid4().hex[:6]}"
        page.locator("input#chat-open-subject").fill(subject)
        page.locator("textarea#chat-open-message").fill("Hello, I need help with an invoice.")
        page.locator("form#chat-open").get_by_role("button", name="Open chat").click()
        # The console goes to the chat the API answered with (a new one, or the open one).
        expect(page).to_have_url(re.compile(r"#/support/[0-9a-f-]{36}$"))
        chat_id = page.url.rsplit("/", 1)[1]
        chats = api_get(context, "support/chats/")["results"]
        (chat,) = [item for item in chats if item["status"] == "open"]
        assert chat["id"] == chat_id, (chat, chat_id)
        expect(page.locator("h1#chat-subject")).to_have_text(chat["subject"])
        expect(page.locator("#socket-state")).to_have_text("live")
        return page, chat["id"], chat["subject"]

    def test_an_agent_assigns_a_chat_to_an_agent_only(self, new_context, admin, client):
        """The inbox lists the open chat; its assignee choices are the organization's agents
        (not the worker without the module, not the client), and "Assign" is the API's."""
        client_page, chat, subject = self.open_chat(new_context(), client)
        context = new_context()
        page = signed_in(context, admin, "#/inbox")
        expect(page.get_by_label("Status")).to_have_value("open")
        page.locator(f'ul#chat-list a[data-chat-id="{chat}"]').click()
        expect(page.locator("h1#chat-subject")).to_have_text(subject)
        choices = page.get_by_label("Assignee").locator("option").all_inner_texts()
        assert "you" in choices and not any("@valar.local" in c for c in choices), choices
        page.get_by_label("Assignee").select_option(label="you")
        with page.expect_response(re.compile(rf"/support/chats/{chat}/assign/$")) as answer:
            page.get_by_role("button", name="Assign").click()
        assert answer.value.status == 200, answer.value.text()
        me = api_get(context, "auth/me/")
        assert api_get(context, f"support/chats/{chat}/")["assignee"] == me["id"]
        client_page.close()

    def test_messages_are_live_and_a_reconnect_misses_nothing(self, new_context, admin, client):
        """The client's message is on the agent's screen within a second, typing shows;
        after the agent's socket drops and comes back, the messages sent meanwhile are
        there, each number once, in order, none missing."""
        client_context = new_context()
        client_page, chat, subject = self.open_chat(client_context, client)

        admin_context = new_context()
        gate = SocketGate()
        admin_context.route_web_socket(re.compile(r"/ws/support/chats?/"), gate.handle)
        admin_page = signed_in(admin_context, admin, f"#/inbox/{chat}")
        expect(admin_page.locator("h1#chat-subject")).to_have_text(subject)
        expect(admin_page.locator("#socket-state")).to_have_text("live")
        expect(admin_page.locator("#typing")).to_be_hidden()

        client_page.get_by_label("Message", exact=True).press_sequentially("Are you ")
        expect(admin_page.locator("#typing")).to_be_visible(timeout=2 * LIVE_MS)

        text = f"live {uuid.uuid4().hex}"
        send(client_page, text)
        started = time.monotonic()
        arrived = admin_page.locator("ol#messages > li.message .message-text", has_text=text)
        expect(arrived).to_be_visible(timeout=LIVE_MS)
        assert time.monotonic() - started < LIVE_MS / 1000

        last_before = shown_seqs(admin_page)[-1]
        gate.drop()
        expect(admin_page.locator("#socket-state")).to_have_text("reconnecting")
        missed = [f"while down {n} {uuid.uuid4().hex[:8]}" for n in (1, 2)]
        for item in missed:
            send(client_page, item)
            expect(
                client_page.locator("ol#messages > li.message .message-text", has_text=item)
            ).to_be_visible()
        admin_page.wait_for_timeout(1200)  # reconnection attempts are refused meanwhile
        for item in missed:
            expect(admin_page.get_by_text(item)).to_have_count(0)
        gate.restore()

        expect(admin_page.locator("#socket-state")).to_have_text("live", timeout=UI_TIMEOUT_MS)
        for item in missed:
            expect(
                admin_page.locator("ol#messages > li.message .message-text", has_text=item)
            ).to_have_count(1)
        assert gate.refused >= 1, gate.urls
        assert f"after={last_before}" in gate.urls[-1], gate.urls
        expected = [message["seq"] for message in all_messages(admin_context, chat)]
        seqs = shown_seqs(admin_page)
        assert seqs == expected, (seqs, expected)
        assert len(set(seqs)) == len(seqs)


class TestNotifications:
    """The bell follows new notifications over the notifications socket."""

    def test_a_notification_arrives_live(self, new_context, admin):
        """An announcement to the admin raises the bell's count within a second, without a
        reload, and is listed on ``#/notifications``."""
        context = new_context()
        frames: list[str] = []

        def watch(socket) -> None:
            """Record the notifications socket's frames (its ``hello`` says it is open)."""
            if "/ws/notifications/" in socket.url:
                socket.on("framereceived", lambda payload: frames.append(payload))

        context.on("page", lambda page: page.on("websocket", watch))
        page = signed_in(context, admin)
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while not any('"hello"' in str(frame) for frame in frames):
            assert time.monotonic() < deadline, "the notifications socket never opened"
            page.wait_for_timeout(50)
        unread = api_get(context, "notifications/unread-count/")["unread"]
        bell = page.locator("span#bell-count")
        expect(bell).to_have_text(str(unread))
        me = api_get(context, "auth/me/")
        title = f"E2E announcement {uuid.uuid4().hex[:6]}"
        loads = page.evaluate("performance.getEntriesByType('navigation').length")
        url = page.url
        api_post(context, "notifications/send/", {"title": title, "users": [me["id"]]})
        expect(bell).to_have_text(str(unread + 1), timeout=LIVE_MS)
        assert page.url == url
        assert page.evaluate("performance.getEntriesByType('navigation').length") == loads
        page.locator("a#bell").click()
        expect(page).to_have_url(re.compile(r"#/notifications$"))
        expect(page.locator("ul#notification-list > li", has_text=title)).to_be_visible()


class TestScreenshots:
    """The dashboard and the inbox at desktop and phone widths, saved for review."""

    def test_dashboard_and_inbox_at_desktop_and_375_px(self, new_context, admin, screenshots):
        """Screenshots under ``var/screenshots/``; at 375 px nothing is wider than the
        screen."""
        for size, viewport in (("desktop", DESKTOP), ("375", PHONE)):
            context = new_context(viewport=viewport)
            page = signed_in(context, admin)
            dashboard = open_dashboard(page)
            drawn_charts(page, len(api_get(context, f"dashboards/{dashboard}/charts/")))
            self.save(page, screenshots / f"dashboard-{size}.png", viewport)
            page.goto("/app/#/inbox")
            expect(page.locator("ul#chat-list > li > a[data-chat-id]").first).to_be_visible()
            expect(page.get_by_label("Status")).to_have_id("chat-status")
            self.save(page, screenshots / f"inbox-{size}.png", viewport)

    @staticmethod
    def save(page: Page, path, viewport: dict) -> None:
        """Save a full-page screenshot; at phone width, check that nothing overflows."""
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        if viewport == PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path.name}: the page is {width} px wide"


class TestKeyboardAndLabels:
    """The sign-in form works from the keyboard; every control has a label."""

    def test_sign_in_with_the_keyboard_alone(self, new_context, admin):
        """Tab reaches the email, the password and "Sign in"; Enter signs in."""
        page = new_context().new_page()
        page.goto("/app/")
        expect(page.locator("form#signin")).to_be_visible()
        page.locator("body").focus()
        reached = []
        for _ in range(10):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => document.activeElement.id || document.activeElement.textContent.trim()"
            )
            reached.append(focused)
            if focused == "signin-email":
                break
        assert reached[-1] == "signin-email", reached
        page.keyboard.type(admin.email)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "signin-password"
        page.keyboard.type(admin.password)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
        page.keyboard.press("Enter")
        expect(page.locator('body[data-signed-in="true"]')).to_have_count(1)

    def test_every_input_of_the_sign_in_and_chart_forms_has_a_label(self, new_context, admin):
        """Each control of ``form#signin`` and ``form#chart-form`` is found by its label."""
        context = new_context()
        page = context.new_page()
        page.goto("/app/")
        expect(page.get_by_label("Email", exact=True)).to_have_id("signin-email")
        expect(page.get_by_label("Password", exact=True)).to_have_id("signin-password")
        self.assert_labelled(page, "form#signin")
        page = signed_in(context, admin)
        open_dashboard(page)
        expect(page.locator("form#chart-form")).to_be_visible()
        self.assert_labelled(page, "form#chart-form")

    @staticmethod
    def assert_labelled(page: Page, form: str) -> None:
        """Every visible input, select and textarea of ``form`` is what its label names."""
        controls = page.locator(
            f"{form} input:not([type=hidden]):not([type=submit]), {form} select, {form} textarea"
        )
        assert controls.count() > 0
        for index in range(controls.count()):
            control = controls.nth(index)
            ident = control.get_attribute("id")
            labels = control.evaluate(
                "(el) => [...el.labels].map((label) => label.textContent.trim())"
            )
            assert labels and labels[0], f"{form} #{ident} has no label"
            expect(page.get_by_label(labels[0], exact=True)).to_have_id(ident)
