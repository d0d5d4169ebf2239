"""What a stored statement turns into here.

A `completed` or `passed` statement about an activity mapped to a course, whose actor is a
known person, completes that person's live enrolment in a session of the course through
the shared completion service (CPD record, certificate, competency evidence). Without a
live enrolment it becomes an approved CPD record of the course's hours instead. A course
counts once per person: later statements about it are marked "already recorded".

Actors are recognised by `mbox` (the e-mail of the person's user account, or else of the
staff record) or by an `account` whose homePage is this installation and whose name is
the staff number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from educap.accounts.models import User
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.people.models import Person
from educap.training.lrs.validate import parse_timestamp
from educap.training.models import (
    Course,
    CpdKind,
    CpdRecord,
    CpdStatus,
    Enrolment,
    EnrolmentStatus,
    XapiStatement,
)
from educap.training.services.completion import enrolment_complete, issuer_name

ADL = "http://adlnet.gov/expapi/verbs/"
VERB_COMPLETED = ADL + "completed"
VERB_PASSED = ADL + "passed"
VERB_FAILED = ADL + "failed"
VERB_VOIDED = ADL + "voided"
COMPLETING_VERBS = frozenset({VERB_COMPLETED, VERB_PASSED})
PROCESSED_VERBS = COMPLETING_VERBS | {VERB_FAILED}

LIVE = (EnrolmentStatus.ENROLLED, EnrolmentStatus.NOT_COMPLETED)


class Outcome:
    """Values of XapiStatement.outcome, with their labels for the admin pages."""

    NONE = ""
    ENROLMENT = "enrolment"
    CPD = "cpd"
    ALREADY = "already"
    FAILED = "failed"

    choices = [
        (ENROLMENT, _("Enrolment completed")),
        (CPD, _("CPD record")),
        (ALREADY, _("Already recorded")),
        (FAILED, _("Failed attempt")),
    ]


def normalise_home_page(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _email(actor: object) -> str | None:
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.startswith("mailto:"):
        return mbox.removeprefix("mailto:").strip().lower() or None
    return None


def _staff_number(actor: object, home_pages: frozenset[str]) -> str | None:
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    account = actor.get("account")
    if not isinstance(account, dict):
        return None
    home, name = account.get("homePage"), account.get("name")
    if isinstance(home, str) and isinstance(name, str) and normalise_home_page(home) in home_pages:
        return name
    return None


def resolve_people(actors: Iterable[object], *, home_pages: Iterable[str]) -> list[Person | None]:
    """The person each actor stands for, or None (unknown, a group, or ambiguous).

    Two queries for any number of actors: staff numbers, then e-mail addresses.
    """
    pages = frozenset(normalise_home_page(p) for p in home_pages if p)
    actors = list(actors)
    numbers = {n for a in actors if (n := _staff_number(a, pages))}
    emails = {e for a in actors if (e := _email(a))}
    by_number = {p.staff_number: p for p in Person.objects.filter(staff_number__in=numbers)}
    by_email: dict[str, set[int]] = defaultdict(set)
    people: dict[int, Person] = {}
    if emails:
        # A user account's e-mail speaks for its person; a staff record's e-mail as well.
        for user in (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=emails, person__isnull=False, is_active=True)
            .select_related("person")
        ):
            assert user.person is not None
            by_email[user.email_lower].add(user.person.pk)  # type: ignore[attr-defined]
            people[user.person.pk] = user.person
        for person in Person.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=emails
        ):
            by_email[person.email_lower].add(person.pk)  # type: ignore[attr-defined]
            people[person.pk] = person
    found: list[Person | None] = []
    for actor in actors:
        number = _staff_number(actor, pages)
        email = _email(actor)
        if number is not None:
            found.append(by_number.get(number))
        elif email is not None and len(by_email.get(email, ())) == 1:
            found.append(people[next(iter(by_email[email]))])
        else:
            found.append(None)
    return found


def _completed_on(statement: XapiStatement) -> dt.date:
    moment = parse_timestamp(statement.statement.get("timestamp")) or statement.stored
    return min(timezone.localdate(moment), timezone.localdate())


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _score_percent(result: object) -> int | None:
    """The score as a whole percentage, from `scaled` or else from raw within min..max."""
    if not isinstance(result, dict) or not isinstance(result.get("score"), dict):
        return None
    score: dict[str, Any] = result["score"]
    scaled = _number(score.get("scaled"))
    if scaled is not None:
        value = scaled * 100
    else:
        raw, low, high = (_number(score.get(key)) for key in ("raw", "min", "max"))
        if raw is None or low is None or high is None or high <= low:
            return None
        value = (raw - low) / (high - low) * 100
    return max(0, min(100, round(value)))


def _already_counted(statement: XapiStatement, person: Person, course: Course) -> bool:
    if Enrolment.objects.filter(
        person=person, session__course=course, status=EnrolmentStatus.COMPLETED
    ).exists():
        return True
    return (
        XapiStatement.objects.filter(
            person=person,
            outcome__in=[Outcome.CPD, Outcome.ENROLMENT],
            voided=False,
            activity_id__in=course.xapi_activities.values("activity_id"),
        )
        .exclude(pk=statement.pk)
        .exists()
    )


def statement_process(*, statement: XapiStatement, course: Course | None) -> str:
    """Turn one newly stored statement into its effects; record and return the outcome.

    `course` is the course its object's activity is mapped to, if any.
    """
    outcome = _outcome(statement, course)
    if outcome != statement.outcome:
        statement.outcome = outcome
        statement.save(update_fields=["outcome"])
    return outcome


def _outcome(statement: XapiStatement, course: Course | None) -> str:
    person = statement.person
    if statement.voided or person is None or course is None:
        return Outcome.NONE
    if statement.verb_id not in PROCESSED_VERBS:
        return Outcome.NONE
    result = statement.statement.get("result")
    failed = isinstance(result, dict) and result.get("success") is False
    if statement.verb_id == VERB_FAILED or failed:
        return Outcome.FAILED
    if _already_counted(statement, person, course):
        return Outcome.ALREADY
    completed_on = _completed_on(statement)
    enrolment = (
        Enrolment.objects.filter(person=person, session__course=course, status__in=LIVE)
        .order_by("-session__starts_on", "-pk")
        .first()
    )
    if enrolment is not None:
        try:
            with transaction.atomic():
                enrolment_complete(
                    actor=None,
                    enrolment=enrolment,
                    completed_on=completed_on,
                    score=_score_percent(result),
                )
        except ValidationError:
            # Changed under our feet (completed or withdrawn meanwhile): fall back to CPD.
            pass
        else:
            return Outcome.ENROLMENT
    if CpdRecord.objects.filter(statement_id=statement.pk).exists():
        return Outcome.CPD
    record = CpdRecord(
        person=person,
        # A course of our own catalogue, taken on an external platform.
        kind=CpdKind.INTERNAL,
        title=course.title,
        provider=course.provider_name or issuer_name(),
        completed_on=completed_on,
        hours=course.duration_hours,
        credits=course.cpd_credits,
        statement_id=statement.pk,
        status=CpdStatus.APPROVED,
        decided_at=timezone.now(),
        decision_note=f"xAPI: {statement.client.name}"[:300],
    )
    try:
        record.full_clean()
    except ValidationError:
        return Outcome.NONE  # e.g. a course longer than a CPD record can hold
    record.save()
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        instance=record,
        after={
            "person": person.pk,
            "course": course.code,
            "hours": str(record.hours),
            "statement": str(statement.pk),
        },
    )
    return Outcome.CPD


def statement_voided(*, statement: XapiStatement) -> None:
    """A statement was voided: a CPD record it created is withdrawn (rejected).

    Enrolment completions and certificates stay; revoking them is a decision for a person.
    """
    for record in CpdRecord.objects.filter(statement_id=statement.pk).exclude(
        status=CpdStatus.REJECTED
    ):
        record.status = CpdStatus.REJECTED
        record.decided_at = timezone.now()
        record.decision_note = "Voided by the external platform."
        record.save(update_fields=["status", "decided_at", "decision_note"])
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            instance=record,
            before={"status": CpdStatus.APPROVED},
            after={"status": record.status, "voided_statement": str(statement.pk)},
        )
