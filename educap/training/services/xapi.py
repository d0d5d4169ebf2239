"""Writes for the xAPI set-up: client credentials and activity-to-course mappings.

Only system administrators manage them (actor None stands for the command line). A
client's secret is shown once, when it is created; only its hash is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.core.errors import field_error
from educap.training.errors import TrainingErrorCode
from educap.training.lrs.auth import hash_secret, new_key, new_secret
from educap.training.lrs.validate import is_iri
from educap.training.models import Course, XapiActivity, XapiClient

if TYPE_CHECKING:
    from educap.accounts.models import User


def xapi_manage_allowed(*, user: User | None) -> bool:
    return user is None or scope_for(user).is_admin


def _require_admin(actor: User | None) -> None:
    if not xapi_manage_allowed(user=actor):
        raise PermissionDenied(TrainingErrorCode.NOT_ALLOWED)


@transaction.atomic
def xapi_client_create(*, actor: User | None, name: str) -> tuple[XapiClient, str]:
    """New credentials for a learning record provider; returns the client and its secret,
    which is not stored and cannot be shown again."""
    _require_admin(actor)
    secret = new_secret()
    client = XapiClient(
        name=name.strip(), key=new_key(), secret_hash=hash_secret(secret), created_by=actor
    )
    client.full_clean()
    client.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=client,
        after={"name": client.name, "key": client.key},
    )
    return client, secret


@transaction.atomic
def xapi_client_deactivate(*, actor: User | None, client: XapiClient) -> XapiClient:
    """The credentials stop working at once; statements already sent stay."""
    _require_admin(actor)
    client = XapiClient.objects.select_for_update().get(pk=client.pk)
    if client.is_active:
        client.is_active = False
        client.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=client,
            before={"is_active": True},
            after={"is_active": False},
        )
    return client


@transaction.atomic
def xapi_activity_map(*, actor: User | None, activity_id: str, course: Course) -> XapiActivity:
    """From now on, completing this activity on the external platform completes `course`.

    Statements already stored are not processed again.
    """
    _require_admin(actor)
    activity_id = activity_id.strip()
    existing = XapiActivity.objects.filter(activity_id=activity_id).select_related("course")
    if (mapped := existing.first()) is not None:
        raise field_error(
            "activity_id",
            _("This activity is already mapped to %(course)s.") % {"course": mapped.course.code},
            "xapi_activity_mapped",
        )
    if not is_iri(activity_id) or len(activity_id) > 500:
        raise field_error(
            "activity_id",
            _("Give the activity's IRI, e.g. https://lms.example.org/course/view.php?id=12."),
            "xapi_activity_invalid",
        )
    activity = XapiActivity(activity_id=activity_id, course=course)
    # Activity ids are IRIs (urn:, tag: ...), wider than the URLs the field would accept.
    activity.full_clean(exclude=["activity_id"])
    activity.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=activity,
        after={"activity_id": activity_id, "course": course.code},
    )
    return activity


@transaction.atomic
def xapi_activity_unmap(*, actor: User | None, activity: XapiActivity) -> None:
    _require_admin(actor)
    before = {"activity_id": activity.activity_id, "course": activity.course.code}
    audit_record(actor=actor, action=AuditAction.DELETE, instance=activity, before=before)
    deleted, _count = XapiActivity.objects.filter(pk=activity.pk).delete()
    if not deleted:
        raise ValidationError(_("This mapping no longer exists."), code="xapi_activity_gone")
