"""Surveys: installing questionnaires from JSON, answering them, summarising the answers.

A survey description (see `data/mass_survey.json`) is a JSON object:

    {"code": "MASS", "version": "1.0", "title": {lang: text}, "description": {lang: text},
     "sections": [{"code": ..., "title": {...}, "description": {...},
                   "questions": [{"code": ..., "kind": "single|multiple|likert|number|text",
                                  "text": {...}, "help_text": {...}, "required": bool,
                                  "min": n, "max": n,
                                  "choices": [{"code": ..., "label": {...}}]}]}]}

Installing is idempotent by code + version: the same version installs nothing; a new version
replaces the questions while nobody has answered the survey yet, and is refused after.

Stored answers: single choice and multiple choice as `choice` rows (one per ticked choice);
Likert as `number` 1-5 (labels come from the translated words Strongly disagree ... Strongly
agree); number as `number`; text as `text`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    QuestionKind,
    RaterAssignment,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
)
from educap.assessments.services import AssessmentErrorCode
from educap.audit.models import AuditAction
from educap.audit.services import audit_record

if TYPE_CHECKING:
    from educap.accounts.models import User

LANGUAGES = ("en", "ar", "fr", "lo")
MASS_SURVEY = Path(__file__).resolve().parent / "data" / "mass_survey.json"
LIKERT_LABELS = {
    1: gettext_lazy("Strongly disagree"),
    2: gettext_lazy("Disagree"),
    3: gettext_lazy("Neither agree nor disagree"),
    4: gettext_lazy("Agree"),
    5: gettext_lazy("Strongly agree"),
}


class SurveyErrorCode(StrEnum):
    INVALID_DESCRIPTION = "survey_description_invalid"
    VERSION_IN_USE = "survey_version_in_use"
    NOT_A_SURVEY = "assignment_not_a_survey"
    CLOSED = "survey_response_closed"
    REQUIRED = "survey_answer_required"
    CHOICE_INVALID = "survey_choice_invalid"
    OUT_OF_RANGE = "survey_number_out_of_range"
    NOT_A_NUMBER = "survey_not_a_number"
    UNKNOWN_QUESTION = "survey_question_unknown"


# --- installing --------------------------------------------------------------------------


def _texts(
    prefix: str, texts: Any, *, required: bool, where: str, problems: list[str]
) -> dict[str, Any]:
    texts = texts if isinstance(texts, Mapping) else {}
    if required and not str(texts.get("en", "")).strip():
        problems.append(f"{where}: English text missing")
    values: dict[str, Any] = {}
    for lang in LANGUAGES:
        text = str(texts.get(lang, "") or "").strip()
        values[f"{prefix}_{lang}"] = text if text or lang == "en" else None
    return values


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def survey_check(data: Mapping[str, Any]) -> list[str]:
    """Problems in a survey description (empty when it installs)."""
    problems: list[str] = []
    if not str(data.get("code", "")).strip():
        problems.append("code: missing")
    codes: set[str] = set()
    sections = data.get("sections") or []
    if not sections:
        problems.append("sections: none")
    section_codes: set[str] = set()
    for s, section in enumerate(sections):
        where = f"sections[{s}]"
        if section.get("code") in section_codes:
            problems.append(f"{where}.code: repeated")
        section_codes.add(section.get("code"))
        _texts("title", section.get("title"), required=True, where=where, problems=problems)
        for q, question in enumerate(section.get("questions") or []):
            qwhere = f"{where}.questions[{q}]"
            code = question.get("code")
            if not code or code in codes:
                problems.append(f"{qwhere}.code: missing or repeated in the survey")
            codes.add(code)
            if question.get("kind") not in QuestionKind.values:
                problems.append(f"{qwhere}.kind: unknown")
            _texts("text", question.get("text"), required=True, where=qwhere, problems=problems)
            choices = question.get("choices") or []
            if question.get("kind") in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                if len(choices) < 2:
                    problems.append(f"{qwhere}.choices: at least two")
                if len({c.get("code") for c in choices}) != len(choices):
                    problems.append(f"{qwhere}.choices: codes repeated")
            elif choices:
                problems.append(f"{qwhere}.choices: only choice questions have choices")
            try:
                low, high = _number(question.get("min")), _number(question.get("max"))
            except InvalidOperation:
                problems.append(f"{qwhere}: min/max not numbers")
                continue
            if low is not None and high is not None and low > high:
                problems.append(f"{qwhere}: min above max")
    return problems


@transaction.atomic
def survey_install(*, data: Mapping[str, Any], actor: User | None = None) -> Survey:
    """Create or refresh a survey from its JSON description (idempotent by code + version)."""
    problems = survey_check(data)
    if problems:
        raise ValidationError("; ".join(problems[:10]), code=SurveyErrorCode.INVALID_DESCRIPTION)
    code = str(data["code"]).strip()
    version = str(data.get("version", "1.0"))
    survey = Survey.objects.filter(code=code).first()
    if survey is not None and survey.version == version:
        return survey
    if survey is not None:
        if SurveyResponse.objects.filter(assignment__campaign__survey=survey).exists():
            raise ValidationError(
                _("Survey %(code)s already has answers; install the new version under a new code.")
                % {"code": code},
                code=SurveyErrorCode.VERSION_IN_USE,
            )
        survey.sections.all().delete()
    else:
        survey = Survey(code=code)
    survey.version = version
    for name, value in {
        **_texts("title", data.get("title"), required=True, where="", problems=[]),
        **_texts("description", data.get("description"), required=False, where="", problems=[]),
    }.items():
        setattr(survey, name, value)
    survey.full_clean()
    survey.save()
    for s, sdata in enumerate(data["sections"]):
        section = SurveySection(survey=survey, code=sdata["code"], sequence=s)
        for name, value in {
            **_texts("title", sdata.get("title"), required=True, where="", problems=[]),
            **_texts(
                "description", sdata.get("description"), required=False, where="", problems=[]
            ),
        }.items():
            setattr(section, name, value)
        section.full_clean()
        section.save()
        for q, qdata in enumerate(sdata.get("questions") or []):
            question = SurveyQuestion(
                section=section,
                code=qdata["code"],
                sequence=q,
                kind=qdata["kind"],
                required=bool(qdata.get("required", False)),
                min_value=_number(qdata.get("min")),
                max_value=_number(qdata.get("max")),
            )
            for name, value in {
                **_texts("text", qdata.get("text"), required=True, where="", problems=[]),
                **_texts(
                    "help_text", qdata.get("help_text"), required=False, where="", problems=[]
                ),
            }.items():
                setattr(question, name, value)
            question.full_clean()
            question.save()
            for c, cdata in enumerate(qdata.get("choices") or []):
                choice = SurveyChoice(question=question, code=cdata["code"], sequence=c)
                for name, value in _texts(
                    "label", cdata.get("label"), required=True, where="", problems=[]
                ).items():
                    setattr(choice, name, value)
                choice.full_clean()
                choice.save()
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        instance=survey,
        after={"code": code, "version": version},
    )
    return survey


def install_mass_survey() -> Survey:
    """The Management and Administration Skills Survey that ships with EduCap."""
    return survey_install(data=json.loads(MASS_SURVEY.read_text(encoding="utf-8")))


# --- answering ----------------------------------------------------------------------------


def _require_survey(actor: User | None, assignment: RaterAssignment) -> None:
    if assignment.kind != AssignmentKind.SURVEY or assignment.campaign.survey_id is None:
        raise ValidationError(
            _("This assignment is not a survey."), code=SurveyErrorCode.NOT_A_SURVEY
        )
    if actor is not None and getattr(actor, "person_id", None) != assignment.rater_id:
        raise PermissionDenied(AssessmentErrorCode.NOT_YOUR_ASSIGNMENT)


def survey_questions(*, survey: Survey) -> list[SurveySection]:
    """Sections with their questions and choices prefetched, in order (three queries)."""
    from django.db.models import Prefetch

    return list(
        survey.sections.prefetch_related(
            Prefetch(
                "questions",
                queryset=SurveyQuestion.objects.prefetch_related("choices").order_by(
                    "sequence", "id"
                ),
            )
        ).order_by("sequence", "id")
    )


def _clean_answer(question: SurveyQuestion, raw: Any) -> tuple[list[int], Decimal | None, str]:
    """(choice ids, number, text) for one raw answer; raises a ValidationError keyed q<id>."""
    key = f"q{question.pk}"

    def error(message: str, code: str) -> ValidationError:
        return ValidationError({key: ValidationError(message, code=code)})

    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        values = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError) as exc:
            raise error(_("Choose one of the options."), SurveyErrorCode.CHOICE_INVALID) from exc
        allowed = {c.pk for c in question.choices.all()}
        if not set(ids) <= allowed or (question.kind == QuestionKind.SINGLE and len(ids) > 1):
            raise error(_("Choose one of the options."), SurveyErrorCode.CHOICE_INVALID)
        return ids, None, ""
    if question.kind == QuestionKind.TEXT:
        return [], None, str(raw or "").strip()[:5000]
    if raw in (None, ""):
        return [], None, ""
    try:
        number = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise error(_("Enter a number."), SurveyErrorCode.NOT_A_NUMBER) from exc
    if not number.is_finite():
        raise error(_("Enter a number."), SurveyErrorCode.NOT_A_NUMBER)
    low, high = question.min_value, question.max_value
    if question.kind == QuestionKind.LIKERT:
        low, high = Decimal(1), Decimal(5)
        if number != number.to_integral_value():
            raise error(_("Choose one of the options."), SurveyErrorCode.CHOICE_INVALID)
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            message = _("Enter a number from %(min)s to %(max)s.") % {
                "min": _plain(low),
                "max": _plain(high),
            }
        elif low is not None:
            message = _("Enter a number of at least %(min)s.") % {"min": _plain(low)}
        else:
            message = _("Enter a number of at most %(max)s.") % {"max": _plain(high or number)}
        raise error(message, SurveyErrorCode.OUT_OF_RANGE)
    return [], number, ""


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _is_answered(ids: list[int], number: Decimal | None, text: str) -> bool:
    return bool(ids) or number is not None or bool(text)


@transaction.atomic
def survey_response_save(
    *,
    actor: User | None,
    assignment: RaterAssignment,
    answers: Mapping[int, Any],
    submit: bool = False,
) -> SurveyResponse:
    """Save answers ({question id: value}) as a draft; with `submit`, check and close.

    Values: a choice id (single), a list of choice ids (multiple), 1-5 (Likert), a number,
    or text. An empty value clears the answer. Every problem is reported at once, keyed
    `q<question id>`.
    """
    # Lock the assignment row only: PostgreSQL cannot lock the nullable side of the join.
    assignment = (
        RaterAssignment.objects.select_for_update(of=("self",))
        .select_related("campaign__survey")
        .get(pk=assignment.pk)
    )
    _require_survey(actor, assignment)
    if not assignment.is_open:
        raise ValidationError(
            _("This survey is closed or already submitted."), code=SurveyErrorCode.CLOSED
        )
    survey = assignment.campaign.survey
    assert survey is not None  # checked by _require_survey
    questions = {
        q.pk: q
        for q in SurveyQuestion.objects.filter(section__survey=survey).prefetch_related("choices")
    }
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValidationError(
            _("This question is not part of the survey."), code=SurveyErrorCode.UNKNOWN_QUESTION
        )
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[int, tuple[list[int], Decimal | None, str]] = {}
    for pk, raw in answers.items():
        try:
            cleaned[pk] = _clean_answer(questions[pk], raw)
        except ValidationError as exc:
            for key, errs in exc.error_dict.items():
                errors.setdefault(key, []).extend(errs)
    response, _created = SurveyResponse.objects.get_or_create(assignment=assignment)
    if not errors:
        SurveyAnswer.objects.filter(response=response, question_id__in=list(cleaned)).delete()
        rows: list[SurveyAnswer] = []
        for pk, (ids, number, text) in cleaned.items():
            if ids:
                rows.extend(
                    SurveyAnswer(response=response, question_id=pk, choice_id=i) for i in ids
                )
            elif number is not None or text:
                rows.append(
                    SurveyAnswer(response=response, question_id=pk, number=number, text=text)
                )
        SurveyAnswer.objects.bulk_create(rows)
    if submit and not errors:
        answered = set(
            SurveyAnswer.objects.filter(response=response).values_list("question_id", flat=True)
        )
        for question in questions.values():
            if question.required and question.pk not in answered:
                errors[f"q{question.pk}"] = [
                    ValidationError(
                        _("This question needs an answer."), code=SurveyErrorCode.REQUIRED
                    )
                ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    if assignment.status == AssignmentStatus.INVITED:
        assignment.status = AssignmentStatus.STARTED
        assignment.started_at = now
    if submit:
        response.submitted_at = now
        response.save(update_fields=["submitted_at", "updated_at"])
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.submitted_at = now
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=assignment,
            after={"status": AssignmentStatus.SUBMITTED, "survey": survey.code},
        )
    else:
        response.save(update_fields=["updated_at"])
    assignment.save(update_fields=["status", "started_at", "submitted_at"])
    return response


def survey_saved_answers(*, assignment: RaterAssignment) -> dict[int, Any]:
    """{question id: value} in the shapes `survey_response_save` takes (one query)."""
    values: dict[int, Any] = {}
    multiple: dict[int, list[int]] = defaultdict(list)
    rows = SurveyAnswer.objects.filter(response__assignment=assignment).values_list(
        "question_id", "question__kind", "choice_id", "number", "text"
    )
    for question_id, kind, choice_id, number, text in rows:
        if kind == QuestionKind.MULTIPLE:
            multiple[question_id].append(choice_id)
        elif kind == QuestionKind.SINGLE:
            values[question_id] = choice_id
        elif kind == QuestionKind.TEXT:
            values[question_id] = text
        elif number is not None:
            values[question_id] = int(number) if kind == QuestionKind.LIKERT else _plain(number)
    values.update(multiple)
    return values


# --- results (aggregates only) ------------------------------------------------------------


@dataclass
class QuestionSummary:
    question: SurveyQuestion
    answered: int = 0
    # (label, count, percent of those who answered) per choice or Likert point.
    counts: list[tuple[str, int, float]] = field(default_factory=list)
    mean: float | None = None


def survey_results(
    *, campaign: Campaign, sections: Iterable[SurveySection]
) -> tuple[int, list[tuple[SurveySection, list[QuestionSummary]]]]:
    """How many responded, and per question: counts per choice, or the mean of numbers.

    Only submitted responses count; text answers are only counted, never shown.
    Five queries whatever the number of questions.
    """
    submitted = SurveyAnswer.objects.filter(
        response__assignment__campaign=campaign, response__submitted_at__isnull=False
    )
    respondents = SurveyResponse.objects.filter(
        assignment__campaign=campaign, submitted_at__isnull=False
    ).count()
    per_choice = {
        (row["question_id"], row["choice_id"]): row["n"]
        for row in submitted.filter(choice__isnull=False)
        .values("question_id", "choice_id")
        .annotate(n=Count("response_id", distinct=True))
        .order_by()
    }
    per_number: dict[tuple[int, int], int] = {}
    stats: dict[int, dict[str, Any]] = {}
    for row in (
        submitted.filter(choice__isnull=True)
        .values("question_id", "question__kind")
        .annotate(n=Count("response_id", distinct=True), mean=Avg("number"))
        .order_by()
    ):
        stats[row["question_id"]] = row
    likert_ids = [
        q.pk for s in sections for q in s.questions.all() if q.kind == QuestionKind.LIKERT
    ]
    for row in (
        submitted.filter(question_id__in=likert_ids)
        .values("question_id", "number")
        .annotate(n=Count("id"))
        .order_by()
    ):
        per_number[(row["question_id"], int(row["number"]))] = row["n"]
    answered_choice: dict[int, int] = {
        row["question_id"]: row["n"]
        for row in submitted.filter(choice__isnull=False)
        .values("question_id")
        .annotate(n=Count("response_id", distinct=True))
        .order_by()
    }
    result = []
    for section in sections:
        rows = []
        for question in section.questions.all():
            summary = QuestionSummary(question=question)
            if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                summary.answered = answered_choice.get(question.pk, 0)
                for choice in question.choices.all():
                    n = per_choice.get((question.pk, choice.pk), 0)
                    summary.counts.append((choice.label, n, _pct(n, summary.answered)))
            else:
                row = stats.get(question.pk, {})
                summary.answered = row.get("n", 0)
                if question.kind != QuestionKind.TEXT and row.get("mean") is not None:
                    summary.mean = round(float(row["mean"]), 2)
                if question.kind == QuestionKind.LIKERT:
                    for value, label in LIKERT_LABELS.items():
                        n = per_number.get((question.pk, value), 0)
                        summary.counts.append((str(label), n, _pct(n, summary.answered)))
            rows.append(summary)
        result.append((section, rows))
    return respondents, result


def _pct(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0
