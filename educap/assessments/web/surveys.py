"""Surveys on the web: answering (one section per screen), preview and aggregate results."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from educap.assessments.models import (
    AssignmentKind,
    Campaign,
    QuestionKind,
    Survey,
    SurveyResponse,
)
from educap.assessments.selectors import assignment_get
from educap.assessments.services import campaign_manage_allowed
from educap.assessments.surveys import (
    LIKERT_LABELS,
    survey_questions,
    survey_response_save,
    survey_results,
    survey_saved_answers,
)


def _require_manager(request: HttpRequest) -> None:
    if not campaign_manage_allowed(user=request.user):
        raise PermissionDenied


def _likert() -> list[tuple[int, str]]:
    return [(value, str(label)) for value, label in LIKERT_LABELS.items()]


def _read(request: HttpRequest, section: Any) -> dict[int, Any]:
    answers: dict[int, Any] = {}
    for question in section.questions.all():
        name = f"q{question.pk}"
        if question.kind == QuestionKind.MULTIPLE:
            answers[question.pk] = request.POST.getlist(name)
        else:
            answers[question.pk] = request.POST.get(name, "")
    return answers


def _section_url(pk: int, index: int) -> str:
    return reverse("assessments:survey_answer", kwargs={"pk": pk}) + f"?section={index}"


@login_required
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = assignment_get(user=request.user, pk=pk)
    if assignment.kind != AssignmentKind.SURVEY or assignment.campaign.survey_id is None:
        raise Http404
    survey = assignment.campaign.survey
    sections = survey_questions(survey=survey)
    response = SurveyResponse.objects.filter(assignment=assignment).first()
    if (response is not None and response.submitted_at is not None) or not assignment.is_open:
        return render(
            request,
            "assessments/survey_done.html",
            {"assignment": assignment, "survey": survey, "response": response},
        )
    count = len(sections)
    raw = request.POST.get("section") or request.GET.get("section") or "1"
    index = min(max(int(raw) if raw.isdigit() else 1, 1), max(count, 1))
    errors: dict[str, str] = {}
    values: dict[int, Any] = {}
    if request.method == "POST" and sections:
        section = sections[index - 1]
        action = request.POST.get("action", "next")
        answers = _read(request, section)
        try:
            survey_response_save(actor=request.user, assignment=assignment, answers=answers)
            if action == "submit":
                survey_response_save(
                    actor=request.user, assignment=assignment, answers={}, submit=True
                )
        except ValidationError as exc:
            errors = {key: " ".join(msgs) for key, msgs in exc.message_dict.items()}
            missing = [
                n
                for n, s in enumerate(sections, 1)
                if any(f"q{q.pk}" in errors for q in s.questions.all())
            ]
            if missing and missing[0] != index:
                messages.error(request, _("Some required questions still need an answer."))
                return redirect(_section_url(assignment.pk, missing[0]) + "&check=1")
            values = answers
        else:
            if action == "submit":
                messages.success(request, _("Thank you: your answers have been submitted."))
                return redirect("assessments:survey_answer", pk=assignment.pk)
            if action == "save":
                messages.success(request, _("Draft saved. You can come back later."))
                return redirect(_section_url(assignment.pk, index))
            step = -1 if action == "prev" else 1
            return redirect(_section_url(assignment.pk, min(max(index + step, 1), count)))
    if not values:
        values = survey_saved_answers(assignment=assignment)
    if request.GET.get("check") and not errors and sections:
        # Came here from a refused submit: show which questions in this section need answers.
        errors = {
            f"q{q.pk}": _("This question needs an answer.")
            for q in sections[index - 1].questions.all()
            if q.required and values.get(q.pk) in (None, "", [])
        }
    section = sections[index - 1] if sections else None
    context = {
        "assignment": assignment,
        "survey": survey,
        "section": section,
        "index": index,
        "count": count,
        "percent_step": 5 * round(20 * index / count) if count else 0,
        "questions": _question_rows(section, values, errors) if section else [],
        "has_errors": bool(errors),
        "likert": _likert(),
    }
    return render(request, "assessments/survey_answer.html", context)


def _question_rows(
    section: Any, values: dict[int, Any], errors: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for question in section.questions.all():
        value = values.get(question.pk)
        selected = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        rows.append(
            {
                "question": question,
                "name": f"q{question.pk}",
                "value": "" if isinstance(value, list) or value is None else value,
                "selected": {str(v) for v in selected},
                "error": errors.get(f"q{question.pk}", ""),
            }
        )
    return rows


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    surveys = (
        Survey.objects.annotate(n_sections=Count("sections", distinct=True))
        .annotate(n_questions=Count("sections__questions", distinct=True))
        .prefetch_related(Prefetch("campaigns", queryset=Campaign.objects.order_by("-opens_on")))
        .order_by("code")
    )
    return render(request, "assessments/survey_list.html", {"surveys": surveys})


@login_required
def survey_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A read-only preview of every section, as people will see it."""
    _require_manager(request)
    survey = get_object_or_404(Survey, code=code)
    sections = survey_questions(survey=survey)
    return render(
        request,
        "assessments/survey_detail.html",
        {
            "survey": survey,
            "sections": [(s, _question_rows(s, {}, {})) for s in sections],
            "likert": _likert(),
        },
    )


@login_required
def survey_results_view(request: HttpRequest, code: str) -> HttpResponse:
    """Aggregates for one campaign's survey: counts per choice, means; never single answers."""
    _require_manager(request)
    campaign = get_object_or_404(Campaign.objects.select_related("survey"), code=code)
    if campaign.survey is None:
        raise Http404
    sections = survey_questions(survey=campaign.survey)
    respondents, results = survey_results(campaign=campaign, sections=sections)
    invited = campaign.assignments.filter(kind=AssignmentKind.SURVEY).count()
    return render(
        request,
        "assessments/survey_results.html",
        {
            "campaign": campaign,
            "survey": campaign.survey,
            "respondents": respondents,
            "invited": invited,
            "results": results,
        },
    )


urlpatterns = [
    path("survey/<int:pk>/", survey_answer, name="survey_answer"),
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/results/<str:code>/", survey_results_view, name="survey_results"),
    path("surveys/<str:code>/", survey_detail, name="survey_detail"),
]
