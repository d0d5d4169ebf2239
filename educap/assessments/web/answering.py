"""Screens where people answer: my assessments, the rating form, the team grid, peers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from educap.assessments import selectors, services
from educap.assessments.models import AssignmentKind, AssignmentStatus, RaterAssignment
from educap.assessments.services import RATING_KINDS, Answer
from educap.assessments.web.campaigns import optional_url
from educap.assessments.web.forms import RatingForm
from educap.frameworks.selectors import scale_levels
from educap.people.models import Person


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The user's assignments grouped by campaign, and the peers they have to choose."""
    assignments = list(selectors.my_assignments(user=request.user))
    choices = selectors.peer_choices(user=request.user)
    groups: dict[int, dict[str, Any]] = {}
    for a in assignments:
        group = groups.setdefault(
            a.campaign_id,
            {"campaign": a.campaign, "todo": [], "done": [], "team": [0, 0], "peers": []},
        )
        if a.kind == AssignmentKind.SUPERVISOR:
            group["team"][0] += 1
            group["team"][1] += a.status == AssignmentStatus.SUBMITTED
            continue
        a.url = _answer_url(a)  # type: ignore[attr-defined]
        group["done" if a.status == AssignmentStatus.SUBMITTED else "todo"].append(a)
    for choice in choices:
        if choice.campaign_id in groups:
            groups[choice.campaign_id]["peers"].append(choice)
    return render(request, "assessments/mine.html", {"groups": list(groups.values())})


def _answer_url(assignment: RaterAssignment) -> str | None:
    if assignment.kind in RATING_KINDS:
        return reverse("assessments:rate", args=[assignment.pk])
    if assignment.kind == AssignmentKind.TEST:
        return optional_url("assessments:test_take", assignment.pk)
    return optional_url("assessments:survey_answer", assignment.pk)


def _rating_assignment(request: HttpRequest, pk: int) -> RaterAssignment:
    assignment = selectors.assignment_get(user=request.user, pk=pk)
    if assignment.kind not in RATING_KINDS:
        raise Http404
    return assignment


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    """One competency at a time; every "next" keeps the answer as a draft."""
    assignment = _rating_assignment(request, pk)
    if not assignment.is_open:
        messages.info(request, _("This assessment is closed or already submitted."))
        return redirect("assessments:mine")
    competencies = selectors.assignment_competencies(assignment=assignment)
    if not competencies:
        messages.info(request, _("There is nothing to rate in this assessment."))
        return redirect("assessments:mine")
    drafts = selectors.assignment_drafts(assignment=assignment)
    levels = scale_levels(framework=assignment.campaign.framework)
    count = len(competencies)
    first_open = next((i for i, c in enumerate(competencies, 1) if c.item.pk not in drafts), count)
    index = _step(request.POST.get("n") or request.GET.get("n"), count, first_open)
    current = competencies[index - 1]
    allow_na = assignment.kind != AssignmentKind.SELF
    draft = drafts.get(current.item.pk)
    form = RatingForm(
        request.POST or None,
        values=[lvl.value for lvl in levels],
        allow_na=allow_na,
        initial={
            "level": ("na" if draft.level is None else str(draft.level.value)) if draft else "",
            "comment": draft.comment if draft else "",
            "evidence": draft.evidence if draft else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "next")
        level = form.cleaned_data["level"]
        if level == "" and action == "next" and draft is None:
            form.add_error("level", _("Choose a level to go on."))
        else:
            try:
                if level != "":
                    services.draft_save(
                        actor=request.user,  # type: ignore[arg-type]
                        assignment=assignment,
                        answers=[
                            Answer(
                                current.item.pk,
                                level,
                                form.cleaned_data["comment"],
                                form.cleaned_data["evidence"],
                            )
                        ],
                    )
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                target = _target(action, index, count)
                if target is None:
                    return redirect("assessments:rate_review", pk=assignment.pk)
                return redirect(f"{reverse('assessments:rate', args=[assignment.pk])}?n={target}")
    own = selectors.self_ratings_for_supervisor(assignment=assignment)
    return render(
        request,
        "assessments/rate_form.html",
        {
            "assignment": assignment,
            "campaign": assignment.campaign,
            "current": current,
            "index": index,
            "count": count,
            "percent_step": int(5 * round(20 * len(drafts) / count)),
            "answered": len(drafts),
            "steps": [(i, c, c.item.pk in drafts) for i, c in enumerate(competencies, 1)],
            "levels": [(lvl, current.indicators.get(lvl.value, "")) for lvl in levels],
            "form": form,
            "chosen": str(form["level"].value() or ""),
            "allow_na": allow_na,
            "self_rating": own.get(current.item.pk),
            "self_level": {lvl.value: lvl for lvl in levels}.get(
                own[current.item.pk].value if current.item.pk in own else -1
            ),
        },
    )


def _step(raw: str | None, count: int, default: int) -> int:
    if raw and raw.isdigit():
        return min(max(int(raw), 1), count)
    return default


def _target(action: str, index: int, count: int) -> int | None:
    """Where a button sends the rater: a step number, or None for the review screen."""
    if action == "prev":
        return max(index - 1, 1)
    if action.startswith("jump-") and action[5:].isdigit():
        return min(max(int(action[5:]), 1), count)
    if action == "review" or index >= count:
        return None
    return index + 1


@login_required
def rate_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Every answer on one page, then submit."""
    assignment = _rating_assignment(request, pk)
    if not assignment.is_open:
        messages.info(request, _("This assessment is closed or already submitted."))
        return redirect("assessments:mine")
    if request.method == "POST":
        try:
            services.assignment_submit(actor=request.user, assignment=assignment)  # type: ignore[arg-type]
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Thank you: your answers are submitted."))
            return redirect("assessments:mine")
    competencies = selectors.assignment_competencies(assignment=assignment)
    drafts = selectors.assignment_drafts(assignment=assignment)
    rows = [(i, c, drafts.get(c.item.pk)) for i, c in enumerate(competencies, 1)]
    return render(
        request,
        "assessments/rate_review.html",
        {
            "assignment": assignment,
            "campaign": assignment.campaign,
            "rows": rows,
            "missing": sum(1 for _i, _c, d in rows if d is None),
        },
    )


# --- supervisor team screen ------------------------------------------------------------


def _team_answers(data: Mapping[str, Any], assignment_ids: set[int]) -> dict[int, list[Answer]]:
    """Cells are named `a<assignment>_<competency>`; empty cells are left as they are."""
    answers: dict[int, list[Answer]] = {}
    for name, value in data.items():
        if not name.startswith("a") or "_" not in name or value in ("", None):
            continue
        a_id, _sep, item_id = name[1:].partition("_")
        if not (a_id.isdigit() and item_id.isdigit()) or int(a_id) not in assignment_ids:
            continue
        if value != "na" and not str(value).isdigit():
            continue
        level = None if value == "na" else int(value)
        answers.setdefault(int(a_id), []).append(Answer(int(item_id), level))
    return answers


def _team_save(
    request: HttpRequest, team: list[RaterAssignment], only: int | None = None
) -> list[str]:
    """Save drafts for the rows posted, then submit the row asked for. Returns errors."""
    by_id = {a.pk: a for a in team if a.is_open and (only is None or a.pk == only)}
    errors = []
    for a_id, answers in _team_answers(request.POST, set(by_id)).items():
        try:
            services.draft_save(actor=request.user, assignment=by_id[a_id], answers=answers)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors.append(_error_text(exc))
    submit = request.POST.get("submit", "")
    if submit.isdigit() and int(submit) in by_id:
        try:
            services.assignment_submit(actor=request.user, assignment=by_id[int(submit)])  # type: ignore[arg-type]
        except ValidationError as exc:
            errors.append(_error_text(exc))
    return errors


def _team_context(request: HttpRequest, code: str) -> dict[str, Any]:
    campaign = selectors.campaign_get(user=request.user, code=code)
    team = list(
        selectors.team_assignments(user=request.user, campaign=campaign).select_related("profile")
    )
    columns, rows = selectors.team_grid(assignments=team)
    return {
        "campaign": campaign,
        "team": team,
        "columns": columns,
        "rows": rows,
        "levels": scale_levels(framework=campaign.framework),
    }


@login_required
def team(request: HttpRequest, code: str) -> HttpResponse:
    """A supervisor's direct reports by competencies; each row saves itself via htmx."""
    context = _team_context(request, code)
    if request.method == "POST":
        errors = _team_save(request, context["team"])
        for error in errors:
            messages.error(request, error)
        if not errors:
            messages.success(request, _("Ratings saved."))
        return redirect("assessments:team", code=code)
    return render(request, "assessments/team_grid.html", context)


@login_required
@require_POST
def team_row(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Save (and maybe submit) one person's row; returns the row for htmx to swap in."""
    context = _team_context(request, code)
    if pk not in {a.pk for a in context["team"]}:
        raise Http404
    errors = _team_save(request, context["team"], only=pk)
    context = _team_context(request, code)
    row = next(r for r in context["rows"] if r.assignment.pk == pk)
    if not request.htmx:  # type: ignore[attr-defined]
        for error in errors:
            messages.error(request, error)
        return redirect("assessments:team", code=code)
    return render(
        request,
        "assessments/partials/team_row.html",
        {**context, "row": row, "errors": errors, "saved": not errors},
    )


# --- peers -----------------------------------------------------------------------------


@login_required
def peers(request: HttpRequest, code: str, ratee: int) -> HttpResponse:
    """Name the colleagues who rate a person (the person or their supervisor chooses)."""
    campaign = selectors.campaign_get(user=request.user, code=code)
    choice = selectors.peer_choice_get(user=request.user, campaign=campaign, ratee_id=ratee)
    person = Person.objects.select_related("unit").get(pk=choice.ratee.pk)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("peers") if i.isdigit()]
        pool = selectors.peer_pool(user=request.user, ratee=person) | selectors.peer_pool(
            user=request.user, ratee=person, whole_scope=True
        )
        chosen = list(pool.filter(pk__in=ids))
        try:
            services.peers_nominate(
                actor=request.user,  # type: ignore[arg-type]
                campaign=campaign,
                ratee=person,
                peers=chosen,
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Peers saved."))
        return redirect("assessments:peers", code=campaign.code, ratee=person.pk)
    query = request.GET.get("q", "")
    whole = request.GET.get("scope") == "all"
    nominees = list(selectors.peer_nominees(campaign=campaign, ratee=person))
    taken = {p.pk for p in nominees}
    candidates = [
        p
        for p in selectors.peer_pool(
            user=request.user, ratee=person, whole_scope=whole, search=query
        )[:20]
        if p.pk not in taken
    ]
    return render(
        request,
        "assessments/peers_choose.html",
        {
            "campaign": campaign,
            "ratee": person,
            "nominees": nominees,
            "candidates": candidates,
            "left": max(campaign.peer_count - len(nominees), 0),
            "query": query,
            "whole": whole,
            "is_self": person.pk == getattr(request.user, "person_id", None),
        },
    )


urlpatterns = [
    path("mine/", mine, name="mine"),
    path("rate/<int:pk>/", rate, name="rate"),
    path("rate/<int:pk>/review/", rate_review, name="rate_review"),
    path("team/<str:code>/", team, name="team"),
    path("team/<str:code>/<int:pk>/", team_row, name="team_row"),
    path("peers/<str:code>/<int:ratee>/", peers, name="peers"),
]
