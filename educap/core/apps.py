from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "educap.core"
    label = "core"
