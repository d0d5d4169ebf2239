"""Schools store no rollup rows any more: drop their `BOTH` rows.

A unit without child units is read from its people's current levels when a page shows it
(`engine.unit_rows`); only gap snapshots keep schools' rows (scope 3), since a past period
cannot be read from today's levels. Going back to an earlier version needs
`manage.py rebuild_gaps` after the reverse migration, which brings no rows back."""

from django.db import migrations

BOTH = 3


def drop_school_rows(apps, schema_editor):
    apps.get_model("gaps", "UnitGap").objects.filter(scope=BOTH).delete()


class Migration(migrations.Migration):
    dependencies = [("gaps", "0006_rollup_fillfactor")]

    operations = [migrations.RunPython(drop_school_rows, migrations.RunPython.noop)]
