"""Leave a tenth of every page of the rollups free on PostgreSQL.

The change feed adds deltas to a few thousand rollup rows at a time; none of the columns
it changes is indexed, so with room on the page PostgreSQL writes the new row version
beside the old one (a heap-only update) instead of adding an entry to both indexes. At
national scale this halved the time of the feed's UPDATEs (bench/RESULTS.md). The setting
applies to pages written from then on: the next rebuild writes them all."""

from django.db import migrations

FILLFACTOR = 90


def set_fillfactor(apps, schema_editor, value=FILLFACTOR):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("gaps", "UnitGap")._meta.db_table
    schema_editor.execute(
        f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(value)})"
    )


def reset_fillfactor(apps, schema_editor):
    set_fillfactor(apps, schema_editor, value=100)


class Migration(migrations.Migration):
    dependencies = [("gaps", "0005_gap_snapshots")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
