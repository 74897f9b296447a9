"""The container healthcheck: ``GET /api/v1/health/`` on this container, 0 when it answers 200.

Standard library only (the image has no curl). It asks as the proxy would: with the first of
``ALLOWED_HOSTS`` as ``Host`` and ``X-Forwarded-Proto: https`` (TLS ends at the proxy), so
neither the host check nor the HTTPS redirect answers in the application's stead.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    """Return 0 when the health endpoint answers 200, 1 otherwise."""
    port = os.environ.get("PORT", "8000")
    host = (os.environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".")
    if host in ("", "*"):
        host = "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/health/",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (OSError, urllib.error.URLError) as exc:
        print(f"health: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
