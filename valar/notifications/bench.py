"""The real-time row of ``make bench``: notification fan-out to 50 open sockets.

One uvicorn process serves ``valar.asgi`` (HTTP and WebSocket on one port, as ``make run``)
on the bench's database and ``REDIS_URL`` (so on Redis the channel layer is channels-redis).
50 members of a bench organization each hold a ``ws/notifications/`` socket (API token in the
subprotocol); the organization's admin sends ``POST notifications/send/ {"everyone": true}``
over HTTP. A delivery's latency runs from just before the POST to the moment its socket has
the message: the request (authentication, one INSERT of 51 rows, the commit), the channel
layer's 51 group sends and the socket's write all count. Each round yields 50 latencies (the
admin's own socket is not listened to); the row reports p50 and p95 over every delivery of
every timed round, and the p50 and p95 of each round's last arrival.
"""

import asyncio
import json
import statistics
import time

import requests
import websockets

from valar.accounts.models import User
from valar.core.policy import MODULES, Role
from valar.ops.bench import api_keys, asgi_server, quantile
from valar.organizations.models import Membership, Organization
from valar.organizations.services import organization_create

SLUG = "bench-realtime"
SOCKETS = 50
TOKEN_NAME = "bench-realtime"


def seed(stdout) -> tuple[Organization, User, list[User]]:
    """The bench organization with its admin and ``SOCKETS`` members (created once)."""
    admin = User.objects.filter(email=f"admin@{SLUG}.test").first()
    if admin is None:
        stdout.write(f"realtime: seeding an organization with {SOCKETS} members\n")
        admin = User.objects.create_user(email=f"admin@{SLUG}.test", password=None)
        organization = organization_create(name="Bench realtime", actor=admin)
        Organization.objects.filter(pk=organization.pk).update(slug=SLUG)
        members = [
            User.objects.create_user(email=f"m{index}@{SLUG}.test", password=None)
            for index in range(SOCKETS)
        ]
        Membership.objects.bulk_create(
            [
                Membership(
                    organization=organization,
                    user=user,
                    role=Role.BASIC,
                    modules=list(MODULES),
                    is_default=True,
                )
                for user in members
            ]
        )
    organization = Organization.objects.get(slug=SLUG)
    members = list(
        User.objects.filter(email__startswith="m", email__endswith=f"@{SLUG}.test").order_by(
            "email"
        )
    )
    return organization, admin, members


async def _fanout(port: int, admin_key: str, keys: list[str], rounds: int, warmup: int) -> dict:
    """Open the sockets, send ``warmup + rounds`` notifications, time every delivery."""
    url = f"ws://127.0.0.1:{port}/ws/notifications/"
    sockets = [
        await websockets.connect(url, subprotocols=["valar", f"token.{key}"], max_queue=None)
        for key in keys
    ]
    try:
        for socket in sockets:
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello", hello
        session = requests.Session()
        session.headers["Authorization"] = f"Token {admin_key}"
        send_url = f"http://127.0.0.1:{port}/api/v1/notifications/send/"
        latencies: list[float] = []
        last: list[float] = []
        for index in range(warmup + rounds):
            title = f"Fan-out {index}"

            async def arrival(socket, title=title) -> float:
                while True:
                    message = json.loads(await socket.recv())
                    if message.get("notification", {}).get("title") == title:
                        return time.perf_counter()

            waiting = [asyncio.ensure_future(arrival(socket)) for socket in sockets]
            started = time.perf_counter()
            response = await asyncio.to_thread(
                session.post, send_url, json={"title": title, "everyone": True}, timeout=30
            )
            if response.status_code != 201:
                raise RuntimeError(f"send answered {response.status_code}: {response.text[:200]}")
            arrived = await asyncio.wait_for(asyncio.gather(*waiting), timeout=30)
            if index >= warmup:
                times = [(moment - started) * 1000 for moment in arrived]
                latencies += times
                last.append(max(times))
        return {"latencies": latencies, "last": last}
    finally:
        for socket in sockets:
            await socket.close()


def fanout(*, ports: str, rounds: int, warmup: int, stdout) -> dict:
    """Serve ``valar.asgi`` with uvicorn, measure the fan-out, stop the server.

    Returns ``p50``/``p95`` over every delivery and ``last_p50``/``last_p95`` of each
    round's slowest, in ms, or ``{"error": ...}``.
    """
    organization, admin, members = seed(stdout)
    admin_key, *keys = api_keys([admin, *members], TOKEN_NAME)
    try:
        with asgi_server("valar.asgi:application", ports=ports) as port:
            figures = asyncio.run(_fanout(port, admin_key, keys, rounds, warmup))
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {
        "p50": statistics.median(figures["latencies"]),
        "p95": quantile(figures["latencies"], 0.95),
        "last_p50": statistics.median(figures["last"]),
        "last_p95": quantile(figures["last"], 0.95),
        "deliveries": len(figures["latencies"]),
        "rounds": rounds,
        "organization": organization.slug,
    }
