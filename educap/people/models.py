"""Staff records, the role catalogue, posts held (assignments) and vacant positions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from educap.org.models import OrgUnit, code_validator


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class Role(models.Model):
    """A job role in the ministry's catalogue (EMIS officer, data clerk, head teacher, ...)."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    is_supervisory = models.BooleanField(_("supervises staff"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A staff member.

    `unit`, `role` and `supervisor` mirror the person's current primary assignment. They are
    kept by the assignment services so that scoped lists of a million staff need no join
    through assignment history.
    """

    staff_number = models.CharField(
        _("staff number"), max_length=40, unique=True, validators=[code_validator]
    )
    national_id = models.CharField(_("national id"), max_length=40, blank=True)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    name_local = models.CharField(
        _("name in local script"), max_length=200, blank=True, help_text=_("For example in Arabic.")
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1930), MaxValueValidator(2015)],
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("unit"),
    )
    role = models.ForeignKey(
        Role,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("role"),
    )
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
        verbose_name=_("supervisor"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["unit", "family_name"], name="person_unit_name_idx"),
            models.Index(fields=["family_name", "given_name"], name="person_name_idx"),
            models.Index(fields=["role", "sex"], name="person_role_sex_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class Assignment(models.Model):
    """A post held by a person: role in a unit, with a supervisor, from start to end."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("person")
    )
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("role")
    )
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("unit")
    )
    supervisor = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_assignments",
        verbose_name=_("supervisor"),
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary post"), default=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["unit", "role"], name="assignment_unit_role_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.role} @ {self.unit}"

    def clean(self) -> None:
        if self.supervisor_id is not None and self.supervisor_id == self.person_id:
            raise ValidationError({"supervisor": _("A person cannot supervise themselves.")})


class Vacancy(models.Model):
    """A position that exists in a unit's establishment but has nobody in it."""

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="vacancies", verbose_name=_("unit")
    )
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, related_name="vacancies", verbose_name=_("role")
    )
    count = models.PositiveSmallIntegerField(_("number of posts"), default=1)
    opened_on = models.DateField(_("vacant since"))
    filled_on = models.DateField(_("filled on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-opened_on"]
        verbose_name = _("vacant position")
        verbose_name_plural = _("vacant positions")
        indexes = [models.Index(fields=["unit", "role"], name="vacancy_unit_role_idx")]

    def __str__(self) -> str:
        return f"{self.role} @ {self.unit} ({self.count})"
