#!/usr/bin/env python
"""Django's command-line entry point for Valar.

``manage.py`` is the local developer entry point, so it turns ``DEBUG`` on unless the
environment says otherwise; the ASGI/WSGI entry points used in production do not.
"""

import os
import sys


def main() -> None:
    """Run a Django management command with Valar's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "valar.settings")
    os.environ.setdefault("DEBUG", "true")
    if sys.argv[1:2] == ["test"]:
        # As under pytest (valar.core.pytest_env): hashing cost is not what tests measure.
        os.environ.setdefault("VALAR_TEST_FAST_HASHER", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
