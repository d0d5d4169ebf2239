from modeltranslation.translator import TranslationOptions, register

from educap.training.models import Course, CourseModule, Programme


@register(Programme)
class ProgrammeTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Course)
class CourseTranslation(TranslationOptions):
    fields = ("title", "description")


@register(CourseModule)
class CourseModuleTranslation(TranslationOptions):
    fields = ("title", "description")
