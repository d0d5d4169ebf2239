"""Gap pages: my gaps, a person's gaps, team gaps and the unit dashboard with its exports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate
from educap.frameworks.models import ScaleLevel
from educap.gaps import selectors
from educap.gaps.selectors import NextStep, PersonGap, PersonSummary
from educap.gaps.web import charts, exports
from educap.gaps.web.dashboard import Dashboard, dashboard_read
from educap.gaps.web.forms import MEASURES, FrameworkForm, GapFilterForm
from educap.org.models import OrgUnit
from educap.org.selectors import unit_get
from educap.people.models import Person
from educap.people.selectors import person_get

RECRUITMENT_PAGE = 25
# Child units per page of the heat map: a district of two hundred schools would be 8,000
# cells, too heavy to render and to send over a slow connection.
HEAT_PAGE = 25
EXPORT_FORMATS = ("csv", "xlsx", "pdf")


# --- a person's gaps -------------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    gap: PersonGap
    required: ScaleLevel | None
    current: ScaleLevel | None
    step: NextStep | None
    # Active catalogue courses that develop the competency (CourseCompetency rows).
    courses: tuple[Any, ...] = ()


def _courses_for(item_ids: set[int]) -> dict[int, tuple[Any, ...]]:
    """Courses of the training catalogue per competency, in one query.

    The training app builds on gaps, not the other way round: its model is looked up
    through the app registry, and an installation without it simply shows no courses."""
    if not item_ids or not apps.is_installed("educap.training"):
        return {}
    links = (
        apps.get_model("training", "CourseCompetency")
        .objects.filter(item_id__in=item_ids, course__is_active=True)
        .select_related("course")
        .order_by("-level", "course__code")
    )
    found: dict[int, list[Any]] = defaultdict(list)
    for link in links:
        found[link.item_id].append(link)
    return {item_id: tuple(links) for item_id, links in found.items()}


def _gap_rows(summary: PersonSummary, steps: dict[int, NextStep]) -> list[GapRow]:
    """Below first (most important, widest gap first), then unknown, then met."""
    order = {"below": 0, "unknown": 1, "met": 2}
    gaps = sorted(
        summary.gaps,
        key=lambda g: (order[g.status], -g.weight, -(g.gap or 0)),
    )
    courses = _courses_for({g.item.pk for g in gaps if g.status != "met"})
    return [
        GapRow(
            g,
            summary.levels.get(g.required),
            summary.levels.get(g.current) if g.current is not None else None,
            steps.get(g.item.pk),
            courses.get(g.item.pk, ()),
        )
        for g in gaps
    ]


def _framework_form(request: HttpRequest) -> FrameworkForm:
    return FrameworkForm(request.GET if request.GET.get("framework") else None)


def _person_page(request: HttpRequest, person: Person, *, own: bool) -> HttpResponse:
    form = _framework_form(request)
    summary = selectors.person_gaps(user=request.user, person=person, framework=form.chosen(None))
    if not form.is_bound and summary.framework is not None:
        form.initial["framework"] = summary.framework.pk
    profile = selectors.domain_profile(summary=summary)
    top = max(summary.levels, default=0)
    rows = _gap_rows(summary, selectors.next_steps(summary=summary))
    return render(
        request,
        "gaps/person.html",
        {
            "person": person,
            "own": own,
            "summary": summary,
            "form": form,
            "several_frameworks": len(form.fields["framework"].queryset) > 1,  # type: ignore[attr-defined]
            "profile": profile,
            "radar": charts.radar(profile, top),
            "below": [r for r in rows if r.gap.status == "below"],
            "unknown": [r for r in rows if r.gap.status == "unknown"],
            "met": [r for r in rows if r.gap.status == "met"],
            "pending_self": own
            and summary.gaps
            and selectors.pending_self_assessment(user=request.user),
        },
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    person_id = scope_for(request.user).person_id
    if person_id is None:
        return render(request, "gaps/no_person.html")
    person = person_get(user=request.user, pk=person_id)
    return _person_page(request, person, own=True)


@login_required
def person(request: HttpRequest, pk: int) -> HttpResponse:
    found = person_get(user=request.user, pk=pk)
    if found.pk == scope_for(request.user).person_id:
        return redirect("gaps:mine")
    return _person_page(request, found, own=False)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    form = _framework_form(request)
    framework = form.chosen(None) or selectors.default_framework()
    if not form.is_bound and framework is not None:
        form.initial["framework"] = framework.pk
    items, rows = selectors.team_gaps(user=request.user, framework=framework)
    return render(
        request,
        "gaps/team.html",
        {
            "form": form,
            "framework": framework,
            "several_frameworks": len(form.fields["framework"].queryset) > 1,  # type: ignore[attr-defined]
            "items": items,
            "rows": [(row.person, [row.cells.get(item.pk) for item in items]) for row in rows],
        },
    )


# --- unit dashboard --------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    unit = selectors.start_unit(user=request.user)
    if unit is None:
        raise PermissionDenied(selectors.GapErrorCode.NOT_ALLOWED)
    return redirect("gaps:unit", code=unit.code)


def _heat_page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("upage", 1)))
    except ValueError:
        return 1


def _read(
    request: HttpRequest, code: str, *, paged: bool = False
) -> tuple[GapFilterForm, Dashboard | None, OrgUnit]:
    """The dashboard of a unit; `paged`: only the requested page of child units."""
    unit = unit_get(code=code)
    if not selectors.gaps_visible(user=request.user, unit=unit):
        raise PermissionDenied(selectors.GapErrorCode.NOT_ALLOWED)
    default = selectors.default_framework()
    form = GapFilterForm(request.GET or None)
    if not form.is_bound and default is not None:
        form.initial = {"framework": default.pk, "measure": "share"}
    if default is None:
        return form, None, unit
    page = _heat_page_number(request)
    filters = form.filters(default)
    if form.is_bound and form.data.get("framework") != str(filters.framework.pk):
        # Show the version the numbers are read against: the default one, or a past
        # period's, rather than an empty choice.
        form.data = form.data.copy()
        form.data["framework"] = str(filters.framework.pk)
    board = dashboard_read(
        user=request.user,
        unit=unit,
        filters=filters,
        measure=form.chosen_measure(),
        children_page=((page - 1) * HEAT_PAGE, HEAT_PAGE) if paged else None,
    )
    return form, board, unit


def _filters_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("rpage", None)
    params.pop("upage", None)
    return params.urlencode()


@login_required
def unit(request: HttpRequest, code: str) -> HttpResponse:
    form, board, found = _read(request, code, paged=True)
    scope = scope_for(request.user)
    ancestors = [a for a in found.ancestors() if scope.can_see_aggregates_of(a)]
    context: dict[str, Any] = {
        "unit": found,
        "ancestors": ancestors,
        "form": form,
        "board": board,
        "measures": MEASURES,
        "query": _filters_query(request),
        # Managers of the unit can turn a training need into a session.
        "can_plan": scope.can_manage_unit(found),
    }
    if board is not None:
        context["recruitment_page"] = paginate(
            request, board.recruitment_rows, per_page=RECRUITMENT_PAGE, param="rpage"
        )
        # The heat map and the calibration table hold one page of child units (read as
        # such); the pager counts them all.
        counted = range(board.matrix.children_total or 0)
        context["heat_page"] = paginate(request, counted, per_page=HEAT_PAGE, param="upage")
    return render(request, "gaps/unit.html", context)


@login_required
def unit_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404
    _form, board, found = _read(request, code)
    if board is None:
        raise Http404
    stamp = timezone.localdate().isoformat()
    snapshot = board.filters.snapshot
    # A past period is named by its campaign, not by today's date.
    name = f"gaps-{found.code}-{snapshot.campaign.code if snapshot else stamp}"
    if fmt == "csv":
        return exports.csv_response(board, filename=f"{name}.csv")
    if fmt == "xlsx":
        return exports.xlsx_response(board, filename=f"{name}.xlsx")
    return exports.pdf_response(board, filename=f"{name}.pdf")
