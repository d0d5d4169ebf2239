"""Revoking certificates: who may, what it needs, what it records; and the scoped reads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from educap.accounts.models import GrantKind
from educap.assessments.tests.factories import make_published_framework
from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry, make_user
from educap.frameworks.models import Framework
from educap.people.models import Person
from educap.training.models import Certificate, Course
from educap.training.selectors.certificates import (
    certificate_course_title,
    certificate_list,
    my_certificates,
)
from educap.training.services.certificates import (
    CertificateErrorCode,
    certificate_reinstate,
    certificate_revoke,
    certificate_revoke_allowed,
)
from educap.training.services.completion import enrolment_complete
from educap.training.tests.factories import make_course, make_enrolment, make_session

pytestmark = pytest.mark.django_db


def issue_certificate(
    ministry: MiniMinistry,
    person: str = "g1d1_teacher",
    *,
    unit: str = "G1D1",
    course_code: str = "C-DQ1",
    session_code: str = "S-1",
    framework: Framework | None = None,
    completed_on: dt.date = dt.date(2026, 3, 3),
) -> Certificate:
    """A certificate for `person` from a session organised by `unit`."""
    course = Course.objects.filter(code=course_code).first() or make_course(
        course_code, framework=framework
    )
    session = make_session(course, ministry.units[unit], code=session_code)
    enrolment = make_enrolment(session, ministry.people[person])
    return enrolment_complete(actor=None, enrolment=enrolment, completed_on=completed_on)


@pytest.fixture
def certificate(ministry: MiniMinistry) -> Certificate:
    return issue_certificate(ministry, framework=make_published_framework())


def test_who_may_revoke(ministry: MiniMinistry, certificate: Certificate) -> None:
    g2 = make_user("g2", None, [(GrantKind.UNIT_MANAGER, ministry.units["G2"])])
    allowed = {
        name: certificate_revoke_allowed(user=user, certificate=certificate)
        for name, user in ministry.users.items()
    }
    allowed["g2"] = certificate_revoke_allowed(user=g2, certificate=certificate)
    # Central officers and admins anywhere; managers of the organising unit or above it.
    assert allowed == {
        "admin": True,
        "central": True,
        "gov1": True,
        "dist": True,
        "head": False,
        "teacher": False,  # the holder
        "trainer": False,
        "partner": False,
        "g2": False,
    }


def test_revoke_records_reason_and_audits(ministry: MiniMinistry, certificate: Certificate) -> None:
    revoked = certificate_revoke(
        actor=ministry.users["dist"], certificate=certificate, reason="  Attendance  forged "
    )
    revoked.refresh_from_db()
    assert not revoked.is_valid
    assert revoked.revocation_reason == "Attendance forged"
    assert revoked.revoked_by == ministry.users["dist"]
    event = AuditEvent.objects.filter(object_id=str(certificate.pk)).latest("pk")
    assert event.actor == ministry.users["dist"]
    assert event.after is not None
    assert event.after["revocation_reason"] == "Attendance forged"
    assert event.before == {"revoked_at": None, "revoked_by_id": None, "revocation_reason": ""}


def test_revoke_needs_a_reason(ministry: MiniMinistry, certificate: Certificate) -> None:
    with pytest.raises(ValidationError) as error:
        certificate_revoke(actor=ministry.users["central"], certificate=certificate, reason=" ")
    assert error.value.error_dict["reason"][0].code == CertificateErrorCode.REASON_REQUIRED
    with pytest.raises(ValidationError) as error:
        certificate_revoke(
            actor=ministry.users["central"], certificate=certificate, reason="x" * 301
        )
    assert error.value.error_dict["reason"][0].code == CertificateErrorCode.REASON_TOO_LONG
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_stranger_and_holder_cannot_revoke(
    ministry: MiniMinistry, certificate: Certificate
) -> None:
    for name in ("teacher", "head", "partner"):
        with pytest.raises(PermissionDenied):
            certificate_revoke(actor=ministry.users[name], certificate=certificate, reason="No")
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_revoke_twice_then_reinstate(ministry: MiniMinistry, certificate: Certificate) -> None:
    certificate_revoke(actor=ministry.users["admin"], certificate=certificate, reason="Error")
    with pytest.raises(ValidationError) as error:
        certificate_revoke(actor=ministry.users["admin"], certificate=certificate, reason="Again")
    assert error.value.code == CertificateErrorCode.ALREADY_REVOKED
    reinstated = certificate_reinstate(
        actor=ministry.users["central"], certificate=certificate, reason="Wrong person revoked"
    )
    assert reinstated.is_valid
    assert reinstated.revocation_reason == ""
    with pytest.raises(ValidationError) as error:
        certificate_reinstate(actor=ministry.users["admin"], certificate=certificate, reason="x")
    assert error.value.code == CertificateErrorCode.NOT_REVOKED
    event = AuditEvent.objects.filter(object_id=str(certificate.pk)).latest("pk")
    assert event.after is not None
    assert event.after["reinstated_because"] == "Wrong person revoked"


def test_scoped_reads(ministry: MiniMinistry, certificate: Certificate) -> None:
    other = issue_certificate(ministry, "g2d1_teacher", unit="G2D1", session_code="S-2")
    assert list(my_certificates(user=ministry.users["teacher"])) == [certificate]
    assert list(certificate_list(user=ministry.users["teacher"])) == [certificate]
    # The teacher's supervisor sees the teacher's; the district manager its staff and sessions.
    assert list(certificate_list(user=ministry.users["head"])) == [certificate]
    assert list(certificate_list(user=ministry.users["dist"])) == [certificate]
    assert set(certificate_list(user=ministry.users["central"])) == {certificate, other}
    assert set(certificate_list(user=ministry.users["admin"])) == {certificate, other}
    assert list(certificate_list(user=ministry.users["partner"])) == []
    assert list(certificate_list(user=ministry.users["trainer"])) == []


def test_manager_sees_certificates_of_sessions_their_unit_organised(
    ministry: MiniMinistry,
) -> None:
    # A G2 teacher trained in a session organised by district G1D1.
    visiting = issue_certificate(ministry, "g2d1_teacher", unit="G1D1")
    assert list(certificate_list(user=ministry.users["dist"])) == [visiting]


def test_list_filters(ministry: MiniMinistry, certificate: Certificate) -> None:
    other = issue_certificate(
        ministry, "g2d1_teacher", unit="G2D1", course_code="C-OTHER", session_code="S-2",
        completed_on=dt.date(2026, 5, 1),
    )  # fmt: skip
    admin = ministry.users["admin"]
    certificate_revoke(actor=admin, certificate=other, reason="Duplicate")
    person: Person = certificate.person

    def codes(**filters: object) -> set[str]:
        return {c.course.code for c in certificate_list(user=admin, **filters)}  # type: ignore[arg-type]

    assert codes(status="valid") == {"C-DQ1"}
    assert codes(status="revoked") == {"C-OTHER"}
    assert codes(course="C-OTHER") == {"C-OTHER"}
    assert codes(search=person.staff_number) == {"C-DQ1"}
    assert codes(search=person.family_name.lower()) == {"C-DQ1"}
    assert codes(search=str(other.pk)) == {"C-OTHER"}
    assert codes(unit=ministry.units["G2"]) == {"C-OTHER"}
    assert codes(completed_from=dt.date(2026, 4, 1)) == {"C-OTHER"}
    assert codes(completed_to=dt.date(2026, 4, 1)) == {"C-DQ1"}


def test_course_title_follows_language_only_while_unchanged(
    ministry: MiniMinistry, certificate: Certificate
) -> None:
    assert certificate_course_title(certificate, "ar") == "دورة C-DQ1"
    Course.objects.filter(pk=certificate.course_id).update(title_en="Renamed course")
    certificate = Certificate.objects.select_related("course").get(pk=certificate.pk)
    # The certificate says what it said when issued.
    assert certificate_course_title(certificate, "ar") == "Course C-DQ1"
