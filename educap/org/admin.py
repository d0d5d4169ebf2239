from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from educap.audit.admin import AuditedAdminMixin
from educap.org.models import OrgLevel, OrgUnit


@admin.register(OrgLevel)
class OrgLevelAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "name", "depth"]


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ["code", "name", "level", "parent", "closed_on"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path", "depth", "parent"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A new unit's place is set here; moving one goes through orgunit_move (keeps paths).
        return ["path", "depth"] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            parent = obj.parent
            obj.path, obj.depth = "", 0
            super().save_model(request, obj, form, change)
            obj.path = f"{parent.path if parent else ''}{obj.pk}/"
            obj.depth = parent.depth + 1 if parent else 0
            type(obj).objects.filter(pk=obj.pk).update(path=obj.path, depth=obj.depth)
            return
        super().save_model(request, obj, form, change)
