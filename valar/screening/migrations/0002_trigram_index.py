"""The candidate search's trigram index (PostgreSQL only; SQLite uses the portable search)."""

from django.db import migrations

INDEX = "screening_entryname_normalized_trgm"


def create(apps, schema_editor):
    """Enable pg_trgm and index the normalised names with it (GIN)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON screening_entryname "
        "USING gin (normalized gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    """Drop the index (the extension stays: others may use it)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    """Trigram index on ``screening_entryname.normalized``."""

    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
