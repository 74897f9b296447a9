"""Tests of the structured logs: JSON lines with the request's context, one access line each."""

import io
import json
import logging
import queue
import tempfile
from pathlib import Path
from unittest import mock

from valar.core import logs, telemetry
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.tasks.models import Task


class CapturedLogs:
    """The JSON lines the project's formatter and filter write for ``logger``, in memory."""

    def __init__(self, test, logger: str):
        """Attach a handler configured as the settings' handlers are."""
        self.stream = io.StringIO()
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(logs.JsonFormatter())
        handler.addFilter(logs.ContextFilter())
        target = logging.getLogger(logger)
        target.addHandler(handler)
        test.addCleanup(target.removeHandler, handler)

    def lines(self) -> list[dict]:
        """Every line written so far, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


class AccessLogTests(TenantFixtureMixin, ApiTestCase):
    """Each request writes one access line with its id, organization, user, route and timing."""

    module = "tasks"

    def test_a_request_writes_one_access_line_with_its_context(self):
        captured = CapturedLogs(self, "valar.access")
        task = Task.objects.create(organization=self.org, title="Logged")
        response = self.clients[Role.ADMIN].get(
            f"/api/v1/tasks/{task.pk}/", HTTP_X_REQUEST_ID="trace-log-0001"
        )
        self.assertEqual(response.status_code, 200)
        (line,) = captured.lines()
        self.assertEqual(list(line)[:4], ["time", "level", "logger", "message"])
        self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(line["level"], "INFO")
        self.assertEqual(line["logger"], "valar.access")
        self.assertEqual(line["request_id"], "trace-log-0001")
        self.assertEqual(line["organization"], str(self.org.pk))
        self.assertEqual(line["user"], str(self.users[Role.ADMIN].pk))
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], f"/api/v1/tasks/{task.pk}/")
        self.assertEqual(line["route"], "/api/v1/tasks/{pk}/")
        self.assertEqual(line["status"], 200)
        self.assertIsInstance(line["duration_ms"], float)
        self.assertGreater(line["db_queries"], 0)

    def test_a_session_request_names_its_user(self):
        captured = CapturedLogs(self, "valar.access")
        self.session_login(self.users[Role.WORKER])
        self.client.get("/api/v1/auth/me/")
        line = captured.lines()[-1]
        self.assertEqual(line["user"], str(self.users[Role.WORKER].pk))
        self.assertEqual(line["route"], "/api/v1/auth/me/")

    def test_an_anonymous_request_has_no_user_or_organization(self):
        captured = CapturedLogs(self, "valar.access")
        response = self.client.get("/api/v1/tasks/", HTTP_X_REQUEST_ID="anonymous-01")
        self.assertEqual(response.status_code, 401)
        (line,) = captured.lines()
        self.assertEqual(line["request_id"], "anonymous-01")
        self.assertEqual(line["status"], 401)
        self.assertNotIn("user", line)
        self.assertNotIn("organization", line)

    def test_a_server_error_is_logged_at_error(self):
        captured = CapturedLogs(self, "valar.access")
        self.client.raise_request_exception = False
        with mock.patch("valar.ops.api.selectors.health", side_effect=RuntimeError("boom")):
            response = self.client.get("/api/v1/health/")
        self.assertEqual(response.status_code, 500)
        self.assertEqual(captured.lines()[-1]["level"], "ERROR")

    def test_other_loggers_inside_a_request_carry_its_id(self):
        captured = CapturedLogs(self, "valar.cache")

        def warn(*args, **kwargs):
            logging.getLogger("valar.cache").warning("cache trouble")
            return "ok"

        with mock.patch("valar.ops.selectors.cache_status", side_effect=warn):
            self.client.get("/api/v1/health/", HTTP_X_REQUEST_ID="inner-line-01")
        (line,) = captured.lines()
        self.assertEqual(line["message"], "cache trouble")
        self.assertEqual(line["level"], "WARNING")
        self.assertEqual(line["request_id"], "inner-line-01")


class BoundFieldsTests(ApiTestCase):
    """Work outside a request (a background job) binds its own fields."""

    def test_bound_fields_are_on_every_line_inside_the_block_only(self):
        captured = CapturedLogs(self, "valar.jobs")
        logger = logging.getLogger("valar.jobs")
        logger.setLevel(logging.INFO)
        self.addCleanup(logger.setLevel, logging.NOTSET)
        with logs.bound(job_id="job-42", organization="org-7"):
            logger.info("started")
            with logs.bound(step="import"):
                logger.info("row %s", 3)
        logger.info("after")
        first, second, after = captured.lines()
        self.assertEqual((first["job_id"], first["organization"]), ("job-42", "org-7"))
        self.assertEqual(
            (second["job_id"], second["step"], second["message"]), ("job-42", "import", "row 3")
        )
        self.assertNotIn("job_id", after)

    def test_an_exception_is_written_as_text_in_the_line(self):
        captured = CapturedLogs(self, "valar.jobs")
        try:
            raise ValueError("bad row")
        except ValueError:
            logging.getLogger("valar.jobs").exception("job failed")
        (line,) = captured.lines()
        self.assertEqual(line["level"], "ERROR")
        self.assertIn("ValueError: bad row", line["exc_info"])


class BackgroundHandlerTests(ApiTestCase):
    """Lines are queued by the caller and written by a thread of the process."""

    def make_handler(self) -> tuple[logs.BackgroundHandler, Path]:
        """A handler writing to a file of its own, attached to a test logger."""
        path = Path(tempfile.mkdtemp(prefix="valar-log-")) / "valar.log"
        handler = logs.BackgroundHandler(str(path), max_bytes=10_000, backups=2)
        handler.addFilter(logs.ContextFilter())
        logger = logging.getLogger("valar.test.background")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        self.addCleanup(handler.close)
        self.addCleanup(logger.removeHandler, handler)
        return handler, path

    def test_lines_reach_the_rotated_file_once_flushed(self):
        handler, path = self.make_handler()
        logger = logging.getLogger("valar.test.background")
        with logs.bound(job_id="job-9"):
            for index in range(200):
                logger.info("line %s of a long run %s", index, "x" * 100)
        logs.flush()
        files = sorted(path.parent.glob("valar.log*"))
        self.assertGreater(len(files), 1)  # 200 lines of ~200 bytes rotated at 10 kB
        last = [json.loads(item) for item in path.read_text().splitlines()][-1]
        self.assertEqual(last["message"], "line 199 of a long run " + "x" * 100)
        self.assertEqual(last["job_id"], "job-9")

    def test_a_full_queue_drops_the_line_and_counts_it(self):
        handler, _ = self.make_handler()
        logger = logging.getLogger("valar.test.background")
        logger.info("starts the writer")
        logs.flush()
        handler.queue = queue.Queue(1)  # a queue no thread reads: the next line fills it
        dropped = telemetry.LOG_LINES_DROPPED._value.get()
        logger.info("queued")
        logger.info("dropped")
        self.assertEqual(telemetry.LOG_LINES_DROPPED._value.get() - dropped, 1)
        handler.queue = handler._listener.queue
