"""Rollup rows get a scope instead of a subtree flag: a unit without child units keeps one
set of rows (scope 3, "both") instead of identical own and subtree rows. Counts become
plain integers (the engine applies signed deltas). Existing rows are converted in place."""

from django.db import migrations, models

CONVERT = [
    """UPDATE gaps_unitgap SET scope = CASE
        WHEN subtree THEN 2
        WHEN EXISTS (SELECT 1 FROM org_orgunit c WHERE c.parent_id = gaps_unitgap.unit_id)
        THEN 1 ELSE 3 END""",
    """DELETE FROM gaps_unitgap WHERE scope = 2
        AND NOT EXISTS (SELECT 1 FROM org_orgunit c WHERE c.parent_id = gaps_unitgap.unit_id)""",
]

COUNTS = (
    "in_scope",
    "assessed",
    "meeting",
    "below",
    "gap_sum",
    "weighted_gap_sum",
    "weighted_required_sum",
    "calibration_pairs",
)


class Migration(migrations.Migration):
    dependencies = [
        ("gaps", "0001_gap_rollups"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="unitgap",
            name="scope",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "staff posted in the unit"),
                    (2, "the unit and everything below it"),
                    (3, "the unit, which has no units below it"),
                ],
                null=True,
            ),
        ),
        migrations.RunSQL(CONVERT, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="unitgap", name="unit_gap_unique"),
        migrations.RemoveField(model_name="unitgap", name="subtree"),
        migrations.AlterField(
            model_name="unitgap",
            name="scope",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "staff posted in the unit"),
                    (2, "the unit and everything below it"),
                    (3, "the unit, which has no units below it"),
                ]
            ),
        ),
        *(
            migrations.AlterField(model_name="unitgap", name=name, field=models.IntegerField())
            for name in COUNTS
        ),
        migrations.AddIndex(
            model_name="unitgap",
            index=models.Index(fields=["unit", "scope", "item", "role"], name="unit_gap_lookup"),
        ),
    ]
