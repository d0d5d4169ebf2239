from modeltranslation.translator import TranslationOptions, register

from educap.assessments.models import (
    Campaign,
    Survey,
    SurveyChoice,
    SurveyQuestion,
    SurveySection,
    TestItem,
    TestItemChoice,
)


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = ("title", "description")


@register(TestItem)
class TestItemTranslation(TranslationOptions):
    fields = ("stem", "explanation")


@register(TestItemChoice)
class TestItemChoiceTranslation(TranslationOptions):
    fields = ("text",)


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "description")


@register(SurveySection)
class SurveySectionTranslation(TranslationOptions):
    fields = ("title", "description")


@register(SurveyQuestion)
class SurveyQuestionTranslation(TranslationOptions):
    fields = ("text", "help_text")


@register(SurveyChoice)
class SurveyChoiceTranslation(TranslationOptions):
    fields = ("label",)
