from modeltranslation.translator import TranslationOptions, register

from educap.org.models import OrgLevel, OrgUnit


@register(OrgLevel)
class OrgLevelTranslation(TranslationOptions):
    fields = ("name",)


@register(OrgUnit)
class OrgUnitTranslation(TranslationOptions):
    fields = ("name",)
