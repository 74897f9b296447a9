"""pytest plugin loaded before pytest-django: the suite runs with local (DEBUG) settings."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("VALAR_TEST_FAST_HASHER", "true")
