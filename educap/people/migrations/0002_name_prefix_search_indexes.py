"""Prefix search on names: expression indexes that PostgreSQL uses for UPPER(x) LIKE 'AB%'.

SQLite has no operator classes; its LIKE is case-insensitive already and a million-row scan
there stays acceptable, so nothing is created on SQLite.
"""

from django.db import migrations

COLUMNS = ("given_name", "family_name", "name_local")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS person_{column}_prefix_idx "
            f"ON people_person (UPPER({column}::text) text_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS person_{column}_prefix_idx")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
