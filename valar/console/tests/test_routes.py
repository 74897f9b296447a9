"""The console's routes: one page, the same for everyone, and no door to the data.

The console is a client of the API. These tests list every route the project serves and
prove that the console adds exactly one, ``/app/``, answering the built page: the same bytes
to an anonymous visitor and to a signed-in admin, read without a database query, setting no
cookie, refusing every method but GET and HEAD. Any other route outside the API's prefixes
fails the listing test, so a data endpoint cannot slip in beside the API's permissions.
"""

import re
from html.parser import HTMLParser

from django.contrib.staticfiles import finders
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from valar.console import views
from valar.core.testing import ApiTestCase

#: Where the project serves HTTP routes: the API and its documents, the admin, Prometheus,
#: and the console. (Static files are WhiteNoise's middleware, sockets Channels' routing.)
ALLOWED_PREFIXES = (
    "api/v1/",
    "api/schema/",
    "api/docs/",
    "api/redoc/",
    "admin/",
    "metrics",
    "app/",
)
#: A built asset: ``<name>-<8-character content hash>.js|css`` under the console's folder.
ASSET = r"^/static/console/assets/[\w.-]+-[A-Za-z0-9_-]{8}\.(js|css)$"


def every_route(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, object]]:
    """Every URL pattern of the project as ``(full pattern, view callback)``."""
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes.extend(every_route(entry, pattern))
        elif isinstance(entry, URLPattern):
            routes.append((pattern, entry.callback))
    return routes


class _AssetParser(HTMLParser):
    """The URLs a page loads: script sources, stylesheets and other linked files."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs) -> None:
        """Collect ``src`` and ``href`` of scripts and links; count inline scripts."""
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.urls.append(attributes["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])


class ConsoleRouteTests(ApiTestCase):
    """``/app/`` is the console's only route and gives nothing the API would not."""

    URL = "/app/"

    def test_the_console_adds_exactly_one_route_the_page(self):
        console_routes = [
            (pattern, callback)
            for pattern, callback in every_route()
            if getattr(callback, "__module__", "").startswith("valar.console")
        ]
        self.assertEqual(console_routes, [("app/", views.console)])

    def test_every_route_of_the_project_is_under_a_known_prefix(self):
        strays = [
            pattern for pattern, _ in every_route() if not pattern.startswith(ALLOWED_PREFIXES)
        ]
        self.assertEqual(strays, [], "a route outside the API, the admin, metrics and /app/")
        app_routes = [pattern for pattern, _ in every_route() if pattern.startswith("app/")]
        self.assertEqual(app_routes, ["app/"])

    def test_the_page_is_the_same_for_everyone_and_reads_nothing(self):
        anonymous = self.client.get(self.URL)
        self.assertEqual(anonymous.status_code, 200)
        self.assertEqual(anonymous["Content-Type"], "text/html; charset=utf-8")
        admin = self.make_user("admin@example.com")
        admin.is_staff = admin.is_superuser = True
        admin.save()
        signed_in = self.client_class()
        signed_in.force_login(admin)
        signed_in.get("/api/v1/auth/me/")
        with self.assertNumQueries(0):
            page = signed_in.get(self.URL)
        self.assertEqual(page.content, anonymous.content)
        self.assertNotIn(b"admin@example.com", page.content)
        self.assertEqual(page.cookies, {})
        self.assertEqual(anonymous.cookies, {})
        self.assertEqual(page.content, views.INDEX.read_bytes())

    def test_only_get_and_head_are_taken(self):
        self.assertEqual(self.client.head(self.URL).status_code, 200)
        token = self.csrf_token()
        for method in ("post", "put", "patch", "delete"):
            with self.subTest(method=method):
                response = getattr(self.client, method)(self.URL, HTTP_X_CSRFTOKEN=token)
                self.assertEqual(response.status_code, 405)
                self.assertEqual(response["Allow"], "GET, HEAD")

    def test_app_without_its_slash_is_redirected_to_it(self):
        response = self.client.get("/app")
        self.assertEqual(response.status_code, 301)
        self.assertEqual(response["Location"], "/app/")

    def test_the_page_is_locked_down_by_its_headers(self):
        response = self.client.get(self.URL)
        policy = response["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ):
            self.assertIn(directive, policy)
        self.assertNotIn("unsafe", policy)
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Cache-Control"], "no-cache")

    def test_the_page_loads_only_its_own_built_assets_and_no_inline_script(self):
        parser = _AssetParser()
        parser.feed(self.client.get(self.URL).content.decode())
        self.assertEqual(parser.inline_scripts, 0)
        self.assertTrue(parser.urls)
        for url in parser.urls:
            with self.subTest(url=url):
                self.assertRegex(url, ASSET)
                self.assertIsNotNone(finders.find(url.removeprefix("/static/")), url)


@override_settings(DEBUG=False)
class ConsoleStaticFileTests(ApiTestCase):
    """The built assets are served cached for good and compressed (WhiteNoise)."""

    def asset_urls(self) -> list[str]:
        """The page's script and stylesheet URLs."""
        parser = _AssetParser()
        parser.feed(self.client.get("/app/").content.decode())
        return parser.urls

    def test_hashed_assets_are_immutable_and_served_compressed(self):
        for url in self.asset_urls():
            plain = self.client.get(url)
            self.assertEqual(plain.status_code, 200, url)
            body = b"".join(plain.streaming_content)
            with open(finders.find(url.removeprefix("/static/")), "rb") as built:
                self.assertEqual(body, built.read())
            self.assertIn("immutable", plain["Cache-Control"], url)
            self.assertRegex(plain["Cache-Control"], r"max-age=3153600\d")
            self.assertEqual(plain["Vary"], "Accept-Encoding")
            for encoding, suffix in (("gzip", ".gz"), ("br", ".br")):
                with self.subTest(url=url, encoding=encoding):
                    packed = self.client.get(url, HTTP_ACCEPT_ENCODING=encoding)
                    self.assertEqual(packed["Content-Encoding"], encoding)
                    with open(finders.find(url.removeprefix("/static/") + suffix), "rb") as f:
                        self.assertEqual(b"".join(packed.streaming_content), f.read())

    def test_the_page_is_not_a_static_file(self):
        """Only /app/ serves the page (with its CSP and X-Frame-Options): no copy under
        /static/ could be framed or loaded without them."""
        for url in ("/static/console/index.html", "/static/console/", "/static/console"):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
        self.assertIsNone(finders.find("console/index.html"))

    def test_files_without_a_content_hash_are_not_cached_for_good(self):
        response = self.client.get("/static/admin/css/base.css")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("immutable", response["Cache-Control"])
        self.assertIsNone(re.search(r"max-age=3153600\d", response["Cache-Control"]))
