"""Survey questionnaires (e.g. the Management and Administration Skills Survey)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.org.models import code_validator


class Survey(models.Model):
    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    version = models.CharField(_("version"), max_length=40, default="1.0")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.title


class SurveySection(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(_("code"), max_length=60, validators=[code_validator])
    sequence = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["survey", "sequence", "id"]
        verbose_name = _("survey section")
        verbose_name_plural = _("survey sections")
        constraints = [
            models.UniqueConstraint(fields=["survey", "code"], name="survey_section_unique")
        ]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    LIKERT = "likert", _("Agreement scale (1–5)")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")


class SurveyQuestion(models.Model):
    section = models.ForeignKey(SurveySection, on_delete=models.CASCADE, related_name="questions")
    # Unique within the survey: it names the field in XLSForms and exports.
    code = models.CharField(_("code"), max_length=60, validators=[code_validator])
    sequence = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text = models.TextField(_("question"))
    help_text = models.TextField(_("hint"), blank=True)
    required = models.BooleanField(_("required"), default=False)
    min_value = models.DecimalField(
        _("minimum"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=14, decimal_places=4, null=True, blank=True
    )

    class Meta:
        ordering = ["section", "sequence", "id"]
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")

    def __str__(self) -> str:
        return self.code


class SurveyChoice(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="choices")
    code = models.CharField(_("code"), max_length=60, validators=[code_validator])
    sequence = models.PositiveSmallIntegerField(_("order"), default=0)
    label = models.CharField(_("label"), max_length=300)

    class Meta:
        ordering = ["question", "sequence", "id"]
        verbose_name = _("survey choice")
        verbose_name_plural = _("survey choices")
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="survey_choice_unique")
        ]

    def __str__(self) -> str:
        return self.label


class SurveyResponse(models.Model):
    """One person's answers to a campaign's survey (web or offline)."""

    assignment = models.OneToOneField(
        "assessments.RaterAssignment", on_delete=models.CASCADE, related_name="survey_response"
    )
    submission = models.ForeignKey(
        "assessments.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")

    def __str__(self) -> str:
        return f"response {self.pk}"


class SurveyAnswer(models.Model):
    """One answer; a multiple-choice question has one row per choice ticked."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    choice = models.ForeignKey(
        SurveyChoice, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    number = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [models.Index(fields=["question", "choice"], name="survey_answer_question_idx")]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"
