"""Tests of ``GET /api/v1/ops/logs/``: slices of the rotated log files, streamed, for operators."""

import json
import os
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from asgiref.sync import async_to_sync
from django.http import StreamingHttpResponse
from django.test import AsyncClient, override_settings

from valar.accounts.services import token_create
from valar.core import logs
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.ops import selectors

URL = "/api/v1/ops/logs/"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def line(minutes: float, level: str = "INFO", message: str = "") -> bytes:
    """One log line written ``minutes`` after :data:`T0`."""
    moment = logs.format_instant(T0 + timedelta(minutes=minutes))
    record = {"time": moment, "level": level, "logger": "test", "message": message or moment}
    return json.dumps(record).encode() + b"\n"


class LogDownloadTests(TenantFixtureMixin, ApiTestCase):
    """Operators download a time range at a level; everyone else is refused."""

    def setUp(self) -> None:
        super().setUp()
        directory = Path(tempfile.mkdtemp(prefix="valar-logs-"))
        override = override_settings(LOG_FILE=directory / "valar.log")
        override.enable()
        self.addCleanup(override.disable)
        self.directory = directory
        # Three files as the handler rotates them: valar.log.2 oldest, valar.log newest.
        self.write("valar.log.2", [line(0), line(1, "DEBUG"), b"not json\n", line(2, "ERROR")])
        self.write("valar.log.1", [line(10), line(11, "WARNING"), b'{"no": "time"}\n'])
        self.write("valar.log", [line(20, "CRITICAL"), line(21)])
        self.operator = self.make_user("operator@example.com", is_superuser=True)
        self.operator_client = self.token_client(self.operator)

    def write(self, name: str, lines: list[bytes]) -> None:
        """Write a log file (its time of change is now, after every line in it)."""
        (self.directory / name).write_bytes(b"".join(lines))

    def download(self, client=None, **params) -> list[dict]:
        """The lines of a download, parsed; the answer must be streamed JSON lines."""
        response = (client or self.operator_client).get(URL, params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b""))
        self.assertIsInstance(response, StreamingHttpResponse)
        self.assertEqual(response["Content-Type"], "application/x-ndjson")
        self.assertTrue(response["Content-Disposition"].startswith("attachment; filename="))
        body = b"".join(response.streaming_content)
        return [json.loads(item) for item in body.splitlines()]

    def at(self, minutes: float) -> str:
        """The query value of the instant ``minutes`` after :data:`T0`."""
        return (T0 + timedelta(minutes=minutes)).isoformat()

    def test_every_line_of_the_range_oldest_file_first(self):
        lines = self.download(start=self.at(0), end=self.at(30))
        self.assertEqual(
            [item["time"][11:16] for item in lines],
            ["12:00", "12:01", "12:02", "12:10", "12:11", "12:20", "12:21"],
        )

    def test_the_range_is_inclusive_and_cuts_across_files(self):
        lines = self.download(start=self.at(2), end=self.at(20))
        self.assertEqual(
            [item["time"][11:16] for item in lines], ["12:02", "12:10", "12:11", "12:20"]
        )

    def test_level_keeps_that_level_and_above(self):
        lines = self.download(start=self.at(0), end=self.at(30), level="WARNING")
        self.assertEqual([item["level"] for item in lines], ["ERROR", "WARNING", "CRITICAL"])

    def test_offsets_and_naive_instants_are_read_as_such(self):
        # 13:05+01:00 is 12:05 UTC; a naive instant is UTC.
        lines = self.download(start="2026-03-01T13:05:00+01:00", end="2026-03-01 12:15")
        self.assertEqual([item["time"][11:16] for item in lines], ["12:10", "12:11"])

    def test_by_default_the_last_hour(self):
        now = datetime.now(UTC)
        recent = logs.format_instant(now - timedelta(minutes=5))
        old = logs.format_instant(now - timedelta(hours=2))
        self.write(
            "valar.log",
            [
                json.dumps({"time": old, "level": "INFO", "message": "old"}).encode() + b"\n",
                json.dumps({"time": recent, "level": "INFO", "message": "new"}).encode() + b"\n",
            ],
        )
        self.assertEqual([item["message"] for item in self.download()], ["new"])

    def test_files_last_changed_before_the_start_are_not_opened(self):
        old = (T0 - timedelta(days=1)).timestamp()
        os.utime(self.directory / "valar.log.2", (old, old))
        opened = []
        real_open = Path.open

        def spy(path, *args, **kwargs):
            opened.append(path.name)
            return real_open(path, *args, **kwargs)

        with mock.patch.object(Path, "open", spy):
            lines = self.download(start=self.at(0), end=self.at(30))
        self.assertNotIn("valar.log.2", opened)
        self.assertEqual(len(lines), 4)

    def test_large_files_are_streamed_in_chunks(self):
        many = [line(40 + i / 1000, message="x" * 200) for i in range(2000)]
        self.write("valar.log", many)
        chunks = list(
            selectors.log_slice(
                start=T0 + timedelta(minutes=39), end=T0 + timedelta(hours=1), level="DEBUG"
            )
        )
        self.assertGreater(len(chunks), 5)
        self.assertTrue(all(len(chunk) < 2 * selectors.LOG_CHUNK_BYTES for chunk in chunks))
        self.assertEqual(sum(chunk.count(b"\n") for chunk in chunks), 2000)

    def test_an_asgi_request_streams_an_asynchronous_iterator(self):
        _, key = token_create(user=self.operator, name="asgi")
        client = AsyncClient()

        async def fetch():
            response = await client.get(
                URL,
                {"start": self.at(0), "end": self.at(30)},
                headers={"Authorization": f"Token {key}"},
            )
            self.assertEqual(response.status_code, 200, getattr(response, "content", b""))
            self.assertTrue(response.is_async)
            return b"".join([chunk async for chunk in response.streaming_content])

        body = async_to_sync(fetch)()
        self.assertEqual(len(body.splitlines()), 7)

    def test_no_log_file_yet_is_an_empty_download(self):
        for path in self.directory.iterdir():
            path.unlink()
        self.assertEqual(self.download(start=self.at(0), end=self.at(30)), [])

    def test_bad_parameters_are_400_naming_the_field(self):
        cases = [
            ({"start": "yesterday"}, "start"),
            ({"end": "2026-03-01"}, "end"),
            ({"start": "20260301T120000"}, "start"),
            ({"start": ""}, "start"),
            ({"level": "LOUD"}, "level"),
            ({"level": "warning"}, "level"),
            ({"start": self.at(10), "end": self.at(5)}, "end"),
        ]
        for params, field in cases:
            with self.subTest(params=params):
                response = self.operator_client.get(URL, params)
                self.assert_problem(response, 400, field=field)

    def test_only_platform_operators_may_download(self):
        self.assert_problem(self.client.get(URL), 401)
        for role in (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC, Role.CLIENT):
            with self.subTest(role=role):
                self.assert_problem(self.clients[role].get(URL), 403, code="permission_denied")
        self.assert_problem(self.other_client.get(URL), 403)
        staff = self.make_user("staff@example.com", is_staff=True)
        self.assert_problem(self.token_client(staff).get(URL), 403)

    def test_a_disabled_operator_is_refused(self):
        self.operator.is_active = False
        self.operator.save()
        self.assertIn(self.operator_client.get(URL).status_code, (401, 403))

    def test_other_methods_are_405_for_everyone(self):
        for client in (self.operator_client, self.clients[Role.BASIC]):
            with self.subTest(client=client):
                self.assert_problem(client.post(URL, {}), 405, code="method_not_allowed")


class LogFileTests(ApiTestCase):
    """The settings' handlers write the lines ``ops/logs/`` reads back."""

    def test_a_request_is_written_to_the_file_and_can_be_downloaded(self):
        operator = self.make_user("operator@example.com", is_superuser=True)
        client = self.token_client(operator)
        request_id = uuid.uuid4().hex
        client.get("/api/v1/health/", HTTP_X_REQUEST_ID=request_id)
        response = client.get(URL, {"level": "INFO"})
        self.assertEqual(response.status_code, 200)
        lines = [json.loads(item) for item in b"".join(response.streaming_content).splitlines()]
        mine = [item for item in lines if item.get("request_id") == request_id]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["route"], "/api/v1/health/")


class LogQueryEdgeTests(ApiTestCase):
    """Instants at the ends of the calendar are answered, never a 500."""

    def test_the_first_and_last_instants_python_knows(self):
        operator = self.make_user("operator@example.com", is_superuser=True)
        client = self.token_client(operator)
        for params in (
            {"end": "0001-01-01T00:00:00Z"},
            {"start": "0001-01-01T00:00Z", "end": "0001-01-01T00:30+00:00"},
            {"start": "9999-12-31T23:59:59.999999Z"},
            {"end": "9999-12-31T23:59:59-01:00"},
            {"start": "0001-01-01T00:00:00+01:00"},
        ):
            with self.subTest(params=params):
                response = client.get(URL, params)
                self.assertIn(response.status_code, (200, 400), response)
                if response.status_code == 200:
                    b"".join(response.streaming_content)
