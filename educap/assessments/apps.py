from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "educap.assessments"
    label = "assessments"
    verbose_name = "Assessments and surveys"
