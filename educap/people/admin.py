from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from educap.audit.admin import AuditedAdminMixin
from educap.people.models import Role, Vacancy


@admin.register(Role)
class RoleAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "name", "is_supervisory"]
    search_fields = ["code", "name"]


@admin.register(Vacancy)
class VacancyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "role", "count", "opened_on", "filled_on"]
    raw_id_fields = ["unit"]
    list_filter = ["role"]
