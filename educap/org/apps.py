from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "educap.org"
    label = "org"
