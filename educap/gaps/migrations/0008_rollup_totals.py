"""Units with child units store `TOTAL` rows: their subtree rows summed over roles and
sexes, one per unit x competency, which a heat map without a role or sex filter reads.

Filled here from the stored `SUBTREE` rows (the same statement a rebuild runs), so no
rebuild is needed; going back drops them."""

from django.db import migrations, models

SUBTREE = 2
TOTAL = 5
COUNTS = (
    "in_scope",
    "assessed",
    "meeting",
    "below",
    "gap_sum",
    "weighted_gap_sum",
    "weighted_required_sum",
    "calibration_pairs",
    "calibration_sum",
)
CHOICES = [
    (1, "staff posted in the unit"),
    (2, "the unit and everything below it"),
    (3, "the unit, which has no units below it"),
    (4, "staff of the unit's child units that have no units below them"),
    (5, "the unit and everything below it, all roles and sexes together"),
]


def add_totals(apps, schema_editor):
    table = apps.get_model("gaps", "UnitGap")._meta.db_table
    columns = ", ".join(COUNTS)
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    schema_editor.execute(
        f"INSERT INTO {table} (unit_id, item_id, role_id, sex, scope, {columns}) "  # noqa: S608
        f"SELECT unit_id, item_id, NULL, '', {TOTAL}, {sums} FROM {table} "
        f"WHERE scope = {SUBTREE} GROUP BY unit_id, item_id ORDER BY unit_id"
    )


def drop_totals(apps, schema_editor):
    apps.get_model("gaps", "UnitGap").objects.filter(scope=TOTAL).delete()


class Migration(migrations.Migration):
    dependencies = [("gaps", "0007_schools_read_live")]

    operations = [
        migrations.AlterField(
            model_name="unitgap",
            name="scope",
            field=models.PositiveSmallIntegerField(choices=CHOICES),
        ),
        migrations.AlterField(
            model_name="unitgapsnapshot",
            name="scope",
            field=models.PositiveSmallIntegerField(choices=CHOICES),
        ),
        migrations.RunPython(add_totals, drop_totals),
    ]
