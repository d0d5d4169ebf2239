"""The administrative hierarchy: configurable levels and units with a materialised path."""

from __future__ import annotations

import datetime as dt

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
    _("Use letters, digits, dot, dash or underscore, starting with a letter or digit."),
)


class OrgLevel(models.Model):
    """A tier of the hierarchy: Ministry, Governorate, District, School (Laos adds others)."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    depth = models.PositiveSmallIntegerField(_("depth"), unique=True, help_text=_("0 is the top."))

    class Meta:
        ordering = ["depth"]
        verbose_name = _("organisational level")
        verbose_name_plural = _("organisational levels")

    def __str__(self) -> str:
        return self.name


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def open_on(self, day: dt.date | None = None) -> OrgUnitQuerySet:
        day = day or timezone.localdate()
        return self.filter(
            Q(opened_on__isnull=True) | Q(opened_on__lte=day),
            Q(closed_on__isnull=True) | Q(closed_on__gt=day),
        )

    def subtree_of(self, unit: OrgUnit) -> OrgUnitQuerySet:
        return self.filter(path__startswith=unit.path)

    def in_subtrees(self, paths: list[str]) -> OrgUnitQuerySet:
        query = Q()
        for path in paths:
            query |= Q(path__startswith=path)
        return self.filter(query) if paths else self.none()


class OrgUnit(models.Model):
    """A ministry, governorate, district, school or any other unit.

    `path` is the materialised path of primary keys from the root ("1/7/42/"): every
    subtree is one prefix match and every ancestor list is one `IN` query.
    """

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    level = models.ForeignKey(
        OrgLevel, on_delete=models.PROTECT, related_name="units", verbose_name=_("level")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=255, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=60,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Identifier in another system, such as a DHIS2 uid."),
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisational unit")
        verbose_name_plural = _("organisational units")
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for prefix (LIKE 'x%') matches.
            models.Index(
                fields=["path"], name="orgunit_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["parent", "name"], name="orgunit_parent_name_idx"),
            models.Index(fields=["name"], name="orgunit_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(opened_on__isnull=True)
                | Q(closed_on__gte=models.F("opened_on")),
                name="orgunit_closed_after_opened",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        today = timezone.localdate()
        return (self.opened_on is None or self.opened_on <= today) and (
            self.closed_on is None or self.closed_on > today
        )

    def ancestor_ids(self) -> list[int]:
        """Primary keys from the root down to this unit, inclusive."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self) -> OrgUnitQuerySet:
        """This unit and every unit above it, root first (one query)."""
        return (
            OrgUnit.objects.filter(pk__in=self.ancestor_ids())
            .select_related("level")
            .order_by("depth")
        )

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)
