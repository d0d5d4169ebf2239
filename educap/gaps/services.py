"""Writes of the gap app besides the engine: snapshots of the rollups per campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.frameworks.models import FrameworkItem
from educap.gaps.engine import (
    COUNTS,
    GAP_TABLE,
    PERSON,
    REQUIREMENT,
    UNIT,
    aggregating,
    gaps_apply_changes,
    school_rows_sql,
)
from educap.gaps.models import GapSnapshot, SchoolHeadcountSnapshot, Scope, UnitGapSnapshot

if TYPE_CHECKING:
    from educap.accounts.models import User
    from educap.assessments.models import Campaign

SNAPSHOT_TABLE = UnitGapSnapshot._meta.db_table
HEADCOUNT_TABLE = SchoolHeadcountSnapshot._meta.db_table
ITEM = FrameworkItem._meta.db_table


@transaction.atomic
def gap_snapshot_take(*, actor: User | None, campaign: Campaign) -> GapSnapshot:
    """Keep the subtree rollups of the campaign's framework version as they stand now as
    the gaps at the end of `campaign`'s period (replacing an earlier snapshot of it): the
    stored rows of units with child units, each school's rows per competency (computed
    from its people's current levels: schools store none), and the staff in scope of each
    school (whose rows have no role split to count them by). The change feed is applied
    first, so every level change committed so far is in. Three INSERT … SELECTs, each
    reading the whole ministry once: a batch job (about 5 million rows at national scale)."""
    gaps_apply_changes()
    GapSnapshot.objects.filter(campaign=campaign).delete()
    snapshot = GapSnapshot.objects.create(campaign=campaign, taken_at=timezone.now())
    columns = "unit_id, item_id, role_id, sex, scope, " + ", ".join(COUNTS)
    framework = campaign.framework_id
    schools = school_rows_sql(requirement_filter="AND rr.framework_id = %s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SNAPSHOT_TABLE} (snapshot_id, {columns}) "  # noqa: S608
            f"SELECT %s, {columns} FROM {GAP_TABLE} WHERE scope = {Scope.SUBTREE} "
            f"AND item_id IN (SELECT id FROM {ITEM} WHERE framework_id = %s) "
            # In unit order: a past period's pages read a few pages per unit.
            f"ORDER BY unit_id",
            [snapshot.pk, framework],
        )
        snapshot.rows = cursor.rowcount
        # Every school's rows: one GROUP BY over every current level, with phase 1's
        # memory (with the server's default work_mem it would spill to disk).
        with aggregating(cursor):
            cursor.execute(
                f"INSERT INTO {SNAPSHOT_TABLE} (snapshot_id, {columns}) "  # noqa: S608
                f"SELECT %s, {columns} FROM ({schools}) schools ORDER BY unit_id",
                [snapshot.pk, framework, framework],
            )
            snapshot.rows += cursor.rowcount
        cursor.execute(
            f"INSERT INTO {HEADCOUNT_TABLE} (snapshot_id, unit_id, people) "  # noqa: S608
            f"SELECT %s, p.unit_id, COUNT(*) FROM {PERSON} p "
            f"WHERE p.is_active AND p.unit_id IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {UNIT} k WHERE k.parent_id = p.unit_id) "
            f"AND p.role_id IN (SELECT role_id FROM {REQUIREMENT} WHERE framework_id = %s) "
            f"GROUP BY p.unit_id",
            [snapshot.pk, framework],
        )
    snapshot.save(update_fields=["rows"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=snapshot,
        after={"campaign": campaign.code, "rows": snapshot.rows},
    )
    return snapshot
