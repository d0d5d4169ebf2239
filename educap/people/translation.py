from modeltranslation.translator import TranslationOptions, register

from educap.people.models import Role


@register(Role)
class RoleTranslation(TranslationOptions):
    fields = ("name", "description")
