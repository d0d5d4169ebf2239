"""The training catalogue: programmes, courses, their modules, competencies and materials."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import FrameworkItem
from educap.org.models import code_validator
from educap.people.models import Role


class Track(models.TextChoices):
    CORE = "core", _("Core (all staff)")
    ROLE = "role", _("Role-specific")
    LEADERSHIP = "leadership", _("Advanced and leadership")


class Modality(models.TextChoices):
    FACE_TO_FACE = "face", _("Face-to-face")
    ONLINE = "online", _("Online")
    BLENDED = "blended", _("Blended")
    WEBINAR = "webinar", _("Webinar")
    ON_THE_JOB = "job", _("On-the-job")
    MICROLEARNING = "micro", _("Microlearning")


class ProviderKind(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    UNIVERSITY = "university", _("University")
    NGO = "ngo", _("NGO")
    ONLINE = "online", _("Online platform")


class Programme(models.Model):
    """A group of courses (e.g. "EMIS data quality")."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Course(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    programme = models.ForeignKey(
        Programme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("programme"),
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    track = models.CharField(_("track"), max_length=12, choices=Track.choices, default=Track.CORE)
    modality = models.CharField(
        _("modality"), max_length=10, choices=Modality.choices, default=Modality.FACE_TO_FACE
    )
    duration_hours = models.DecimalField(
        _("duration (hours)"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    cpd_credits = models.DecimalField(
        _("CPD credits"),
        max_digits=6,
        decimal_places=1,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    provider_kind = models.CharField(
        _("provider"), max_length=12, choices=ProviderKind.choices, default=ProviderKind.INTERNAL
    )
    provider_name = models.CharField(_("provider name"), max_length=200, blank=True)
    prerequisites: models.ManyToManyField[Course, Any] = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="unlocks",
        verbose_name=_("prerequisites"),
    )
    target_roles: models.ManyToManyField[Role, Any] = models.ManyToManyField(
        Role, blank=True, related_name="courses", verbose_name=_("target roles")
    )
    # Cost model: fixed per cohort plus per participant, in the installation's currency.
    cost_per_cohort = models.DecimalField(
        _("cost per cohort"), max_digits=12, decimal_places=2, default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )  # fmt: skip
    cost_per_participant = models.DecimalField(
        _("cost per participant"), max_digits=12, decimal_places=2, default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )  # fmt: skip
    # Completion rule.
    min_attendance_percent = models.PositiveSmallIntegerField(
        _("minimum attendance (%)"), default=80, validators=[MaxValueValidator(100)]
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Empty when the course has no final test."),
    )
    records_evidence = models.BooleanField(
        _("completion counts as competency evidence"),
        default=False,
        help_text=_(
            "On completion, record the course's target level of each competency as "
            "evidence from training."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def cost_for(self, participants: int) -> Decimal:
        return self.cost_per_cohort + self.cost_per_participant * participants


class CourseCompetency(models.Model):
    """A competency the course develops, and the level it brings a learner to."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="competencies")
    item = models.ForeignKey(
        FrameworkItem,
        on_delete=models.CASCADE,
        related_name="courses",
        verbose_name=_("competency"),
    )
    level = models.PositiveSmallIntegerField(_("level reached"))

    class Meta:
        verbose_name = _("course competency")
        verbose_name_plural = _("course competencies")
        constraints = [
            models.UniqueConstraint(fields=["course", "item"], name="course_competency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.item_id} → {self.level}"


class CourseModule(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    sequence = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    duration_hours = models.DecimalField(
        _("duration (hours)"), max_digits=6, decimal_places=1, null=True, blank=True
    )

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["course", "sequence", "pk"]

    def __str__(self) -> str:
        return self.title


class CourseMaterial(models.Model):
    """A file or a link learners and facilitators use."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to="training/materials/", blank=True)
    url = models.URLField(_("link"), blank=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["course", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if bool(self.file) == bool(self.url):
            raise ValidationError(_("Give either a file or a link."), code="material_file_or_link")
