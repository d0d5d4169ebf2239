"""Continuing professional development: records and yearly requirements per role."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.people.models import Person, Role
from educap.training.models.sessions import Enrolment


class CpdKind(models.TextChoices):
    INTERNAL = "internal", _("Internal course")
    COURSE = "course", _("External course")
    CONFERENCE = "conference", _("Conference")
    WEBINAR = "webinar", _("Webinar")
    ACADEMIC = "academic", _("Academic study")
    OTHER = "other", _("Other learning")


class CpdStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CpdRecord(models.Model):
    """Hours and credits of learning; internal completions are approved automatically."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cpd_records")
    kind = models.CharField(_("kind"), max_length=12, choices=CpdKind.choices)
    title = models.CharField(_("title"), max_length=300)
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    completed_on = models.DateField(_("completed on"))
    hours = models.DecimalField(
        _("hours"), max_digits=6, decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(2000))],
    )  # fmt: skip
    credits = models.DecimalField(
        _("credits"), max_digits=6, decimal_places=1, default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(2000))],
    )  # fmt: skip
    evidence = models.FileField(_("evidence"), upload_to="training/cpd/", blank=True)
    enrolment = models.OneToOneField(
        Enrolment, on_delete=models.SET_NULL, null=True, blank=True, related_name="cpd_record"
    )
    # The xAPI statement it came from, when an external platform reported it.
    statement_id = models.UUIDField(null=True, blank=True, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CpdStatus.choices, default=CpdStatus.PENDING
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("CPD record")
        verbose_name_plural = _("CPD records")
        ordering = ["-completed_on", "-pk"]
        indexes = [models.Index(fields=["person", "completed_on"], name="cpd_person_date")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.title}"


class CpdRequirement(models.Model):
    """What a role must reach in one calendar year (hours, credits or both)."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="cpd_requirements")
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, null=True, blank=True)
    credits = models.DecimalField(
        _("credits"), max_digits=6, decimal_places=1, null=True, blank=True
    )

    class Meta:
        verbose_name = _("CPD requirement")
        verbose_name_plural = _("CPD requirements")
        ordering = ["-year", "role"]
        constraints = [
            models.UniqueConstraint(fields=["role", "year"], name="cpd_requirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id} {self.year}"
