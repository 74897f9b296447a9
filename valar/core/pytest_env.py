"""pytest plugin loaded before pytest-django: the suite runs with local (DEBUG) settings."""

import os

os.environ.setdefault("DEBUG", "true")
