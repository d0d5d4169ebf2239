"""User accounts and grants (access = role x org-unit subtree)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from educap.org.models import OrgUnit
from educap.people.models import Person


class User(AbstractUser):
    person = models.OneToOneField(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user",
        verbose_name=_("staff record"),
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class GrantKind(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    CENTRAL_OFFICER = "central_officer", _("Central L&D / HR officer")
    UNIT_MANAGER = "unit_manager", _("Unit manager (governorate or district)")
    SUPERVISOR = "supervisor", _("Supervisor of direct reports")
    STAFF = "staff", _("Staff member")
    TRAINER = "trainer", _("Trainer / facilitator")
    PARTNER_VIEWER = "partner_viewer", _("Development-partner viewer (aggregates only)")


# Kinds whose scope is a whole org-unit subtree of personal data.
SUBTREE_KINDS = frozenset({GrantKind.CENTRAL_OFFICER, GrantKind.UNIT_MANAGER})
# Kinds that must sign in with a second factor when EDUCAP_REQUIRE_2FA is on.
ELEVATED_KINDS = frozenset(
    {
        GrantKind.SYSTEM_ADMIN,
        GrantKind.CENTRAL_OFFICER,
        GrantKind.UNIT_MANAGER,
        GrantKind.TRAINER,
        GrantKind.PARTNER_VIEWER,
    }
)


class GrantQuerySet(models.QuerySet["Grant"]):
    def active(self) -> GrantQuerySet:
        today = timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


class Grant(models.Model):
    """ "District officer for district D and everything under it"."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="grants", verbose_name=_("user")
    )
    kind = models.CharField(_("grant"), max_length=20, choices=GrantKind.choices)
    unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants",
        verbose_name=_("org unit"),
        help_text=_("The top of the subtree the grant covers."),
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["user", "kind"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "unit"], name="grant_unique"),
        ]

    def __str__(self) -> str:
        where = f" @ {self.unit}" if self.unit_id else ""
        return f"{self.get_kind_display()}{where}"

    def clean(self) -> None:
        needs_unit = self.kind in SUBTREE_KINDS or self.kind == GrantKind.PARTNER_VIEWER
        if needs_unit and self.unit_id is None:
            raise ValidationError({"unit": _("This kind of grant needs an org unit.")})
