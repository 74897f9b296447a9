"""The console's one view: the single page, the same bytes for every visitor.

The page holds no data and reads nothing: no database, no session, no user. It is the built
``valar/console/page/index.html`` (outside the static folder: this view is the one way to it,
so its headers always apply; read once per process, on every request when ``DEBUG`` is on) with
headers that keep it fresh (``no-cache``: browsers ask again each time, so a new deployment's
page is seen at once; its hashed assets are cached for good) and a Content Security Policy
that lets it load only its own scripts and styles and talk only to this origin (HTTP and
WebSocket).
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_safe

#: The page ``make console`` builds (its assets are under ``static/console/assets/``).
INDEX = Path(__file__).resolve().parent / "page" / "index.html"

#: Scripts and styles from this origin only (no inline code, no eval: Chart.js needs neither;
#: it sizes its canvas through the CSSOM, which style-src does not govern); requests and
#: sockets to this origin; nothing may frame the page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@lru_cache(maxsize=1)
def _built_page() -> bytes:
    """The built page's bytes, read once (a deployment restarts to serve a new build)."""
    return INDEX.read_bytes()


def index_html() -> bytes:
    """The page to serve: read again on each request under ``DEBUG`` (``make dev``, where
    WhiteNoise also rescans the assets), so a ``make console`` shows without a restart."""
    return INDEX.read_bytes() if settings.DEBUG else _built_page()


@require_safe
def console(request) -> HttpResponse:
    """``GET /app/``: the console's page (HEAD too; any other method is a 405)."""
    response = HttpResponse(index_html(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
