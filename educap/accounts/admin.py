from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from educap.accounts.models import Grant, User
from educap.audit.admin import AuditedAdminMixin


class GrantInline(admin.TabularInline):
    model = Grant
    fk_name = "user"
    extra = 0
    raw_id_fields = ["unit"]
    fields = ["kind", "unit", "ends_on"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "person", "is_active"]
    raw_id_fields = ["person"]
    inlines = [GrantInline]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        ("EduCap", {"fields": ("person", "language")}),
    )

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        from educap.audit.models import AuditAction
        from educap.audit.services import audit_record, snapshot

        instances = formset.save(commit=False)
        for grant in formset.deleted_objects:
            audit_record(actor=request.user, action=AuditAction.REVOKE, instance=grant)
            grant.delete()
        for grant in instances:
            grant.granted_by = grant.granted_by or request.user
            grant.save()
            audit_record(
                actor=request.user, action=AuditAction.GRANT, instance=grant, after=snapshot(grant)
            )
        formset.save_m2m()
