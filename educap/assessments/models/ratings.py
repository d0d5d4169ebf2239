"""Ratings are evidence and never change; current levels are derived from them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import FrameworkItem, ScaleLevel
from educap.people.models import Person


class Source(models.TextChoices):
    SELF = "self", _("Self")
    SUPERVISOR = "supervisor", _("Supervisor")
    PEER = "peer", _("Peer")
    TEST = "test", _("Knowledge test")
    TRAINING = "training", _("Training")
    EXTERNAL = "external", _("External assessment")


class Submission(models.Model):
    """One offline form submission (ODK Central / KoboToolbox), kept to make imports idempotent."""

    campaign = models.ForeignKey(
        "assessments.Campaign", on_delete=models.CASCADE, related_name="submissions"
    )
    instance_id = models.CharField(_("submission id"), max_length=120)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    rater = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    # SHA-256 of the normalised answers: a re-sent submission with other answers is refused.
    digest = models.CharField(max_length=64)
    submitted_at = models.DateTimeField(_("submitted at"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=255, blank=True)

    class Meta:
        ordering = ["campaign", "instance_id"]
        verbose_name = _("offline submission")
        verbose_name_plural = _("offline submissions")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "instance_id"], name="submission_instance_unique"
            )
        ]

    def __str__(self) -> str:
        return self.instance_id


class Rating(models.Model):
    """One piece of evidence: who was rated on what, from which source, at which level, when.

    A fact table (tens of millions of rows at national scale, loaded with COPY): the
    foreign keys are checked by the services that write it, not by database triggers,
    and Django's PROTECT still guards deletes of people and competencies. Only the
    (person, competency) index is kept: each extra index adds about a quarter to a
    bulk load (bench/RESULTS.md).
    """

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_constraint=False,
        db_index=False,
    )
    item = models.ForeignKey(
        FrameworkItem,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_constraint=False,
        db_index=False,
        verbose_name=_("competency"),
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    value = models.PositiveSmallIntegerField(_("level"))
    rater = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings_given",
        db_constraint=False,
        db_index=False,
    )
    campaign = models.ForeignKey(
        "assessments.Campaign",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_constraint=False,
        db_index=False,
    )
    assignment = models.ForeignKey(
        "assessments.RaterAssignment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_constraint=False,
        db_index=False,
    )
    submission = models.ForeignKey(
        Submission,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_constraint=False,
        db_index=False,
    )
    rated_at = models.DateTimeField(_("rated at"))
    comment = models.TextField(_("comment"), blank=True)
    evidence = models.TextField(_("evidence"), blank=True)

    class Meta:
        ordering = ["person", "item", "-rated_at"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        indexes = [
            models.Index(fields=["person", "item", "rated_at"], name="rating_person_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.item_id}: {self.value} ({self.source})"


class DraftRating(models.Model):
    """An answer saved while a rater works through a form; evidence only once submitted."""

    assignment = models.ForeignKey(
        "assessments.RaterAssignment", on_delete=models.CASCADE, related_name="drafts"
    )
    item = models.ForeignKey(FrameworkItem, on_delete=models.CASCADE, related_name="+")
    level = models.ForeignKey(
        ScaleLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the rater cannot judge."),
    )
    comment = models.TextField(_("comment"), blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("draft answer")
        verbose_name_plural = _("draft answers")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "item"], name="draft_rating_unique")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}/{self.item_id}"


class CurrentLevel(models.Model):
    """The consolidated level of one person in one competency (see docs/assessments.md)."""

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="current_levels",
        db_constraint=False,
        db_index=False,  # the (person, item) unique constraint serves person lookups
    )
    item = models.ForeignKey(
        FrameworkItem,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the (item, value) index serves item lookups
    )
    value = models.PositiveSmallIntegerField(_("level"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    rating = models.ForeignKey(
        Rating,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    rated_at = models.DateTimeField(_("rated at"))
    # After this moment the evidence has expired and the level must be recomputed.
    valid_until = models.DateTimeField(_("valid until"))
    # Latest valid self and supervisor ratings, whichever won: for calibration reports.
    self_value = models.PositiveSmallIntegerField(_("self rating"), null=True, blank=True)
    supervisor_value = models.PositiveSmallIntegerField(
        _("supervisor rating"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("current level")
        verbose_name_plural = _("current levels")
        constraints = [
            models.UniqueConstraint(fields=["person", "item"], name="current_level_unique")
        ]
        indexes = [
            models.Index(fields=["item", "value"], name="current_level_item_idx"),
            models.Index(fields=["valid_until"], name="current_level_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.item_id}: {self.value}"


class CurrentLevelChange(models.Model):
    """The feed of current-level changes that the gap engine applies as deltas.

    A small refresh writes each changed row twice, in the same transaction as the change:
    the row as it was (sign -1) and as it is now (+1); a missing row writes nothing. The
    consumer (educap.gaps.engine.gaps_apply_changes) adds the signed contributions to its
    rollups and deletes what it applied; a rebuild of the rollups discards the feed.
    """

    person_id = models.BigIntegerField()
    item_id = models.BigIntegerField()
    value = models.PositiveSmallIntegerField()
    self_value = models.PositiveSmallIntegerField(null=True)
    supervisor_value = models.PositiveSmallIntegerField(null=True)
    sign = models.SmallIntegerField()

    class Meta:
        verbose_name = _("current level change")
        verbose_name_plural = _("current level changes")

    def __str__(self) -> str:
        return f"{self.sign:+d} {self.person_id}/{self.item_id}={self.value}"
