"""Knowledge tests: an item bank tagged to competencies, cut scores, attempts."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import FrameworkItem, ScaleLevel
from educap.org.models import code_validator


class TestItemKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True / false")
    NUMERIC = "numeric", _("Numeric answer")


class TestItem(models.Model):
    """One question in the item bank, measuring one competency."""

    __test__ = False  # not a pytest class

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    competency = models.ForeignKey(
        FrameworkItem,
        on_delete=models.PROTECT,
        related_name="test_items",
        verbose_name=_("competency"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TestItemKind.choices)
    stem = models.TextField(_("question"))
    explanation = models.TextField(_("explanation shown after the test"), blank=True)
    # Numeric items: the answer and the tolerance either side of it.
    numeric_answer = models.DecimalField(
        _("correct answer"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    numeric_tolerance = models.DecimalField(
        _("tolerance"), max_digits=14, decimal_places=4, default=0
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["competency", "code"]
        verbose_name = _("test question")
        verbose_name_plural = _("test questions")

    def __str__(self) -> str:
        return self.code


class TestItemChoice(models.Model):
    __test__ = False

    test_item = models.ForeignKey(TestItem, on_delete=models.CASCADE, related_name="choices")
    sequence = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("answer"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ["test_item", "sequence", "id"]
        verbose_name = _("answer option")
        verbose_name_plural = _("answer options")

    def __str__(self) -> str:
        return self.text


class CutScore(models.Model):
    """The lowest test score (percent) that shows a level of a competency."""

    competency = models.ForeignKey(
        FrameworkItem, on_delete=models.CASCADE, related_name="cut_scores"
    )
    level = models.ForeignKey(ScaleLevel, on_delete=models.PROTECT, related_name="+")
    min_percent = models.PositiveSmallIntegerField(
        _("minimum score (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["competency", "min_percent"]
        verbose_name = _("cut score")
        verbose_name_plural = _("cut scores")
        constraints = [
            models.UniqueConstraint(fields=["competency", "level"], name="cut_score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.competency_id}: {self.min_percent}% → {self.level_id}"


class TestAttempt(models.Model):
    """A person's sitting of a campaign's knowledge test."""

    __test__ = False

    assignment = models.OneToOneField(
        "assessments.RaterAssignment", on_delete=models.CASCADE, related_name="test_attempt"
    )
    # Test item ids in the (randomised) order the person sees them.
    item_ids = models.JSONField(default=list)
    # {test item id: answer}; a choice id, a list of choice ids, "true"/"false" or a number.
    answers = models.JSONField(default=dict)
    # {competency id: percent} once scored.
    scores = models.JSONField(default=dict)
    started_at = models.DateTimeField(_("started at"))
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("test attempt")
        verbose_name_plural = _("test attempts")

    def __str__(self) -> str:
        return f"attempt {self.pk}"
