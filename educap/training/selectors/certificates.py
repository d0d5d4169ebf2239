"""Reads of certificates, limited to what the caller may see.

A holder sees their own; a supervisor, their direct reports'; unit managers and central
officers, those of the staff in their subtree and those from sessions their units organised;
system administrators, all. The public verification page reads one certificate by its
(unguessable) id and shows only what the certificate itself says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404

from educap.accounts.scope import scope_for
from educap.org.models import OrgUnit
from educap.training.models import Certificate

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User

    AnyUser = User | AnonymousUser

STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"
STATUSES = (STATUS_VALID, STATUS_REVOKED)


def _base() -> QuerySet[Certificate]:
    return Certificate.objects.select_related(
        "course", "person", "person__unit", "enrolment__session__unit"
    )


def _visible(user: AnyUser) -> Q:
    scope = scope_for(user)
    if scope.is_admin:
        return Q()
    query = scope.person_q("person__")
    for path in scope.subtree_paths:
        query |= Q(enrolment__session__unit__path__startswith=path)
    return query


def my_certificates(*, user: AnyUser) -> QuerySet[Certificate]:
    person_id = scope_for(user).person_id
    if person_id is None:
        return Certificate.objects.none()
    return _base().filter(person_id=person_id).order_by("-completed_on", "-issued_at")


def certificate_list(
    *,
    user: AnyUser,
    search: str = "",
    status: str = "",
    course: str = "",
    unit: OrgUnit | None = None,
    completed_from: dt.date | None = None,
    completed_to: dt.date | None = None,
) -> QuerySet[Certificate]:
    """Certificates the caller may see, newest completion first.

    `search` matches the holder's name, staff number, the course code or title, or the start
    of the certificate id; `unit` keeps the holders in that unit's subtree and the sessions
    it organised."""
    certificates = _base().filter(_visible(user))
    term = search.strip()
    if term:
        match = (
            Q(holder_name__icontains=term)
            | Q(person__staff_number__iexact=term)
            | Q(course__code__iexact=term)
            | Q(course_title__icontains=term)
        )
        with contextlib.suppress(ValueError):
            match |= Q(pk=uuid.UUID(term))
        certificates = certificates.filter(match)
    if status == STATUS_VALID:
        certificates = certificates.filter(revoked_at__isnull=True)
    elif status == STATUS_REVOKED:
        certificates = certificates.filter(revoked_at__isnull=False)
    if course:
        certificates = certificates.filter(course__code=course)
    if unit is not None:
        certificates = certificates.filter(
            Q(person__unit__path__startswith=unit.path)
            | Q(enrolment__session__unit__path__startswith=unit.path)
        )
    if completed_from is not None:
        certificates = certificates.filter(completed_on__gte=completed_from)
    if completed_to is not None:
        certificates = certificates.filter(completed_on__lte=completed_to)
    return certificates.order_by("-completed_on", "-issued_at")


def certificate_get(*, user: AnyUser, pk: uuid.UUID | str) -> Certificate:
    """A certificate the caller may see; 404 for everyone else (ids are not confirmed)."""
    try:
        key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
        return _base().filter(_visible(user)).get(pk=key)
    except (Certificate.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def certificate_for_verification(*, pk: str) -> Certificate | None:
    """Anyone may check a certificate by its id: one row, its own fields only."""
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        return None
    return Certificate.objects.select_related("course").filter(pk=key).first()


def certificate_course_title(certificate: Certificate, language: str) -> str:
    """The course title in `language` when the course still has the title the certificate
    was issued with (in any language); otherwise the title as issued."""
    course = certificate.course
    titles = {
        code: getattr(course, f"title_{code}", None) or "" for code, _name in settings.LANGUAGES
    }
    if certificate.course_title in titles.values() and titles.get(language):
        return titles[language]
    return certificate.course_title
