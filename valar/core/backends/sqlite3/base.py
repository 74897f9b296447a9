"""Django's SQLite backend, reading how many parameters a statement may bind from SQLite.

Django 5.2 assumes 999 (SQLite's limit before 3.32), so ``bulk_create`` of 1,000 ledger
entries would be cut into a statement per 45 rows; SQLite 3.32+ allows 32,766 and says so
(``getlimit``). Django 6.0 reads the limit the same way; this backend goes when Valar does.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    """SQLite's features, with the connection's own parameter limit."""

    @cached_property
    def max_query_params(self) -> int:
        """The parameters one statement may bind on this connection."""
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper with :class:`DatabaseFeatures`."""

    features_class = DatabaseFeatures
