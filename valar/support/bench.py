"""The support chat rows of ``make bench``: a socket pair's message rate and a 50-socket fan-out.

Two uvicorn processes run side by side on the bench's database and ``REDIS_URL`` (so on Redis
both use channels-redis): ``valar.asgi`` (the real chat socket, ``ws/support/chats/{id}/``)
and ``valar.ops.bench_asgi`` (the baseline: a bare ``AsyncJsonWebsocketConsumer`` that numbers
what it receives and sends it to its group, with no authentication and no database). The same
clients drive both, their measurements interleaved (blocks of the pair, rounds of the
fan-out, alternating which server goes first), so each support figure reads as a ratio to
the baseline's:

- **pair**: the chat's opener and an agent each hold a socket; the opener sends ``message.send``
  one at a time, each once the previous one has reached both sockets (the opener's own copy,
  the echo, and the agent's). A message's latency runs from just before its frame is sent to
  its ``message.created`` on the agent's socket; messages/s is the timed messages over the
  time the timed blocks took.
- **fan-out**: 50 listening sockets, 5 for each of 10 agents (the app may soon allow at most 5
  sockets per user per chat), and the opener's socket, which sends one ``message.send`` per
  round; the latency runs to each listener's ``message.created``, and to the last of the 50.

Every socket's ``message.created`` numbers are checked afterwards: each message received
exactly once, in ``seq`` order (:func:`order_problems`).
"""

import asyncio
import contextlib
import json
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import websockets
from django.utils import timezone

from valar.accounts.models import User
from valar.core.policy import Role
from valar.ops.bench import api_keys, asgi_servers, quantile
from valar.organizations.models import Membership, Organization
from valar.organizations.services import organization_create
from valar.support.models import Chat

SLUG = "bench-support"
TOKEN_NAME = "bench-support"
#: Agents listening in the fan-out, and the sockets each holds (10 x 5 = 50 listeners).
AGENTS = 10
SOCKETS_PER_AGENT = 5
LISTENERS = AGENTS * SOCKETS_PER_AGENT
#: Pair messages per block: the servers take turns block by block.
BLOCK = 50
#: Untimed pair messages and fan-out rounds on each server before the timed ones.
WARMUP_MESSAGES = 20
WARMUP_ROUNDS = 3
#: Seconds a message may take to reach every socket before it counts as lost.
TIMEOUT = 10.0
#: The text of every message (its number is prefixed), about a short chat line's length.
TEXT = "Hello, my invoice shows the wrong address; could you correct it please?"


def seed(stdout) -> tuple[Organization, User, list[User]]:
    """The bench organization: its opener (a basic member) and ``AGENTS`` agents (once)."""
    opener = User.objects.filter(email=f"opener@{SLUG}.test").first()
    if opener is None:
        stdout.write(f"support: seeding an organization with an opener and {AGENTS} agents\n")
        admin = User.objects.create_user(email=f"admin@{SLUG}.test", password=None)
        organization = organization_create(name="Bench support", actor=admin)
        Organization.objects.filter(pk=organization.pk).update(slug=SLUG)
        opener = User.objects.create_user(email=f"opener@{SLUG}.test", password=None)
        agents = [
            User.objects.create_user(email=f"agent{index:02d}@{SLUG}.test", password=None)
            for index in range(AGENTS)
        ]
        Membership.objects.bulk_create(
            [
                Membership(
                    organization=organization,
                    user=user,
                    role=Role.BASIC if user == opener else Role.WORKER,
                    modules=["support"],
                    is_default=True,
                )
                for user in (opener, *agents)
            ]
        )
    organization = Organization.objects.get(slug=SLUG)
    agents = list(
        User.objects.filter(email__startswith="agent", email__endswith=f"@{SLUG}.test").order_by(
            "email"
        )
    )
    return organization, opener, agents


def new_chat(organization: Organization, opener: User, agent: User) -> Chat:
    """A fresh chat of the opener's, assigned to ``agent`` (the previous runs' chats deleted).

    Created directly, not by ``chat_open``: the assignment notification (and its e-mail job)
    is no part of what the rows measure.
    """
    Chat.objects.filter(organization=organization).delete()
    return Chat.objects.create(
        organization=organization,
        created_by=opener,
        assignee=agent,
        assigned_at=timezone.now(),
        subject="Bench chat",
    )


# -- the clients ----------------------------------------------------------------------------


class Reader:
    """One open socket, read continuously: the ``message.created`` numbers and their times.

    :meth:`expect` returns a future resolved with the moment the message of that text
    arrives; ``seqs`` keeps every number received, in arrival order, and ``errors`` every
    ``error`` event (or how the socket closed).
    """

    def __init__(self, socket):
        """Start reading ``socket`` (its ``hello`` already received)."""
        self.socket = socket
        self.seqs: list[int] = []
        self.errors: list[str] = []
        self.waiting: dict[str, asyncio.Future] = {}
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        """Note each message's number and arrival; resolve whoever waits for it."""
        try:
            async for frame in self.socket:
                arrived = time.perf_counter()
                event = json.loads(frame)
                if event.get("type") == "error":
                    self.errors.append(f"{event.get('code')}: {event.get('detail')}")
                if event.get("type") != "message.created":
                    continue
                message = event["message"]
                self.seqs.append(message["seq"])
                future = self.waiting.pop(message["text"], None)
                if future is not None and not future.done():
                    future.set_result(arrived)
        except websockets.ConnectionClosed as closed:
            self.errors.append(f"closed: {closed}")

    def expect(self, text: str) -> asyncio.Future:
        """A future of the moment the message ``text`` arrives on this socket."""
        future = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future

    async def send(self, text: str) -> None:
        """Send ``message.send`` with ``text``."""
        await self.socket.send(json.dumps({"type": "message.send", "text": text}))

    async def close(self) -> None:
        """Close the socket and stop reading."""
        await self.socket.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def connect(url: str) -> Reader:
    """Open a socket on ``url``, wait for its ``hello``, read it from then on."""
    socket = await websockets.connect(url, max_queue=None, open_timeout=TIMEOUT)
    hello = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
    if hello.get("type") != "hello":
        await socket.close()
        raise RuntimeError(f"the socket greeted with {hello}")
    return Reader(socket)


async def _arrivals(futures: list[asyncio.Future]) -> list[float | None]:
    """The moments the futures resolve to, ``None`` for those not resolved within TIMEOUT."""
    done, pending = await asyncio.wait(futures, timeout=TIMEOUT)
    for future in pending:
        future.cancel()
    return [future.result() if future in done else None for future in futures]


async def pair_block(sender: Reader, receiver: Reader, texts: list[str]) -> tuple[list, float]:
    """Send ``texts`` one by one, each once the previous one reached both sockets.

    Returns the latencies to the receiver (ms; a lost message has none) and the seconds the
    block took.
    """
    latencies = []
    began = time.perf_counter()
    for text in texts:
        waiting = [receiver.expect(text), sender.expect(text)]
        started = time.perf_counter()
        await sender.send(text)
        arrived, _echo = await _arrivals(waiting)
        if arrived is not None:
            latencies.append((arrived - started) * 1000)
    return latencies, time.perf_counter() - began


async def fanout_round(sender: Reader, listeners: list[Reader], text: str) -> list[float | None]:
    """Send one message; the latency to each listener (ms; ``None`` when it never came)."""
    waiting = [listener.expect(text) for listener in listeners] + [sender.expect(text)]
    started = time.perf_counter()
    await sender.send(text)
    arrived = await _arrivals(waiting)
    return [None if moment is None else (moment - started) * 1000 for moment in arrived[:-1]]


def order_problems(seqs: list[int], expected: range) -> Counter:
    """What is wrong with one socket's numbers: ``lost``, ``duplicated``, ``unexpected`` and
    ``out_of_order`` (a number below the one before); all zero when each expected message
    came exactly once, in order."""
    seen = Counter(seqs)
    return Counter(
        lost=sum(1 for number in expected if number not in seen),
        duplicated=sum(count - 1 for count in seen.values() if count > 1),
        unexpected=sum(count for number, count in seen.items() if number not in expected),
        out_of_order=sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b < a),
    )


@dataclass
class Endpoint:
    """A server under measurement: its name and the socket address of a user.

    ``url(who, after)``: ``who`` 0 is the chat's opener, 1..``AGENTS`` an agent; ``after`` the
    last number the socket has seen already (the backlog it does not want).
    """

    name: str
    url: Callable[[int, int], str]
    pair: list[float] = field(default_factory=list)
    pair_seconds: float = 0.0
    deliveries: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def figures(self, messages: int) -> dict:
        """The endpoint's row figures (ms, messages/s) and its delivery problems."""
        figures: dict = {"problems": dict(self.problems), "errors": self.errors[:5]}
        if self.pair:
            figures |= {
                "pair_p50": statistics.median(self.pair),
                "pair_p95": quantile(self.pair, 0.95),
                "rate": messages / self.pair_seconds,
            }
        if self.deliveries:
            figures |= {
                "fan_p50": statistics.median(self.deliveries),
                "fan_p95": quantile(self.deliveries, 0.95),
                "deliveries": len(self.deliveries),
            }
        if self.last:
            figures |= {
                "last_p50": statistics.median(self.last),
                "last_p95": quantile(self.last, 0.95),
            }
        return figures


async def _close(readers: list[Reader], endpoint: Endpoint, expected: range) -> None:
    """Close the sockets; add their numbering problems and errors to the endpoint's."""
    for reader in readers:
        await reader.close()
        endpoint.problems.update(order_problems(reader.seqs, expected))
        endpoint.errors += reader.errors


async def run(
    endpoints: list[Endpoint],
    *,
    messages: int,
    rounds: int,
    warmup_messages: int = WARMUP_MESSAGES,
    warmup_rounds: int = WARMUP_ROUNDS,
    listeners: int = LISTENERS,
) -> None:
    """The pair, then the fan-out, on every endpoint, interleaved; figures on the endpoints.

    Every endpoint's chat (or group) must be new: its numbers start at 1.
    """
    sent = 0
    if messages:
        pairs = {}
        for endpoint in endpoints:
            pairs[endpoint.name] = (
                await connect(endpoint.url(0, 0)),
                await connect(endpoint.url(1, 0)),
            )
        for endpoint in endpoints:
            texts = [f"{n} {TEXT}" for n in range(warmup_messages)]
            await pair_block(*pairs[endpoint.name], texts)
        for block, start in enumerate(range(warmup_messages, warmup_messages + messages, BLOCK)):
            end = min(start + BLOCK, warmup_messages + messages)
            for endpoint in endpoints[::-1] if block % 2 else endpoints:
                texts = [f"{n} {TEXT}" for n in range(start, end)]
                latencies, seconds = await pair_block(*pairs[endpoint.name], texts)
                endpoint.pair += latencies
                endpoint.pair_seconds += seconds
        sent = warmup_messages + messages
        for endpoint in endpoints:
            await _close(list(pairs[endpoint.name]), endpoint, range(1, sent + 1))
    if rounds:
        groups = {}
        for endpoint in endpoints:
            sender = await connect(endpoint.url(0, sent))
            others = [
                await connect(endpoint.url(1 + index // SOCKETS_PER_AGENT, sent))
                for index in range(listeners)
            ]
            groups[endpoint.name] = (sender, others)
        for index in range(warmup_rounds + rounds):
            for endpoint in endpoints[::-1] if index % 2 else endpoints:
                times = await fanout_round(*groups[endpoint.name], f"{sent + index} {TEXT}")
                if index < warmup_rounds:
                    continue
                endpoint.deliveries += [moment for moment in times if moment is not None]
                if None not in times:
                    endpoint.last.append(max(times))
        expected = range(sent + 1, sent + warmup_rounds + rounds + 1)
        for endpoint in endpoints:
            sender, others = groups[endpoint.name]
            await _close([sender, *others], endpoint, expected)


def measure(
    *, ports: str, messages: int, rounds: int, stdout, env: dict | None = None, **sizes
) -> dict:
    """Serve the chat and the baseline, run both rows on each, stop the servers.

    Returns ``{"baseline": figures, "support": figures, "loadavg": ...}`` (see
    :meth:`Endpoint.figures`) or ``{"error": ...}``; ``env`` adds to the servers' environment
    (the test's database, say); ``sizes`` (``warmup_messages``, ``warmup_rounds``,
    ``listeners``) go to :func:`run`.
    """
    organization, opener, agents = seed(stdout)
    keys = api_keys([opener, *agents], TOKEN_NAME)
    chat = new_chat(organization, opener, agents[0])
    group = uuid.uuid4().hex
    try:
        with asgi_servers(
            ["valar.asgi:application", "valar.ops.bench_asgi:application"], ports=ports, env=env
        ) as (valar_port, base_port):
            endpoints = [
                Endpoint(
                    "baseline",
                    lambda who, after: f"ws://127.0.0.1:{base_port}/ws/bench/chat/{group}/",
                ),
                Endpoint(
                    "support",
                    lambda who, after: (
                        f"ws://127.0.0.1:{valar_port}/ws/support/chats/{chat.pk}/"
                        f"?token={keys[who]}&after={after}"
                    ),
                ),
            ]
            asyncio.run(run(endpoints, messages=messages, rounds=rounds, **sizes))
    except (RuntimeError, OSError, websockets.WebSocketException) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    figures = {endpoint.name: endpoint.figures(messages) for endpoint in endpoints}
    # The machine's 1-minute load average at the end of the run: other jobs show here.
    return figures | {"loadavg": os.getloadavg()[0]}
