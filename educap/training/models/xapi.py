"""xAPI: the external platforms allowed to send statements, what they sent, and which
activities stand for which course."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from educap.people.models import Person
from educap.training.models.catalogue import Course


class XapiClient(models.Model):
    """Credentials of one learning record provider (HTTP basic auth)."""

    name = models.CharField(_("name"), max_length=200)
    key = models.CharField(_("key"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("xAPI client")
        verbose_name_plural = _("xAPI clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class XapiActivity(models.Model):
    """An activity IRI of an external platform that stands for one of our courses."""

    # An IRI: not only http(s) URLs (urn:, tag: ...), checked by the xAPI validator.
    activity_id = models.CharField(_("activity id"), max_length=500, unique=True)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="xapi_activities")

    class Meta:
        verbose_name = _("xAPI activity")
        verbose_name_plural = _("xAPI activities")

    def __str__(self) -> str:
        return self.activity_id


class XapiStatement(models.Model):
    """A stored statement, as received plus the LRS's own properties."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(XapiClient, on_delete=models.PROTECT, related_name="statements")
    statement = models.JSONField()
    verb_id = models.CharField(max_length=500, db_index=True)
    activity_id = models.CharField(max_length=500, blank=True, db_index=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="xapi_statements"
    )
    voided = models.BooleanField(default=False)
    stored = models.DateTimeField(auto_now_add=True, db_index=True)
    # What the statement turned into here, if anything ("enrolment", "cpd", "").
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("xAPI statement")
        verbose_name_plural = _("xAPI statements")
        ordering = ["-stored"]

    def __str__(self) -> str:
        return str(self.id)
