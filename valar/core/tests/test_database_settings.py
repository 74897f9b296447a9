"""The database settings on PostgreSQL: the pool and prepared statements by default, switches.

The settings are loaded in a fresh interpreter with each environment (loading them opens no
connection), so what a deployment gets is read from the settings module itself.
"""

import json
import os
import subprocess
import sys

from django.conf import settings
from django.test import SimpleTestCase

PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({key: settings.DATABASES["default"][key] for key in ("CONN_MAX_AGE", "OPTIONS")}))
"""
POSTGRES_URL = "postgres://valar@127.0.0.1:5432/valar"


def database_settings(**env: str) -> dict:
    """``CONN_MAX_AGE`` and ``OPTIONS`` of the default database under ``env``."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**keep, "DJANGO_SETTINGS_MODULE": "valar.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


class DatabaseSettingsTests(SimpleTestCase):
    """Bounded connections and prepared statements on PostgreSQL unless switched off."""

    def test_postgresql_gets_the_pool_and_prepared_statements_by_default(self):
        found = database_settings(DATABASE_URL=POSTGRES_URL)
        self.assertEqual(found["CONN_MAX_AGE"], 0)
        self.assertEqual(found["OPTIONS"]["pool"], {"min_size": 2, "max_size": 10, "timeout": 30})
        self.assertIs(found["OPTIONS"]["server_side_binding"], True)
        self.assertEqual(found["OPTIONS"]["prepare_threshold"], 5)

    def test_without_the_pool_connections_persist(self):
        found = database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_POOL="false")
        self.assertEqual(found["CONN_MAX_AGE"], 60)
        self.assertNotIn("pool", found["OPTIONS"])

    def test_prepared_statements_switch_off_for_pgbouncer_transaction_pooling(self):
        found = database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_PREPARED_STATEMENTS="false")
        self.assertNotIn("server_side_binding", found["OPTIONS"])
        self.assertNotIn("prepare_threshold", found["OPTIONS"])
        self.assertIn("pool", found["OPTIONS"])

    def test_the_pool_size_is_a_setting(self):
        found = database_settings(
            DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX="4", DATABASE_POOL_MIN="1"
        )
        self.assertEqual(found["OPTIONS"]["pool"]["max_size"], 4)
        self.assertEqual(found["OPTIONS"]["pool"]["min_size"], 1)

    def test_sqlite_gets_neither(self):
        found = database_settings()
        self.assertNotIn("pool", found["OPTIONS"])
        self.assertNotIn("server_side_binding", found["OPTIONS"])
