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


class UnitGap(models.Model):
    """Counts for one org unit x competency x role x sex.

    `subtree=False` rows count the staff posted in the unit itself; `subtree=True` rows
    count the unit and everything below it. Dashboards sum these over roles and sexes.
    """

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    item = models.ForeignKey(
        FrameworkItem, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    sex = models.CharField(max_length=1)
    subtree = models.BooleanField()
    in_scope = models.PositiveIntegerField()
    assessed = models.PositiveIntegerField()
    meeting = models.PositiveIntegerField()
    below = models.PositiveIntegerField()
    # Sums over assessed people: gap, weight x gap, weight x required.
    gap_sum = models.PositiveIntegerField()
    weighted_gap_sum = models.PositiveIntegerField()
    weighted_required_sum = models.PositiveIntegerField()
    # People with both a valid self and supervisor rating, and the sum of (self - supervisor).
    calibration_pairs = models.PositiveIntegerField()
    calibration_sum = models.IntegerField()

    class Meta:
        verbose_name = _("unit gap rollup")
        verbose_name_plural = _("unit gap rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["subtree", "unit", "item", "role", "sex"], name="unit_gap_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.item_id}/{self.role_id}/{self.sex}"

    @property
    def unknown(self) -> int:
        return self.in_scope - self.assessed
