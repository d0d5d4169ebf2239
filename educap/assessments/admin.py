"""Django admin for assessments: editing aids for administrators, audited like every write.

Evidence (ratings, current levels, attempts, responses) is read-only here: it changes only
through the services, which keep current levels and the audit trail consistent.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from educap.assessments.models import (
    Campaign,
    CurrentLevel,
    CutScore,
    DraftRating,
    RaterAssignment,
    Rating,
    Submission,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    TestAttempt,
    TestItem,
    TestItemChoice,
)
from educap.audit.admin import AuditedAdminMixin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence and answers: look, never touch."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "title", "framework", "status", "opens_on", "closes_on"]
    list_filter = ["status", "collect_test", "collect_survey"]
    search_fields = ["code", "title"]
    raw_id_fields = ["framework", "survey", "created_by"]
    filter_horizontal = ["target_units", "target_roles"]
    raw_id_fields += ["target_people"]
    readonly_fields = ["status", "launched_at", "closed_at", "created_at", "updated_at"]


@admin.register(RaterAssignment)
class RaterAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["campaign", "kind", "ratee", "rater", "status", "submitted_at"]
    list_filter = ["kind", "status", "campaign"]
    search_fields = ["ratee__staff_number", "rater__staff_number", "campaign__code"]
    raw_id_fields = ["campaign", "ratee", "rater", "unit", "role", "profile"]
    list_select_related = ["campaign", "ratee", "rater"]
    readonly_fields = ["started_at", "submitted_at", "reminded_at"]


class TestItemChoiceInline(TranslationTabularInline):
    model = TestItemChoice
    extra = 0


@admin.register(TestItem)
class TestItemAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "competency", "kind", "is_active"]
    list_filter = ["kind", "is_active", "competency__framework"]
    search_fields = ["code", "stem"]
    raw_id_fields = ["competency"]
    list_select_related = ["competency"]
    inlines = [TestItemChoiceInline]


@admin.register(CutScore)
class CutScoreAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["competency", "level", "min_percent"]
    raw_id_fields = ["competency", "level"]
    list_select_related = ["competency", "level"]


class SurveySectionInline(TranslationTabularInline):
    model = SurveySection
    extra = 0
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "title", "version"]
    search_fields = ["code", "title"]
    inlines = [SurveySectionInline]


class SurveyQuestionInline(TranslationTabularInline):
    model = SurveyQuestion
    extra = 0
    show_change_link = True
    fields = ["code", "sequence", "kind", "text", "required", "min_value", "max_value"]


@admin.register(SurveySection)
class SurveySectionAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["survey", "code", "sequence", "title"]
    list_filter = ["survey"]
    inlines = [SurveyQuestionInline]


class SurveyChoiceInline(TranslationTabularInline):
    model = SurveyChoice
    extra = 0


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "section", "kind", "required"]
    list_filter = ["kind", "section__survey"]
    search_fields = ["code", "text"]
    inlines = [SurveyChoiceInline]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["person", "item", "source", "value", "rated_at", "campaign"]
    list_filter = ["source"]
    search_fields = ["person__staff_number", "item__code"]
    list_select_related = ["person", "item", "campaign"]
    raw_id_fields = ["person", "item", "rater", "campaign", "assignment", "submission"]


@admin.register(CurrentLevel)
class CurrentLevelAdmin(ReadOnlyAdmin):
    list_display = ["person", "item", "value", "source", "rated_at", "valid_until"]
    list_filter = ["source"]
    search_fields = ["person__staff_number", "item__code"]
    list_select_related = ["person", "item"]


@admin.register(DraftRating)
class DraftRatingAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "item", "level", "updated_at"]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["instance_id", "campaign", "person", "source", "submitted_at"]
    search_fields = ["instance_id"]


@admin.register(TestAttempt)
class TestAttemptAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "started_at", "deadline", "submitted_at"]


class SurveyAnswerInline(admin.TabularInline):
    model = SurveyAnswer
    extra = 0
    can_delete = False
    readonly_fields = ["question", "choice", "number", "text"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "submitted_at", "updated_at"]
    inlines = [SurveyAnswerInline]
