"""Stored gap rollups (see docs/gap-analysis.md).

Both tables are derived data: `engine.gaps_rebuild()` recreates them from role profiles,
staff records and current levels, and the incremental refresh gives the same rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import Framework, FrameworkItem
from educap.org.models import OrgUnit
from educap.people.models import Role


class RoleRequirement(models.Model):
    """A role profile with its inheritance resolved: what one role needs of one competency."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(FrameworkItem, on_delete=models.CASCADE, related_name="+")
    required = models.PositiveSmallIntegerField(_("required level"))
    weight = models.PositiveSmallIntegerField(_("importance"))

    class Meta:
        verbose_name = _("resolved role requirement")
        verbose_name_plural = _("resolved role requirements")
        constraints = [
            models.UniqueConstraint(fields=["role", "item"], name="role_requirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id}/{self.item_id} ≥ {self.required}"


class Scope(models.IntegerChoices):
    """Which staff a rollup row counts.

    Units with child units store `OWN`, `SUBTREE` and `LEAF_CHILDREN` rows by role and
    sex; the last hold the role x sex split of their child units that have no units below
    them (schools). `TOTAL` rows (role empty, sex blank) are their `SUBTREE` rows summed
    over roles and sexes: a heat map without a role or sex filter reads one row per unit x
    competency instead of one per role x sex (a national page 1,040 rows, not 19,440).
    Schools store nothing: a page reads the schools it shows from their people's current
    levels (see engine.unit_rows), per competency (`BOTH`: own staff are the whole
    subtree) or by role and sex. Snapshots keep schools' `BOTH` rows, since a
    past period cannot be read from today's levels."""

    OWN = 1, _("staff posted in the unit")
    SUBTREE = 2, _("the unit and everything below it")
    BOTH = 3, _("the unit, which has no units below it")
    LEAF_CHILDREN = 4, _("staff of the unit's child units that have no units below them")
    TOTAL = 5, _("the unit and everything below it, all roles and sexes together")


OWN_SCOPES = (Scope.OWN, Scope.BOTH)
SUBTREE_SCOPES = (Scope.SUBTREE, Scope.BOTH)


class RollupRow(models.Model):
    """The keys and counts of a rollup row, shared by `UnitGap` and `UnitGapSnapshot`."""

    # No index per foreign key: each table's lookup index serves reads by unit, and deleting
    # a role or a competency (rare) may scan; each index costs the rebuild ~20 s per
    # 20 million rows.
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    item = models.ForeignKey(
        FrameworkItem,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    role = models.ForeignKey(
        Role,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
    )
    sex = models.CharField(max_length=1, blank=True)
    scope = models.PositiveSmallIntegerField(choices=Scope.choices)
    in_scope = models.IntegerField()
    assessed = models.IntegerField()
    meeting = models.IntegerField()
    below = models.IntegerField()
    # Sums over assessed people: gap, weight x gap, weight x required.
    gap_sum = models.IntegerField()
    weighted_gap_sum = models.IntegerField()
    weighted_required_sum = models.IntegerField()
    # People with both a valid self and supervisor rating, and the sum of (self - supervisor).
    calibration_pairs = models.IntegerField()
    calibration_sum = models.IntegerField()

    class Meta:
        abstract = True


class UnitGap(RollupRow):
    """Counts for one org unit with child units x competency x role x sex in one `Scope`
    (never `BOTH`: schools store no rows; role empty and sex blank in `TOTAL`).

    Dashboards sum these over roles and sexes. Counts are plain integers: the engine adds
    signed deltas, and a row that is about to be recomputed may pass through a transient
    value (see engine.gaps_apply_changes).
    """

    class Meta:
        verbose_name = _("unit gap rollup")
        verbose_name_plural = _("unit gap rollups")
        # One row per (unit, scope, item, role, sex): the engine's GROUP BY guarantees it
        # (and the oracle test checks it). A unique index over five columns, one of them
        # text, would cost the rebuild more than this lookup index and protect nothing.
        indexes = [models.Index(fields=["unit", "scope", "item", "role"], name="unit_gap_lookup")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.item_id}/{self.role_id}/{self.sex}/{self.scope}"

    @property
    def unknown(self) -> int:
        return self.in_scope - self.assessed


class GapSnapshot(models.Model):
    """The subtree rollups as they stood when an assessment campaign closed: the gaps "as
    at the end of the campaign period", kept for comparing rounds (baseline, reassessment)
    after current levels have moved on. Taken by `services.gap_snapshot_take`."""

    campaign = models.OneToOneField(
        "assessments.Campaign",
        on_delete=models.CASCADE,
        related_name="gap_snapshot",
        verbose_name=_("campaign"),
    )
    taken_at = models.DateTimeField(_("taken at"))
    rows = models.PositiveIntegerField(_("rollup rows"), default=0)

    class Meta:
        verbose_name = _("gap snapshot")
        verbose_name_plural = _("gap snapshots")
        ordering = ["-taken_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.taken_at:%Y-%m-%d}"


class UnitGapSnapshot(RollupRow):
    """One subtree row in a `GapSnapshot`: a copy of a `UnitGap` SUBTREE row, or a
    school's row per competency (BOTH; role empty and sex blank) computed when the
    snapshot was taken."""

    snapshot = models.ForeignKey(
        GapSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("unit gap snapshot row")
        verbose_name_plural = _("unit gap snapshot rows")
        indexes = [
            models.Index(fields=["snapshot", "unit", "item"], name="unit_gap_snapshot_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.unit_id}/{self.item_id}/{self.role_id}/{self.sex}"


class SchoolHeadcountSnapshot(models.Model):
    """Staff in scope of one unit without child units in a `GapSnapshot`: its snapshot
    rows have no role split to count people by (see `Scope.BOTH`)."""

    snapshot = models.ForeignKey(
        GapSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    people = models.IntegerField()

    class Meta:
        verbose_name = _("school headcount snapshot")
        verbose_name_plural = _("school headcount snapshots")
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "unit"], name="school_headcount_unique")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.unit_id}: {self.people}"
