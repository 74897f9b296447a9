"""pytest configuration: local settings for the test run (pytest-django does the rest)."""

import os

os.environ.setdefault("DEBUG", "true")
