"""Campaigns and who rates whom in them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import Framework, RoleProfile
from educap.org.models import OrgUnit, code_validator
from educap.people.models import Person, Role


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class PeerChooser(models.TextChoices):
    PERSON = "person", _("The person rated")
    SUPERVISOR = "supervisor", _("The supervisor")


class Campaign(models.Model):
    """One assessment round against one framework version."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    framework = models.ForeignKey(
        Framework,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("framework version"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    # Target: people in any of these subtrees (all units when empty) holding any of these
    # roles (all roles when empty), plus the people named.
    target_units = models.ManyToManyField(
        OrgUnit,
        blank=True,
        related_name="targeting_campaigns",
        verbose_name=_("org units (with their subtrees)"),
    )
    target_roles: models.ManyToManyField[Role, Any] = models.ManyToManyField(
        Role, blank=True, related_name="targeting_campaigns", verbose_name=_("roles")
    )
    target_people: models.ManyToManyField[Person, Any] = models.ManyToManyField(
        Person, blank=True, related_name="targeting_campaigns", verbose_name=_("named people")
    )
    collect_self = models.BooleanField(_("self rating"), default=True)
    collect_supervisor = models.BooleanField(_("supervisor rating"), default=True)
    collect_peer = models.BooleanField(_("peer / 360 rating"), default=False)
    peer_count = models.PositiveSmallIntegerField(
        _("peers per person"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    peer_chooser = models.CharField(
        _("peers chosen by"), max_length=10, choices=PeerChooser.choices, default=PeerChooser.PERSON
    )
    collect_test = models.BooleanField(_("knowledge test"), default=False)
    test_items_per_competency = models.PositiveSmallIntegerField(
        _("test questions per competency"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    test_time_limit_minutes = models.PositiveSmallIntegerField(
        _("test time limit (minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty for no time limit."),
    )
    collect_survey = models.BooleanField(_("survey questions"), default=False)
    survey = models.ForeignKey(
        "assessments.Survey",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("survey"),
    )
    supervisor_sees_self = models.BooleanField(
        _("supervisors see the self rating before rating"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opens_on", "code"]
        verbose_name = _("assessment campaign")
        verbose_name_plural = _("assessment campaigns")

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            errors["closes_on"] = _("The campaign cannot close before it opens.")
        if self.collect_survey and self.survey_id is None:
            errors["survey"] = _("Choose the survey this campaign collects.")
        if not (
            self.collect_self
            or self.collect_supervisor
            or self.collect_peer
            or self.collect_test
            or self.collect_survey
        ):
            errors["collect_self"] = _("Collect at least one source.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN

    @property
    def kinds(self) -> list[str]:
        """Assignment kinds this campaign collects, in display order."""
        enabled = [
            (AssignmentKind.SELF, self.collect_self),
            (AssignmentKind.SUPERVISOR, self.collect_supervisor),
            (AssignmentKind.PEER, self.collect_peer),
            (AssignmentKind.TEST, self.collect_test),
            (AssignmentKind.SURVEY, self.collect_survey),
        ]
        return [str(kind) for kind, on in enabled if on]


class AssignmentKind(models.TextChoices):
    SELF = "self", _("Self rating")
    SUPERVISOR = "supervisor", _("Supervisor rating")
    PEER = "peer", _("Peer rating")
    TEST = "test", _("Knowledge test")
    SURVEY = "survey", _("Survey")


class AssignmentStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    STARTED = "started", _("Started")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RaterAssignment(models.Model):
    """Who answers what about whom: a rater rating a ratee, or a person taking a test or survey.

    `unit`, `role` and `profile` are the ratee's at launch: the profile decides which
    competencies are rated, the unit places the assignment in the progress rollup.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("campaign")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AssignmentKind.choices)
    ratee = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", verbose_name=_("person rated")
    )
    rater = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", verbose_name=_("rater")
    )
    unit = models.ForeignKey(
        OrgUnit, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    role = models.ForeignKey(
        Role, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("role")
    )
    profile = models.ForeignKey(
        RoleProfile,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("role profile"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.INVITED,
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "ratee", "kind"]
        verbose_name = _("rater assignment")
        verbose_name_plural = _("rater assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "ratee", "rater", "kind"], name="assignment_unique"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "unit"], name="assignment_campaign_unit_idx"),
            models.Index(fields=["rater", "status"], name="assignment_rater_status_idx"),
            models.Index(fields=["ratee", "campaign"], name="assignment_ratee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign.code}: {self.rater_id} → {self.ratee_id} ({self.kind})"

    @property
    def is_open(self) -> bool:
        return self.campaign.is_open and self.status in (
            AssignmentStatus.INVITED,
            AssignmentStatus.STARTED,
        )
