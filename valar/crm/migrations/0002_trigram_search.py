"""Trigram indexes behind the CRM's ``search=`` on PostgreSQL (SQLite keeps plain scans).

Django's ``icontains`` on PostgreSQL is ``UPPER(column::text) LIKE UPPER(%s)``; a GIN index
with ``gin_trgm_ops`` on that same expression answers it. The ``pg_trgm`` extension is created
when the database role may create it; without it the migration changes nothing and search
still works, only without these indexes.
"""

from django.db import migrations

INDEXES = [
    ("crm_lead", "first_name"),
    ("crm_lead", "last_name"),
    ("crm_lead", "email"),
    ("crm_lead", "company"),
    ("crm_lead", "phone"),
    ("crm_customer", "name"),
    ("crm_customer", "email"),
    ("crm_customer", "company"),
    ("crm_deal", "title"),
    ("crm_vendor", "name"),
    ("crm_vendor", "company"),
]


def _name(table: str, column: str) -> str:
    """The index's name."""
    return f"{table}_{column}_trgm"


def create_indexes(apps, schema_editor):
    """Create pg_trgm (if allowed) and the trigram indexes, on PostgreSQL only."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
            row = cursor.fetchone()
            if not (row and row[0]):
                return
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, column in INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{_name(table, column)}" ON "{table}" '
                f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
            )


def drop_indexes(apps, schema_editor):
    """Drop the trigram indexes."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{_name(table, column)}"')


class Migration(migrations.Migration):
    """Trigram search indexes (PostgreSQL)."""

    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
