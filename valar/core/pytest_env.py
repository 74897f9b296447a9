"""pytest plugin loaded before pytest-django: the suite runs with local (DEBUG) settings."""

import os
from pathlib import Path

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("VALAR_TEST_FAST_HASHER", "true")
# The suite's log lines go to a file of their own, not to the one `make run` writes, and not to
# the terminal (the tests that read lines attach their own handlers).
os.environ.setdefault("LOG_STDOUT", "false")
os.environ.setdefault("LOG_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test-log"))
# Jobs run eagerly in the tests, whatever broker REDIS_URL names; the real-worker tests
# (valar/jobs/tests/test_real_worker.py) turn it off for themselves.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
