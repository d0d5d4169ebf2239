"""Knowledge tests: item bank rules, cut scores, drawing, answering, scoring."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from educap.assessments.knowledge import (
    ChoiceInput,
    KnowledgeErrorCode,
    TestItemInput,
    answer_is_correct,
    attempt_is_due,
    cut_scores_set,
    default_cut_scores,
    level_for_score,
    test_answer,
    test_attempt_refresh,
    test_item_create,
    test_item_update,
    test_start,
    test_submit,
)
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    CurrentLevel,
    CutScore,
    RaterAssignment,
    Rating,
    Source,
    TestItem,
)
from educap.assessments.services import campaign_launch
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import MiniMinistry
from educap.frameworks.models import FrameworkItem


def _en(text: str) -> dict[str, str]:
    return {"en": text}


def make_item(competency: FrameworkItem, code: str, kind: str = "single", **extra) -> TestItem:
    if kind == "single" and "choices" not in extra:
        extra["choices"] = [
            ChoiceInput(_en("Right"), True),
            ChoiceInput(_en("Wrong"), False),
            ChoiceInput(_en("Also wrong"), False),
        ]
    if kind == "true_false":
        extra.setdefault("true_false_answer", True)
    if kind == "numeric":
        extra.setdefault("numeric_answer", Decimal(90))
        extra.setdefault("numeric_tolerance", Decimal("0.5"))
    return test_item_create(
        actor=None,
        data=TestItemInput(
            code=code, competency=competency, kind=kind, stem=_en(f"Question {code}"), **extra
        ),
    )


@pytest.fixture
def test_campaign(ministry: MiniMinistry):
    campaign = make_campaign(
        ministry,
        collect_self=False,
        collect_supervisor=False,
        collect_test=True,
        test_items_per_competency=2,
        test_time_limit_minutes=30,
    )
    campaign_launch(actor=None, campaign=campaign)
    return campaign


def competency(campaign, code: str) -> FrameworkItem:
    return FrameworkItem.objects.get(framework=campaign.framework, code=code)


def teacher_assignment(ministry: MiniMinistry, campaign) -> RaterAssignment:
    return RaterAssignment.objects.get(
        campaign=campaign, kind=AssignmentKind.TEST, ratee=ministry.people["g1d1_teacher"]
    )


# --- item bank rules -------------------------------------------------------------------


@pytest.mark.django_db
def test_single_choice_needs_exactly_one_correct_option(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    with pytest.raises(ValidationError) as exc:
        make_item(d11, "Q1", choices=[ChoiceInput(_en("a"), True), ChoiceInput(_en("b"), True)])
    assert exc.value.error_dict["choices"][0].code == KnowledgeErrorCode.CHOICES_INVALID
    with pytest.raises(ValidationError):
        make_item(
            d11, "Q1", kind="multiple", choices=[ChoiceInput(_en("a")), ChoiceInput(_en("b"))]
        )
    item = make_item(
        d11,
        "Q2",
        kind="multiple",
        choices=[ChoiceInput(_en("a"), True), ChoiceInput(_en("b"), True)],
    )
    assert item.choices.filter(is_correct=True).count() == 2


@pytest.mark.django_db
def test_numeric_needs_answer_and_true_false_stores_two_options(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    with pytest.raises(ValidationError) as exc:
        make_item(d11, "N1", kind="numeric", numeric_answer=None)
    assert exc.value.error_dict["numeric_answer"][0].code == (
        KnowledgeErrorCode.NUMERIC_ANSWER_MISSING
    )
    tf = make_item(d11, "TF1", kind="true_false", true_false_answer=False)
    choices = list(tf.choices.order_by("sequence"))
    assert [c.text_en for c in choices] == ["True", "False"]
    assert [c.is_correct for c in choices] == [False, True]


@pytest.mark.django_db
def test_item_must_measure_a_competency_and_only_managers_write(ministry, test_campaign) -> None:
    domain = competency(test_campaign, "D1")
    with pytest.raises(ValidationError):
        make_item(domain, "X1")
    with pytest.raises(PermissionDenied):
        test_item_create(
            actor=ministry.users["teacher"],
            data=TestItemInput(
                code="X2",
                competency=competency(test_campaign, "D1.1"),
                kind="true_false",
                stem=_en("Stem"),
                true_false_answer=True,
            ),
        )


@pytest.mark.django_db
def test_update_replaces_options_and_keeps_translations(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    item = make_item(d11, "U1")
    test_item_update(
        actor=ministry.users["central"],
        item=item,
        data=TestItemInput(
            code="U1",
            competency=d11,
            kind="single",
            stem={"en": "New stem", "ar": "سؤال جديد"},
            choices=[ChoiceInput({"en": "Yes", "fr": "Oui"}, True), ChoiceInput(_en("No"))],
        ),
    )
    item.refresh_from_db()
    assert item.stem_en == "New stem"
    assert item.stem_ar == "سؤال جديد"
    assert item.stem_fr is None
    assert [c.text_fr for c in item.choices.order_by("sequence")] == ["Oui", None]


# --- cut scores ------------------------------------------------------------------------


@pytest.mark.django_db
def test_cut_scores_must_rise_with_the_level(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    with pytest.raises(ValidationError) as exc:
        cut_scores_set(actor=None, competency=d11, cuts={1: 30, 2: 30, 3: 70})
    assert exc.value.error_dict["level_2"][0].code == KnowledgeErrorCode.CUT_SCORES_NOT_MONOTONIC
    with pytest.raises(ValidationError):
        cut_scores_set(actor=None, competency=d11, cuts={1: 101})
    cut_scores_set(actor=None, competency=d11, cuts={0: 0, 2: 50, 4: 90, 3: None})
    assert list(
        CutScore.objects.filter(competency=d11).values_list("level__value", "min_percent")
    ) == [
        (0, 0),
        (2, 50),
        (4, 90),
    ]
    with pytest.raises(PermissionDenied):
        cut_scores_set(actor=ministry.users["teacher"], competency=d11, cuts={})


# --- taking a test ---------------------------------------------------------------------


@pytest.mark.django_db
def test_start_draws_per_competency_and_skips_empty_ones(ministry, test_campaign) -> None:
    d11, d12 = competency(test_campaign, "D1.1"), competency(test_campaign, "D1.2")
    for n in range(5):
        make_item(d11, f"A{n}")
    make_item(d12, "B0")
    make_item(d12, "B1", is_active=False)
    officer = RaterAssignment.objects.get(
        campaign=test_campaign, kind=AssignmentKind.TEST, ratee=ministry.people["central"]
    )
    attempt = test_start(actor=ministry.users["central"], assignment=officer, rng=random.Random(4))
    drawn = TestItem.objects.filter(pk__in=attempt.item_ids)
    # D1.1: 2 of 5; D1.2: the only active one; D2.1 has no questions and is skipped.
    assert drawn.filter(competency=d11).count() == 2
    assert list(drawn.filter(competency=d12).values_list("code", flat=True)) == ["B0"]
    assert len(attempt.item_ids) == 3
    assert attempt.deadline is not None
    assert attempt.deadline - attempt.started_at == dt.timedelta(minutes=30)
    officer.refresh_from_db()
    assert officer.status == AssignmentStatus.STARTED
    # A second start returns the same attempt.
    again = test_start(actor=ministry.users["central"], assignment=officer)
    assert again.pk == attempt.pk
    assert again.item_ids == attempt.item_ids


@pytest.mark.django_db
def test_only_the_person_takes_their_test(ministry, test_campaign) -> None:
    assignment = teacher_assignment(ministry, test_campaign)
    with pytest.raises(PermissionDenied):
        test_start(actor=ministry.users["head"], assignment=assignment)


@pytest.mark.django_db
def test_answers_are_checked_and_scored_into_test_ratings(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    single = make_item(d11, "S1")
    numeric = make_item(d11, "N1", kind="numeric")
    other = make_item(competency(test_campaign, "D2.2"), "OTHER")
    assignment = teacher_assignment(ministry, test_campaign)
    user = ministry.users["teacher"]
    attempt = test_start(actor=user, assignment=assignment)
    assert set(attempt.item_ids) == {single.pk, numeric.pk}
    with pytest.raises(ValidationError) as exc:
        test_answer(actor=user, attempt=attempt, answers={other.pk: "1"})
    assert exc.value.error_dict["item"][0].code == KnowledgeErrorCode.ITEM_NOT_DRAWN
    with pytest.raises(ValidationError):
        test_answer(actor=user, attempt=attempt, answers={single.pk: 999999})
    right = single.choices.get(is_correct=True)
    attempt = test_answer(
        actor=user, attempt=attempt, answers={single.pk: str(right.pk), numeric.pk: "90,4"}
    )
    assert attempt.answers == {str(single.pk): right.pk, str(numeric.pk): "90.4"}
    # Both right: 100 % -> the top level of the default bands.
    scores = test_submit(actor=user, attempt=attempt)
    assert scores[d11.pk].percent == 100
    assert scores[d11.pk].level == 4
    rating = Rating.objects.get(person=ministry.people["g1d1_teacher"], source=Source.TEST)
    assert (rating.item_id, rating.value, rating.campaign_id) == (d11.pk, 4, test_campaign.pk)
    assert rating.assignment_id == assignment.pk
    assert CurrentLevel.objects.filter(person=ministry.people["g1d1_teacher"], item=d11).exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    with pytest.raises(ValidationError) as exc:
        test_answer(actor=user, attempt=attempt, answers={single.pk: ""})
    assert exc.value.code == KnowledgeErrorCode.ATTEMPT_CLOSED
    with pytest.raises(ValidationError):
        test_submit(actor=user, attempt=attempt)


@pytest.mark.django_db
def test_cut_scores_decide_the_level(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    first, second = make_item(d11, "S1"), make_item(d11, "S2")
    cut_scores_set(actor=None, competency=d11, cuts={1: 0, 2: 50, 3: 75, 4: 100})
    user = ministry.users["teacher"]
    attempt = test_start(actor=user, assignment=teacher_assignment(ministry, test_campaign))
    attempt = test_answer(
        actor=user,
        attempt=attempt,
        answers={
            first.pk: first.choices.get(is_correct=True).pk,
            second.pk: second.choices.filter(is_correct=False).first().pk,
        },
    )
    scores = test_submit(actor=user, attempt=attempt)
    assert scores[d11.pk].percent == 50
    assert scores[d11.pk].level == 2
    attempt.refresh_from_db()
    assert attempt.scores == {str(d11.pk): 50.0}


@pytest.mark.django_db
def test_expired_attempt_is_submitted_with_the_answers_so_far(ministry, test_campaign) -> None:
    d11 = competency(test_campaign, "D1.1")
    tf = make_item(d11, "TF", kind="true_false")
    make_item(d11, "S1")
    user = ministry.users["teacher"]
    assignment = teacher_assignment(ministry, test_campaign)
    attempt = test_start(actor=user, assignment=assignment)
    attempt = test_answer(actor=user, attempt=attempt, answers={tf.pk: "true"})
    attempt.deadline = attempt.started_at - dt.timedelta(seconds=1)
    attempt.save()
    assert attempt_is_due(attempt)
    with pytest.raises(ValidationError) as exc:
        test_answer(actor=user, attempt=attempt, answers={tf.pk: "false"})
    assert exc.value.code == KnowledgeErrorCode.DEADLINE_PASSED
    refreshed = test_attempt_refresh(actor=user, assignment=assignment)
    assert refreshed is not None
    assert refreshed.submitted_at == attempt.deadline
    assert refreshed.scores == {str(d11.pk): 50.0}
    rating = Rating.objects.get(source=Source.TEST)
    assert rating.value == 2  # 50 % with default bands 0/20/40/60/80


# --- scoring arithmetic (properties) ---------------------------------------------------


@given(st.integers(min_value=1, max_value=10))
def test_default_cut_scores_are_equal_bands_from_zero(n: int) -> None:
    cuts = default_cut_scores(list(range(n)))
    assert cuts[0] == (0, 0)
    mins = [m for _, m in cuts]
    assert mins == sorted(mins)
    assert len(set(mins)) == n
    assert all(0 <= m < 100 for m in mins)
    if n == 5:
        assert mins == [0, 20, 40, 60, 80]


@given(
    st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=6, unique=True),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=1, max_value=40),
)
def test_level_for_score_is_monotonic_and_respects_cuts(
    mins: list[int], correct: int, total: int
) -> None:
    correct = min(correct, total)
    cuts = list(enumerate(sorted(mins)))
    lowest = -1
    score = Fraction(100 * correct, total)
    level = level_for_score(score, cuts, lowest)
    # The level reached has its cut at or below the score; the next level's cut is above it.
    if level == lowest:
        assert all(Fraction(m) > score for _, m in cuts)
    else:
        assert Fraction(dict(cuts)[level]) <= score
        if level + 1 < len(cuts):
            assert Fraction(dict(cuts)[level + 1]) > score
    if correct < total:
        better = level_for_score(Fraction(100 * (correct + 1), total), cuts, lowest)
        assert better is not None
        assert level is not None
        assert better >= level


@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2),
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=-200, max_value=200, places=2),
)
def test_numeric_answers_count_within_tolerance(
    answer: Decimal, tolerance: Decimal, offset: Decimal
) -> None:
    given_answer = answer + offset
    assert answer_is_correct(
        kind="numeric", answer=str(given_answer), numeric_answer=answer, tolerance=tolerance
    ) == (abs(offset) <= tolerance)


@given(st.sets(st.integers(1, 8), min_size=1), st.sets(st.integers(1, 8)))
def test_multiple_choice_needs_the_exact_set(correct: set[int], chosen: set[int]) -> None:
    assert answer_is_correct(
        kind="multiple", answer=sorted(chosen), correct_choice_ids=correct
    ) == (chosen == correct)


def test_true_false_and_blank_answers() -> None:
    assert answer_is_correct(kind="true_false", answer="true", true_is_correct=True)
    assert not answer_is_correct(kind="true_false", answer="true", true_is_correct=False)
    assert not answer_is_correct(kind="single", answer=None, correct_choice_ids=[1])
    assert not answer_is_correct(kind="numeric", answer="abc", numeric_answer=Decimal(1))
