"""Knowledge tests: the item bank, cut scores, sitting a test and scoring it.

Answer semantics per item kind (what `TestAttempt.answers` holds for an item):

- single choice: the id of the chosen `TestItemChoice`; correct when that choice is correct.
  The item has at least two choices and exactly one is correct.
- multiple choice: a sorted list of choice ids; correct only when the set equals the set of
  correct choices exactly. At least two choices, at least one correct.
- true / false: the string "true" or "false". The item has exactly two choices, "true" first
  (sequence 0) and "false" second (sequence 1); the correct one carries `is_correct`. The
  choice texts are only kept for exports: screens show the translated words True / False.
- numeric: the number typed, kept as a string ("12.5"); correct when it lies within
  `numeric_tolerance` of `numeric_answer` (inclusive).

Scoring: per competency, percent = correct / drawn x 100 (unanswered counts as wrong). The
percent maps to the highest level of the framework's scale whose cut score is at or below it.
A competency without cut scores uses equal bands over the scale: level i of n gets
floor(100 x i / n), so five levels (0..4) start at 0, 20, 40, 60 and 80 %.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    CutScore,
    RaterAssignment,
    Rating,
    Source,
    TestAttempt,
    TestItem,
    TestItemChoice,
    TestItemKind,
)
from educap.assessments.services import (
    AssessmentErrorCode,
    EvidenceInput,
    campaign_manage_allowed,
    evidence_record,
)
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.core.errors import field_error
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ItemKind,
    ScaleLevel,
)

if TYPE_CHECKING:
    from educap.accounts.models import User

LANGUAGES = ("en", "ar", "fr", "lo")
Texts = dict[str, str]
EMIS_ITEM_BANK = Path(__file__).resolve().parent / "data" / "emis_item_bank.json"


class KnowledgeErrorCode(StrEnum):
    NOT_A_COMPETENCY = "test_item_not_a_competency"
    CHOICES_INVALID = "test_item_choices_invalid"
    NUMERIC_ANSWER_MISSING = "test_item_numeric_answer_missing"
    STEM_MISSING = "test_item_stem_missing"
    CUT_SCORES_NOT_MONOTONIC = "cut_scores_not_monotonic"
    CUT_SCORE_OUT_OF_RANGE = "cut_score_out_of_range"
    LEVEL_NOT_ON_SCALE = "cut_score_level_not_on_scale"
    NOT_A_TEST = "assignment_not_a_test"
    NOT_STARTED = "test_not_started"
    ATTEMPT_CLOSED = "test_attempt_closed"
    DEADLINE_PASSED = "test_deadline_passed"
    ITEM_NOT_DRAWN = "test_item_not_drawn"
    ANSWER_INVALID = "test_answer_invalid"
    FRAMEWORK_UNKNOWN = "item_bank_framework_unknown"
    COMPETENCY_UNKNOWN = "item_bank_competency_unknown"


def _require_manager(actor: User | None) -> None:
    if not campaign_manage_allowed(user=actor):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)


# --- scoring arithmetic (pure) ---------------------------------------------------------


def default_cut_scores(level_values: Sequence[int]) -> list[tuple[int, int]]:
    """Equal bands over the scale: [(level value, min percent)], lowest level at 0 %."""
    ordered = sorted(level_values)
    n = len(ordered)
    return [(value, (100 * i) // n) for i, value in enumerate(ordered)]


def level_for_score(
    score: Fraction, cuts: Sequence[tuple[int, int]], lowest: int | None = None
) -> int | None:
    """The highest level whose cut (min percent) is at or below `score` (a percent).

    `cuts` are (level value, min percent). Below every cut: `lowest` (the scale's bottom).
    """
    reached = [value for value, minimum in cuts if Fraction(minimum) <= score]
    if reached:
        return max(reached)
    return lowest


def score_percent(correct: int, total: int) -> Fraction:
    return Fraction(100 * correct, total) if total else Fraction(0)


def answer_is_correct(
    *,
    kind: str,
    answer: Any,
    correct_choice_ids: Iterable[int] = (),
    numeric_answer: Decimal | None = None,
    tolerance: Decimal = Decimal(0),
    true_is_correct: bool | None = None,
) -> bool:
    """Whether one stored answer is right (see the module docstring for the shapes)."""
    if answer is None or answer == "" or answer == []:
        return False
    correct = set(correct_choice_ids)
    if kind == TestItemKind.SINGLE:
        return isinstance(answer, int) and answer in correct and len(correct) == 1
    if kind == TestItemKind.MULTIPLE:
        return isinstance(answer, list) and set(answer) == correct and bool(correct)
    if kind == TestItemKind.TRUE_FALSE:
        return true_is_correct is not None and answer == ("true" if true_is_correct else "false")
    if kind == TestItemKind.NUMERIC:
        if numeric_answer is None:
            return False
        try:
            given = Decimal(str(answer))
        except InvalidOperation:
            return False
        if not given.is_finite():
            return False
        return abs(given - numeric_answer) <= abs(tolerance)
    return False


# --- item bank -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceInput:
    text: Texts
    is_correct: bool = False


@dataclass(frozen=True)
class TestItemInput:
    """One question as written by an author or read from a file."""

    __test__ = False

    code: str
    competency: FrameworkItem
    kind: str
    stem: Texts
    choices: Sequence[ChoiceInput] = ()
    # true/false items: which statement is right.
    true_false_answer: bool | None = None
    numeric_answer: Decimal | None = None
    numeric_tolerance: Decimal = Decimal(0)
    explanation: Texts = field(default_factory=dict)
    is_active: bool = True


def _true_false_choices(answer: bool) -> list[ChoiceInput]:
    from django.utils import translation

    texts_true: Texts = {}
    texts_false: Texts = {}
    for lang in LANGUAGES:
        with translation.override(lang):
            texts_true[lang] = _("True")
            texts_false[lang] = _("False")
    return [ChoiceInput(texts_true, answer), ChoiceInput(texts_false, not answer)]


def _check_item_input(data: TestItemInput) -> list[ChoiceInput]:
    """Validate the kind-specific rules; return the choices to store."""
    if data.competency.kind != ItemKind.COMPETENCY:
        raise field_error(
            "competency",
            _("Questions measure a competency, not a domain."),
            KnowledgeErrorCode.NOT_A_COMPETENCY,
        )
    if not (data.stem.get("en") or "").strip():
        raise field_error(
            "stem", _("Write the question in English."), KnowledgeErrorCode.STEM_MISSING
        )
    choices = list(data.choices)
    n_correct = sum(1 for c in choices if c.is_correct)
    if data.kind == TestItemKind.SINGLE and (len(choices) < 2 or n_correct != 1):
        raise field_error(
            "choices",
            _("A single-choice question needs at least two options, exactly one of them correct."),
            KnowledgeErrorCode.CHOICES_INVALID,
        )
    if data.kind == TestItemKind.MULTIPLE and (len(choices) < 2 or n_correct < 1):
        raise field_error(
            "choices",
            _("A multiple-choice question needs at least two options and one correct."),
            KnowledgeErrorCode.CHOICES_INVALID,
        )
    if any(not (c.text.get("en") or "").strip() for c in choices):
        raise field_error(
            "choices",
            _("Every option needs a text in English."),
            KnowledgeErrorCode.CHOICES_INVALID,
        )
    if data.kind == TestItemKind.TRUE_FALSE:
        if data.true_false_answer is None:
            raise field_error(
                "choices",
                _("Say whether the statement is true or false."),
                KnowledgeErrorCode.CHOICES_INVALID,
            )
        return _true_false_choices(data.true_false_answer)
    if data.kind == TestItemKind.NUMERIC:
        if data.numeric_answer is None:
            raise field_error(
                "numeric_answer",
                _("A numeric question needs its correct answer."),
                KnowledgeErrorCode.NUMERIC_ANSWER_MISSING,
            )
        return []
    return choices


def _texts(prefix: str, texts: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}_{lang}": (texts.get(lang) or "").strip() for lang in LANGUAGES}


def _write_item(item: TestItem, data: TestItemInput, choices: list[ChoiceInput]) -> TestItem:
    item.code = data.code
    item.competency = data.competency
    item.kind = data.kind
    for name, value in {
        **_texts("stem", data.stem),
        **_texts("explanation", data.explanation),
    }.items():
        # Missing translations stay empty and fall back to English on screen.
        setattr(item, name, value if value or name.endswith("_en") else None)
    item.numeric_answer = data.numeric_answer if data.kind == TestItemKind.NUMERIC else None
    item.numeric_tolerance = (
        abs(data.numeric_tolerance) if data.kind == TestItemKind.NUMERIC else Decimal(0)
    )
    item.is_active = data.is_active
    item.full_clean()
    item.save()
    item.choices.all().delete()
    for sequence, choice in enumerate(choices):
        row = TestItemChoice(test_item=item, sequence=sequence, is_correct=choice.is_correct)
        for name, value in _texts("text", choice.text).items():
            setattr(row, name, value if value or name.endswith("_en") else None)
        row.full_clean(exclude=["test_item"])
        row.save()
    return item


def _item_snapshot(item: TestItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "competency": item.competency_id,
        "kind": item.kind,
        "stem": item.stem_en,  # type: ignore[attr-defined]
        "active": item.is_active,
        "choices": [[c.text_en, c.is_correct] for c in item.choices.all()],  # type: ignore[attr-defined]
        "numeric_answer": str(item.numeric_answer) if item.numeric_answer is not None else None,
    }


@transaction.atomic
def test_item_create(*, actor: User | None, data: TestItemInput) -> TestItem:
    _require_manager(actor)
    choices = _check_item_input(data)
    item = _write_item(TestItem(), data, choices)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=item, after=_item_snapshot(item))
    return item


@transaction.atomic
def test_item_update(*, actor: User | None, item: TestItem, data: TestItemInput) -> TestItem:
    """Rewrite a question; its options are replaced. Past attempts keep their scores."""
    _require_manager(actor)
    before = _item_snapshot(item)
    choices = _check_item_input(data)
    item = _write_item(item, data, choices)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=item,
        before=before,
        after=_item_snapshot(item),
    )
    return item


test_item_create.__test__ = False  # type: ignore[attr-defined]
test_item_update.__test__ = False  # type: ignore[attr-defined]


# --- cut scores ------------------------------------------------------------------------


@transaction.atomic
def cut_scores_set(
    *, actor: User | None, competency: FrameworkItem, cuts: Mapping[int, int | None]
) -> list[CutScore]:
    """Replace a competency's cut scores: {level value: min percent or None (no cut)}.

    Thresholds must rise strictly with the level; an empty mapping restores the default
    equal bands.
    """
    _require_manager(actor)
    levels = {
        level.value: level
        for level in ScaleLevel.objects.filter(scale_id=competency.framework.scale_id)
    }
    given = {value: pct for value, pct in cuts.items() if pct is not None}
    for value, pct in given.items():
        if value not in levels:
            raise field_error(
                "level",
                _("Level %(value)s is not on the framework's scale.") % {"value": value},
                KnowledgeErrorCode.LEVEL_NOT_ON_SCALE,
            )
        if not 0 <= pct <= 100:
            raise field_error(
                f"level_{value}",
                _("A cut score is a percentage between 0 and 100."),
                KnowledgeErrorCode.CUT_SCORE_OUT_OF_RANGE,
            )
    ordered = sorted(given.items())
    for (low_value, low), (high_value, high) in itertools.pairwise(ordered):
        if high <= low:
            raise field_error(
                f"level_{high_value}",
                _("The cut score of level %(high)s must be above that of level %(low)s.")
                % {"high": levels[high_value].name, "low": levels[low_value].name},
                KnowledgeErrorCode.CUT_SCORES_NOT_MONOTONIC,
            )
    before = {str(c.level.value): c.min_percent for c in competency.cut_scores.all()}  # type: ignore[attr-defined]
    CutScore.objects.filter(competency=competency).delete()
    rows = [
        CutScore(competency=competency, level=levels[value], min_percent=pct)
        for value, pct in ordered
    ]
    for row in rows:
        row.full_clean()
    CutScore.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=competency,
        object_repr=f"{competency.code}: cut scores",
        before={"cut_scores": before},
        after={"cut_scores": {str(v): p for v, p in ordered}},
    )
    return rows


def competency_cuts(
    *, competency_ids: Iterable[int], scale_id: int
) -> dict[int, list[tuple[int, int]]]:
    """{competency id: [(level value, min percent)]}, defaults filled in. Two queries."""
    ids = list(competency_ids)
    values = list(ScaleLevel.objects.filter(scale_id=scale_id).values_list("value", flat=True))
    defaults = default_cut_scores(values)
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for competency_id, value, pct in CutScore.objects.filter(competency_id__in=ids).values_list(
        "competency_id", "level__value", "min_percent"
    ):
        found[competency_id].append((value, pct))
    return {cid: sorted(found[cid]) if found.get(cid) else defaults for cid in ids}


# --- sitting a test --------------------------------------------------------------------


def _require_test(actor: User | None, assignment: RaterAssignment) -> None:
    if assignment.kind != AssignmentKind.TEST:
        raise ValidationError(
            _("This assignment is not a knowledge test."), code=KnowledgeErrorCode.NOT_A_TEST
        )
    if actor is not None and getattr(actor, "person_id", None) != assignment.rater_id:
        raise PermissionDenied(AssessmentErrorCode.NOT_YOUR_ASSIGNMENT)


def attempt_is_due(attempt: TestAttempt, now: dt.datetime | None = None) -> bool:
    """Past its deadline and not yet submitted: to be submitted automatically."""
    now = now or timezone.now()
    return attempt.submitted_at is None and attempt.deadline is not None and now >= attempt.deadline


@transaction.atomic
def test_start(
    *,
    actor: User | None,
    assignment: RaterAssignment,
    rng: random.Random | None = None,  # noqa: PT028
) -> TestAttempt:
    """Draw the questions and start the clock; a second call returns the same attempt."""
    from educap.assessments.selectors import assignment_competencies

    _require_test(actor, assignment)
    assignment = RaterAssignment.objects.select_for_update().get(pk=assignment.pk)
    existing = TestAttempt.objects.filter(assignment=assignment).first()
    if existing is not None:
        return existing
    if not assignment.is_open:
        raise ValidationError(
            _("This assessment is closed or already submitted."),
            code=AssessmentErrorCode.ASSIGNMENT_CLOSED,
        )
    rng = rng or random.SystemRandom()
    campaign = assignment.campaign
    competencies = [c.item.pk for c in assignment_competencies(assignment=assignment)]
    by_competency: dict[int, list[int]] = defaultdict(list)
    for pk, competency_id in (
        TestItem.objects.filter(competency_id__in=competencies, is_active=True)
        .order_by("pk")
        .values_list("pk", "competency_id")
    ):
        by_competency[competency_id].append(pk)
    drawn: list[int] = []
    for competency_id in competencies:
        pool = by_competency.get(competency_id, [])
        drawn.extend(rng.sample(pool, min(campaign.test_items_per_competency, len(pool))))
    rng.shuffle(drawn)
    now = timezone.now()
    limit = campaign.test_time_limit_minutes
    attempt = TestAttempt(
        assignment=assignment,
        item_ids=drawn,
        started_at=now,
        deadline=now + dt.timedelta(minutes=limit) if limit else None,
    )
    attempt.full_clean(exclude=["answers", "scores"])  # empty JSON is fine
    attempt.save()
    assignment.status = AssignmentStatus.STARTED
    assignment.started_at = assignment.started_at or now
    assignment.save(update_fields=["status", "started_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=attempt,
        after={
            "items": len(drawn),
            "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        },
    )
    return attempt


def _normalise_answer(item: TestItem, choice_ids: set[int], raw: Any) -> Any:
    """The stored shape of one answer, or None to clear it; ValidationError when invalid."""
    if raw is None or raw == "" or raw == []:
        return None
    bad = field_error(
        f"item_{item.pk}",
        _("This answer does not fit the question."),
        KnowledgeErrorCode.ANSWER_INVALID,
    )
    try:
        if item.kind == TestItemKind.SINGLE:
            value = int(raw)
            if value not in choice_ids:
                raise bad
            return value
        if item.kind == TestItemKind.MULTIPLE:
            values = sorted({int(v) for v in (raw if isinstance(raw, list | tuple) else [raw])})
            if not set(values) <= choice_ids:
                raise bad
            return values
        if item.kind == TestItemKind.TRUE_FALSE:
            text = str(raw).strip().lower()
            if text not in ("true", "false"):
                raise bad
            return text
        number = Decimal(str(raw).strip().replace(",", "."))
        if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
            raise bad
        return str(number)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise bad from exc


@transaction.atomic
def test_answer(
    *, actor: User | None, attempt: TestAttempt, answers: Mapping[int, Any]
) -> TestAttempt:
    """Keep answers as the person goes: {test item id: answer}; an empty answer clears it."""
    attempt = (
        TestAttempt.objects.select_for_update().select_related("assignment").get(pk=attempt.pk)
    )
    _require_test(actor, attempt.assignment)
    if attempt.submitted_at is not None or not attempt.assignment.is_open:
        raise ValidationError(
            _("This test has been submitted."), code=KnowledgeErrorCode.ATTEMPT_CLOSED
        )
    if attempt_is_due(attempt):
        raise ValidationError(
            _("The time for this test is over."), code=KnowledgeErrorCode.DEADLINE_PASSED
        )
    drawn = {int(i) for i in attempt.item_ids}
    unknown = {int(k) for k in answers} - drawn
    if unknown:
        raise field_error(
            "item",
            _("This question is not part of your test."),
            KnowledgeErrorCode.ITEM_NOT_DRAWN,
        )
    items = TestItem.objects.filter(pk__in=[int(k) for k in answers]).prefetch_related("choices")
    stored = dict(attempt.answers)
    for item in items:
        value = _normalise_answer(item, {c.pk for c in item.choices.all()}, answers[item.pk])
        if value is None:
            stored.pop(str(item.pk), None)
        else:
            stored[str(item.pk)] = value
    attempt.answers = stored
    attempt.save(update_fields=["answers"])
    return attempt


@dataclass(frozen=True)
class CompetencyScore:
    competency_id: int
    correct: int
    total: int
    percent: Fraction
    level: int | None


def attempt_score(attempt: TestAttempt) -> dict[int, CompetencyScore]:
    """Score the attempt per competency (no writes)."""
    items = list(TestItem.objects.filter(pk__in=attempt.item_ids).prefetch_related("choices"))
    correct: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for item in items:
        choices = list(item.choices.all())
        total[item.competency_id] += 1
        right = answer_is_correct(
            kind=item.kind,
            answer=attempt.answers.get(str(item.pk)),
            correct_choice_ids=[c.pk for c in choices if c.is_correct],
            numeric_answer=item.numeric_answer,
            tolerance=item.numeric_tolerance,
            true_is_correct=(choices[0].is_correct if choices else None),
        )
        correct[item.competency_id] += int(right)
    campaign = attempt.assignment.campaign
    scale_id = campaign.framework.scale_id
    cuts = competency_cuts(competency_ids=total, scale_id=scale_id)
    lowest = (
        ScaleLevel.objects.filter(scale_id=scale_id)
        .order_by("value")
        .values_list("value", flat=True)
        .first()
    )
    scores = {}
    for cid, n in total.items():
        pct = score_percent(correct[cid], n)
        scores[cid] = CompetencyScore(
            competency_id=cid,
            correct=correct[cid],
            total=n,
            percent=pct,
            level=level_for_score(pct, cuts[cid], lowest),
        )
    return scores


@transaction.atomic
def test_submit(*, actor: User | None, attempt: TestAttempt) -> dict[int, CompetencyScore]:
    """Score the attempt, record one test rating per competency and close the assignment."""
    attempt = (
        TestAttempt.objects.select_for_update()
        .select_related("assignment__campaign__framework")
        .get(pk=attempt.pk)
    )
    assignment = attempt.assignment
    _require_test(actor, assignment)
    if attempt.submitted_at is not None or assignment.status in (
        AssignmentStatus.SUBMITTED,
        AssignmentStatus.WITHDRAWN,
    ):
        raise ValidationError(
            _("This test has been submitted."), code=KnowledgeErrorCode.ATTEMPT_CLOSED
        )
    scores = attempt_score(attempt)
    now = timezone.now()
    # An automatic submission after the deadline is dated at the deadline.
    submitted_at = min(now, attempt.deadline) if attempt.deadline else now
    ratings = evidence_record(
        actor=actor,
        evidence=[
            EvidenceInput(
                person_id=assignment.ratee_id,
                item_id=s.competency_id,
                source=Source.TEST,
                value=s.level,
                rated_at=submitted_at,
                rater_id=assignment.rater_id,
                campaign_id=assignment.campaign_id,
                evidence=_("%(correct)s of %(total)s correct (%(percent)s%%)")
                % {"correct": s.correct, "total": s.total, "percent": round(s.percent)},
            )
            for s in scores.values()
            if s.level is not None
        ],
    )
    Rating.objects.filter(pk__in=[r.pk for r in ratings if r.pk]).update(assignment=assignment)
    attempt.scores = {str(cid): round(float(s.percent), 1) for cid, s in scores.items()}
    attempt.submitted_at = submitted_at
    attempt.save(update_fields=["scores", "submitted_at"])
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = submitted_at
    assignment.save(update_fields=["status", "submitted_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=attempt,
        after={"submitted": submitted_at.isoformat(), "scores": attempt.scores},
    )
    return scores


test_start.__test__ = False  # type: ignore[attr-defined]
test_answer.__test__ = False  # type: ignore[attr-defined]
test_submit.__test__ = False  # type: ignore[attr-defined]


def test_attempt_refresh(*, actor: User | None, assignment: RaterAssignment) -> TestAttempt | None:
    """The assignment's attempt, submitted first when its time ran out (answers so far count)."""
    attempt = TestAttempt.objects.filter(assignment=assignment).first()
    if attempt is not None and attempt_is_due(attempt):
        test_submit(actor=actor, attempt=attempt)
        attempt.refresh_from_db()
    return attempt


test_attempt_refresh.__test__ = False  # type: ignore[attr-defined]


def attempt_due_submit_all(*, now: dt.datetime | None = None) -> int:
    """Submit every attempt whose time ran out (for a periodic task). Returns how many."""
    now = now or timezone.now()
    due = TestAttempt.objects.filter(submitted_at__isnull=True, deadline__lte=now)
    count = 0
    for attempt in due.iterator():
        test_submit(actor=None, attempt=attempt)
        count += 1
    return count


# --- item bank import (records from io/item_bank.py or the shipped JSON) ----------------


@dataclass
class ImportProblem:
    location: str
    code: str
    message: str


@dataclass
class ItemBankPlan:
    inputs: list[TestItemInput]
    problems: list[ImportProblem]
    created: list[str]
    updated: list[str]


def item_bank_plan(*, records: Sequence[Any]) -> ItemBankPlan:
    """Resolve `io.item_bank.ItemRecord`s to competencies and check every item (no writes)."""
    frameworks: dict[tuple[str, str], Framework | None] = {}
    problems: list[ImportProblem] = []
    inputs: list[TestItemInput] = []

    def framework_for(code: str, version: str) -> Framework | None:
        key = (code, version)
        if key not in frameworks:
            qs = Framework.objects.filter(code=code)
            if version:
                qs = qs.filter(version=version)
            else:
                qs = qs.filter(status=FrameworkStatus.PUBLISHED).order_by("-published_at", "-pk")
            frameworks[key] = qs.first()
        return frameworks[key]

    wanted: dict[int, set[str]] = defaultdict(set)
    resolved: list[tuple[Any, Framework]] = []
    for record in records:
        framework = framework_for(record.framework, record.framework_version)
        if framework is None:
            problems.append(
                ImportProblem(
                    record.location,
                    KnowledgeErrorCode.FRAMEWORK_UNKNOWN,
                    _("No framework %(code)s %(version)s.")
                    % {"code": record.framework, "version": record.framework_version},
                )
            )
            continue
        wanted[framework.pk].add(record.competency)
        resolved.append((record, framework))
    competencies: dict[tuple[int, str], FrameworkItem] = {}
    query = Q(pk__in=[])
    for fw_id, codes in wanted.items():
        query |= Q(framework_id=fw_id, code__in=codes)
    for item in FrameworkItem.objects.filter(query).select_related("framework"):
        competencies[(item.framework_id, item.code)] = item
    for record, framework in resolved:
        competency = competencies.get((framework.pk, record.competency))
        if competency is None:
            problems.append(
                ImportProblem(
                    record.location,
                    KnowledgeErrorCode.COMPETENCY_UNKNOWN,
                    _("%(framework)s has no competency %(code)s.")
                    % {"framework": framework.code, "code": record.competency},
                )
            )
            continue
        data = TestItemInput(
            code=record.code,
            competency=competency,
            kind=record.kind,
            stem=record.stem,
            choices=[
                ChoiceInput(text=texts, is_correct=(i + 1) in record.correct)
                for i, texts in enumerate(record.options)
            ],
            true_false_answer=record.true_false_answer,
            numeric_answer=record.numeric_answer,
            numeric_tolerance=record.tolerance,
            explanation=record.explanation,
            is_active=record.active,
        )
        try:
            _check_item_input(data)
        except ValidationError as exc:
            problems.append(
                ImportProblem(record.location, _first_code(exc), " ".join(exc.messages))
            )
            continue
        inputs.append(data)
    existing = set(
        TestItem.objects.filter(code__in=[d.code for d in inputs]).values_list("code", flat=True)
    )
    return ItemBankPlan(
        inputs=inputs,
        problems=problems,
        created=[d.code for d in inputs if d.code not in existing],
        updated=[d.code for d in inputs if d.code in existing],
    )


def _first_code(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        for errors in exc.error_dict.values():
            for error in errors:
                return str(error.code or "invalid")
    return str(getattr(exc, "code", None) or "invalid")


@transaction.atomic
def item_bank_apply(*, actor: User | None, plan: ItemBankPlan) -> tuple[int, int]:
    """Create or update (by code) every planned question. Returns (created, updated)."""
    _require_manager(actor)
    if plan.problems:
        raise ValidationError(
            _("The file has problems; nothing was imported."),
            code=AssessmentErrorCode.INCOMPLETE,
        )
    existing = {item.code: item for item in TestItem.objects.filter(code__in=plan.updated)}
    created = updated = 0
    for data in plan.inputs:
        choices = _check_item_input(data)
        if data.code in existing:
            _write_item(existing[data.code], data, choices)
            updated += 1
        else:
            _write_item(TestItem(), data, choices)
            created += 1
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT if hasattr(AuditAction, "IMPORT") else AuditAction.CREATE,
        object_type="assessments.testitem",
        object_repr=f"item bank: {created} new, {updated} updated",
        after={"created": created, "updated": updated},
    )
    return created, updated


def item_bank_records(*, items: Iterable[TestItem]) -> list[Any]:
    """Questions as `io.item_bank.ItemRecord`s for export (prefetch competency and choices)."""
    from educap.assessments.io.item_bank import ItemRecord

    def texts(obj: Any, name: str) -> Texts:
        return {lang: v for lang in LANGUAGES if (v := getattr(obj, f"{name}_{lang}", None))}

    records = []
    for item in items:
        choices = list(item.choices.all())
        is_tf = item.kind == TestItemKind.TRUE_FALSE
        records.append(
            ItemRecord(
                code=item.code,
                framework=item.competency.framework.code,
                framework_version=item.competency.framework.version,
                competency=item.competency.code,
                kind=item.kind,
                stem=texts(item, "stem"),
                options=[] if is_tf else [texts(c, "text") for c in choices],
                correct=set() if is_tf else {i + 1 for i, c in enumerate(choices) if c.is_correct},
                true_false_answer=(choices[0].is_correct if choices else None) if is_tf else None,
                numeric_answer=item.numeric_answer,
                tolerance=item.numeric_tolerance,
                explanation=texts(item, "explanation"),
                active=item.is_active,
                location=item.code,
            )
        )
    return records


def emis_item_bank_install(*, actor: User | None = None) -> tuple[int, int]:
    """Load the item bank that ships with EduCap against the published EMIS framework."""
    from educap.assessments.io.item_bank import records_from_json

    records, problems = records_from_json(json.loads(EMIS_ITEM_BANK.read_text(encoding="utf-8")))
    plan = item_bank_plan(records=records)
    plan.problems = [ImportProblem(p.location, p.code, p.message) for p in problems] + plan.problems
    if plan.problems:
        raise ValidationError(
            "; ".join(f"{p.location}: {p.message}" for p in plan.problems[:10]),
            code=AssessmentErrorCode.INCOMPLETE,
        )
    return item_bank_apply(actor=actor, plan=plan)
