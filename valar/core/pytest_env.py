"""pytest plugin loaded before pytest-django: the suite runs with local (DEBUG) settings."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("VALAR_TEST_FAST_HASHER", "true")
# Jobs run eagerly in the tests, whatever broker REDIS_URL names; the real-worker tests
# (valar/jobs/tests/test_real_worker.py) turn it off for themselves.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
