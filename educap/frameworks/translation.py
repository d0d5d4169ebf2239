from modeltranslation.translator import TranslationOptions, register

from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    LevelIndicator,
    ProficiencyScale,
    RoleProfile,
    ScaleLevel,
)


@register(ProficiencyScale)
class ProficiencyScaleTranslation(TranslationOptions):
    fields = ("name", "description")


@register(ScaleLevel)
class ScaleLevelTranslation(TranslationOptions):
    fields = ("name", "descriptor")


@register(Framework)
class FrameworkTranslation(TranslationOptions):
    fields = ("title", "description")


@register(FrameworkItem)
class FrameworkItemTranslation(TranslationOptions):
    fields = ("statement", "description")


@register(LevelIndicator)
class LevelIndicatorTranslation(TranslationOptions):
    fields = ("text",)


@register(RoleProfile)
class RoleProfileTranslation(TranslationOptions):
    fields = ("name",)
