from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "educap.people"
    label = "people"
