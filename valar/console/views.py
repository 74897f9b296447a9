"""The console's one view: the single page, the same bytes for every visitor.

The page holds no data and reads nothing: no database, no session, no user. It is the built
``console/index.html`` (found through the static files finders, read once per process) with
headers that keep it fresh (``no-cache``: a new build is picked up at once, its hashed assets
are cached for good) and a Content Security Policy that lets it load only its own scripts and
styles and talk only to this origin (HTTP and WebSocket).
"""

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.views.decorators.http import require_safe

INDEX = "console/index.html"

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
def index_html() -> bytes:
    """The built page's bytes (read once; a deployment restarts to serve a new build)."""
    path = finders.find(INDEX)
    if path is None:
        raise FileNotFoundError(f"{INDEX} is missing: run make console")
    with open(path, "rb") as handle:
        return handle.read()


@require_safe
def console(request) -> HttpResponse:
    """``GET /app/``: the console's page (HEAD too; any other method is a 405)."""
    response = HttpResponse(index_html(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
