"""Surveys: installing from JSON, the shipped MASS survey, answering and results."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    RaterAssignment,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveySection,
)
from educap.assessments.services import campaign_launch
from educap.assessments.surveys import (
    MASS_SURVEY,
    SurveyErrorCode,
    install_mass_survey,
    survey_install,
    survey_questions,
    survey_response_save,
    survey_results,
    survey_saved_answers,
)
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import MiniMinistry

LANGS = ("en", "ar", "fr", "lo")
ARABIC = range(0x0600, 0x06FF + 1)
LAO = range(0x0E80, 0x0EFF + 1)


def tiny_survey(version: str = "1.0") -> dict:
    t = {"en": "x"}
    return {
        "code": "TINY",
        "version": version,
        "title": {"en": "Tiny survey"},
        "sections": [
            {
                "code": "s1",
                "title": t,
                "questions": [
                    {
                        "code": "years",
                        "kind": "number",
                        "text": t,
                        "required": True,
                        "min": 0,
                        "max": 50,
                    },
                    {
                        "code": "tools",
                        "kind": "multiple",
                        "text": t,
                        "choices": [{"code": "a", "label": t}, {"code": "b", "label": t}],
                    },
                    {
                        "code": "qual",
                        "kind": "single",
                        "text": t,
                        "required": True,
                        "choices": [{"code": "a", "label": t}, {"code": "b", "label": t}],
                    },
                ],
            },
            {
                "code": "s2",
                "title": t,
                "questions": [
                    {"code": "confident", "kind": "likert", "text": t, "required": True},
                    {"code": "wish", "kind": "text", "text": t},
                ],
            },
        ],
    }


def _mass_texts(data: dict):
    """Every translatable text in the MASS file, with where it is."""
    yield "title", data["title"]
    yield "description", data["description"]
    for section in data["sections"]:
        yield f"{section['code']}.title", section["title"]
        yield f"{section['code']}.description", section["description"]
        for q in section["questions"]:
            yield f"{q['code']}.text", q["text"]
            if "help_text" in q:
                yield f"{q['code']}.help_text", q["help_text"]
            for c in q.get("choices", []):
                yield f"{q['code']}.{c['code']}", c["label"]


def test_mass_survey_has_every_text_in_four_languages() -> None:
    data = json.loads(MASS_SURVEY.read_text(encoding="utf-8"))
    count = 0
    for where, texts in _mass_texts(data):
        count += 1
        assert set(texts) == set(LANGS), where
        assert all(texts[lang].strip() for lang in LANGS), where
        assert any(ord(ch) in ARABIC for ch in texts["ar"]), where
        assert any(ord(ch) in LAO for ch in texts["lo"]), where
        if where.endswith(".text"):
            assert texts["fr"] != texts["en"], where
    assert count > 100
    sections = [s["code"] for s in data["sections"]]
    assert sections == ["about", "sbm", "planning", "admin", "pfm", "it"]
    for section in data["sections"][1:]:
        kinds = [q["kind"] for q in section["questions"]]
        assert 5 <= len(kinds) <= 8
        assert "likert" in kinds
        assert kinds.count("text") == 1


@pytest.mark.django_db
def test_install_mass_survey_is_idempotent() -> None:
    survey = install_mass_survey()
    assert survey.code == "MASS"
    assert survey.title_lo
    assert survey.title_ar
    questions = SurveyQuestion.objects.filter(section__survey=survey).count()
    assert questions >= 30
    again = install_mass_survey()
    assert again.pk == survey.pk
    assert SurveyQuestion.objects.filter(section__survey=survey).count() == questions
    codes = list(
        SurveyQuestion.objects.filter(section__survey=survey).values_list("code", flat=True)
    )
    assert len(codes) == len(set(codes))
    call_command("install_mass_survey", verbosity=0)
    assert Survey.objects.count() == 1


@pytest.mark.django_db
def test_install_refuses_bad_descriptions_and_replaces_unused_versions() -> None:
    bad = tiny_survey()
    bad["sections"][1]["questions"][0]["code"] = "years"  # repeated in the survey
    with pytest.raises(ValidationError) as exc:
        survey_install(data=bad)
    assert exc.value.code == SurveyErrorCode.INVALID_DESCRIPTION
    survey_install(data=tiny_survey())
    newer = tiny_survey("2.0")
    del newer["sections"][1]
    survey = survey_install(data=newer)
    assert survey.version == "2.0"
    assert SurveySection.objects.filter(survey=survey).count() == 1


@pytest.fixture
def survey_campaign(ministry: MiniMinistry):
    survey = survey_install(data=tiny_survey())
    campaign = make_campaign(
        ministry, collect_self=False, collect_supervisor=False, collect_survey=True, survey=survey
    )
    campaign_launch(actor=None, campaign=campaign)
    return campaign


def _q(code: str) -> SurveyQuestion:
    return SurveyQuestion.objects.get(code=code)


def _assignment(ministry: MiniMinistry, campaign, person: str = "g1d1_teacher") -> RaterAssignment:
    return RaterAssignment.objects.get(
        campaign=campaign, kind=AssignmentKind.SURVEY, rater=ministry.people[person]
    )


@pytest.mark.django_db
def test_draft_resume_and_submit(ministry, survey_campaign) -> None:
    user = ministry.users["teacher"]
    assignment = _assignment(ministry, survey_campaign)
    years, tools, qual, confident, wish = (
        _q(c) for c in ("years", "tools", "qual", "confident", "wish")
    )
    a, b = tools.choices.order_by("sequence")
    survey_response_save(
        actor=user, assignment=assignment, answers={years.pk: "12", tools.pk: [a.pk, b.pk]}
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.STARTED
    assert SurveyAnswer.objects.filter(question=tools).count() == 2
    saved = survey_saved_answers(assignment=assignment)
    assert saved == {years.pk: "12", tools.pk: [a.pk, b.pk]}
    # Submitting without the required answers names each missing question.
    with pytest.raises(ValidationError) as exc:
        survey_response_save(actor=user, assignment=assignment, answers={}, submit=True)
    assert set(exc.value.error_dict) == {f"q{qual.pk}", f"q{confident.pk}"}
    assert exc.value.error_dict[f"q{qual.pk}"][0].code == SurveyErrorCode.REQUIRED
    survey_response_save(
        actor=user,
        assignment=assignment,
        answers={
            qual.pk: qual.choices.first().pk,
            confident.pk: "4",
            wish.pk: " More training ",
            tools.pk: [b.pk],
        },
        submit=True,
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    assert SurveyAnswer.objects.get(question=wish).text == "More training"
    assert list(SurveyAnswer.objects.filter(question=tools).values_list("choice", flat=True)) == [
        b.pk
    ]
    with pytest.raises(ValidationError) as exc:
        survey_response_save(actor=user, assignment=assignment, answers={years.pk: "3"})
    assert exc.value.code == SurveyErrorCode.CLOSED


@pytest.mark.django_db
def test_answers_are_validated(ministry, survey_campaign) -> None:
    user = ministry.users["teacher"]
    assignment = _assignment(ministry, survey_campaign)
    years, tools, qual, confident = (_q(c) for c in ("years", "tools", "qual", "confident"))
    foreign = SurveyChoice.objects.exclude(question=qual).first()
    with pytest.raises(ValidationError) as exc:
        survey_response_save(
            actor=user,
            assignment=assignment,
            answers={years.pk: "51", qual.pk: foreign.pk, confident.pk: "6", tools.pk: ["x"]},
        )
    codes = {key: errs[0].code for key, errs in exc.value.error_dict.items()}
    assert codes == {
        f"q{years.pk}": SurveyErrorCode.OUT_OF_RANGE,
        f"q{qual.pk}": SurveyErrorCode.CHOICE_INVALID,
        f"q{confident.pk}": SurveyErrorCode.OUT_OF_RANGE,
        f"q{tools.pk}": SurveyErrorCode.CHOICE_INVALID,
    }
    assert not SurveyAnswer.objects.exists()
    with pytest.raises(PermissionDenied):
        survey_response_save(actor=ministry.users["head"], assignment=assignment, answers={})


@pytest.mark.django_db
def test_results_count_only_submitted_responses(ministry, survey_campaign) -> None:
    years, tools, qual, confident = (_q(c) for c in ("years", "tools", "qual", "confident"))
    a, b = tools.choices.order_by("sequence")
    for person, username, n in (("g1d1_teacher", "teacher", 10), ("g1d1_head", "head", 20)):
        survey_response_save(
            actor=ministry.users[username],
            assignment=_assignment(ministry, survey_campaign, person),
            answers={
                years.pk: str(n),
                tools.pk: [a.pk] if n == 10 else [a.pk, b.pk],
                qual.pk: qual.choices.first().pk,
                confident.pk: 5 if n == 10 else 3,
            },
            submit=True,
        )
    # A draft from someone else does not count.
    survey_response_save(
        actor=ministry.users["central"],
        assignment=_assignment(ministry, survey_campaign, "central"),
        answers={years.pk: "40"},
    )
    sections = survey_questions(survey=survey_campaign.survey)
    respondents, results = survey_results(campaign=survey_campaign, sections=sections)
    assert respondents == 2
    by_code = {s.question.code: s for _, rows in results for s in rows}
    assert by_code["years"].mean == 15.0
    assert by_code["years"].answered == 2
    assert [(n, pct) for _, n, pct in by_code["tools"].counts] == [(2, 100.0), (1, 50.0)]
    assert by_code["confident"].mean == 4.0
    assert [n for _, n, _ in by_code["confident"].counts] == [0, 0, 1, 0, 1]
    assert by_code["wish"].answered == 0
    assert Decimal(str(by_code["years"].mean)) == Decimal("15.0")
