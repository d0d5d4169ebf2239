"""Certificates of completion and the installation's signing keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.people.models import Person
from educap.training.models.catalogue import Course
from educap.training.models.sessions import Enrolment


class SigningKey(models.Model):
    """A key pair the installation signs credentials with; the public half is published
    at /.well-known/jwks.json under its `kid`. Retired keys stay published so that
    credentials signed with them still verify."""

    kid = models.CharField(_("key id"), max_length=100, unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=10)  # "EdDSA" or "RS256"
    private_pem = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(_("used for new credentials"), default=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class Certificate(models.Model):
    """Proof that a person completed a course; the id is public (verification page)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrolment = models.OneToOneField(
        Enrolment, on_delete=models.PROTECT, related_name="certificate", null=True, blank=True
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="certificates")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    # What the certificate says, fixed at issue time.
    holder_name = models.CharField(_("holder"), max_length=250)
    course_title = models.CharField(_("course"), max_length=300)
    issuer_name = models.CharField(_("issuer"), max_length=300)
    completed_on = models.DateField(_("completed on"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.CharField(_("reason for revocation"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.course_title} — {self.holder_name}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
