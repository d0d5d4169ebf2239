"""Schools (units without child units) keep one rollup row per competency instead of one
per competency x role x sex; their role x sex split moves to their parent's new
LEAF_CHILDREN rows. Existing rows are converted in place (the same sums, regrouped)."""

import django.db.models.deletion
from django.db import migrations, models

COUNTS = (
    "in_scope, assessed, meeting, below, gap_sum, weighted_gap_sum, weighted_required_sum, "
    "calibration_pairs, calibration_sum"
)
SUMS = ", ".join(f"SUM({c.strip()})" for c in COUNTS.split(","))

CONVERT = [
    f"""INSERT INTO gaps_unitgap (unit_id, item_id, role_id, sex, scope, {COUNTS})
        SELECT u.parent_id, g.item_id, g.role_id, g.sex, 4, {SUMS}
        FROM gaps_unitgap g JOIN org_orgunit u ON u.id = g.unit_id
        WHERE g.scope = 3 AND g.role_id IS NOT NULL AND u.parent_id IS NOT NULL
        GROUP BY u.parent_id, g.item_id, g.role_id, g.sex""",  # noqa: S608
    f"""INSERT INTO gaps_unitgap (unit_id, item_id, role_id, sex, scope, {COUNTS})
        SELECT unit_id, item_id, NULL, '', 3, {SUMS}
        FROM gaps_unitgap WHERE scope = 3 AND role_id IS NOT NULL
        GROUP BY unit_id, item_id""",  # noqa: S608
    "DELETE FROM gaps_unitgap WHERE scope = 3 AND role_id IS NOT NULL",
]


class Migration(migrations.Migration):
    dependencies = [
        ("gaps", "0003_rollup_indexes"),
        ("people", "0002_name_prefix_search_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="unitgap",
            name="role",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="people.role",
            ),
        ),
        migrations.AlterField(
            model_name="unitgap",
            name="scope",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "staff posted in the unit"),
                    (2, "the unit and everything below it"),
                    (3, "the unit, which has no units below it"),
                    (4, "staff of the unit's child units that have no units below them"),
                ]
            ),
        ),
        migrations.AlterField(
            model_name="unitgap",
            name="sex",
            field=models.CharField(blank=True, max_length=1),
        ),
        migrations.RunSQL(CONVERT, migrations.RunSQL.noop),
    ]
