"""Bench-only server entry points: the real WSGI and ASGI applications, plus the worker's pid.

``make bench`` serves these so that its warm-up can see which worker answered each request
(the ``X-Bench-Worker`` header) and start the load only once every worker has answered. They
wrap ``valar.wsgi.application`` and ``valar.asgi.application`` unchanged otherwise; never the
entry point of a deployment (the Dockerfile and compose file serve ``valar.wsgi``).
"""

import os

from valar.asgi import application as _asgi
from valar.wsgi import application as _wsgi

_HEADER = "X-Bench-Worker"


def wsgi(environ, start_response):
    """The WSGI application, answering with the worker's pid in ``X-Bench-Worker``."""

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, (_HEADER, str(os.getpid()))], exc_info)

    return _wsgi(environ, start)


async def asgi(scope, receive, send):
    """The ASGI application, answering with the worker's pid in ``X-Bench-Worker``."""
    if scope["type"] != "http":
        return await _asgi(scope, receive, send)

    async def sending(message):
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), (b"x-bench-worker", str(os.getpid()).encode())]
            message = {**message, "headers": headers}
        await send(message)

    return await _asgi(scope, receive, sending)
