from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "educap.audit"
    label = "audit"
