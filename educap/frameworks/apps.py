from django.apps import AppConfig


class FrameworksConfig(AppConfig):
    name = "educap.frameworks"
    label = "frameworks"
