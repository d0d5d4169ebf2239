"""CPD pages: my CPD (progress, records, submit, withdraw), a person's CPD for their
managers, approvals for supervisors, the unit compliance dashboard with its CSV export,
and the requirements per role and year. Thin: selectors read, services write."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate, query_without_page
from educap.core.web import add_errors_to_form
from educap.org.io.units_csv import protect_cell
from educap.org.selectors import unit_get
from educap.people.models import Person
from educap.people.selectors import person_get
from educap.training.models import CpdRequirement
from educap.training.selectors import cpd as selectors
from educap.training.services import cpd as services
from educap.training.web.cpd_forms import (
    ApprovalFilterForm,
    ComplianceFilterForm,
    CpdDecisionForm,
    CpdRecordFilterForm,
    CpdRequirementForm,
    CpdSubmitForm,
    RequirementFilterForm,
    StaffProgressFilterForm,
    chosen_year,
)

RECORDS_PAGE = 20
QUEUE_PAGE = 20
STAFF_PAGE = 25
REQUIREMENTS_PAGE = 50


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (same site only), else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


# --- my CPD and a person's CPD ---------------------------------------------------------


def _person_page(request: HttpRequest, person: Person, *, own: bool) -> HttpResponse:
    form = CpdRecordFilterForm.from_query(request.GET)
    year = chosen_year(form)
    progress = selectors.cpd_progress(user=request.user, person=person, year=year)
    records = selectors.cpd_record_list(
        user=request.user, person=person, year=year, **form.filters()
    )
    return render(
        request,
        "training/cpd_mine.html",
        {
            "person": person,
            "own": own,
            "form": form,
            "year": year,
            "progress": progress,
            "page_obj": paginate(request, records, per_page=RECORDS_PAGE),
            "filtered": bool(
                form.is_valid() and (form.cleaned_data.get("status") or form.cleaned_data.get("q"))
            ),
        },
    )


@login_required
def cpd_mine(request: HttpRequest) -> HttpResponse:
    person_id = scope_for(request.user).person_id
    if person_id is None:
        return render(request, "training/cpd_mine.html", {"person": None, "own": True})
    person = person_get(user=request.user, pk=person_id)
    return _person_page(request, person, own=True)


@login_required
def cpd_person(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_get(user=request.user, pk=pk)
    if person.pk == scope_for(request.user).person_id:
        return redirect("training:cpd_mine")
    return _person_page(request, person, own=False)


@login_required
def cpd_submit(request: HttpRequest) -> HttpResponse:
    if scope_for(request.user).person_id is None:
        raise PermissionDenied(services.CpdErrorCode.NO_STAFF_RECORD)
    form = CpdSubmitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.cpd_submit(
                actor=request.user,  # type: ignore[arg-type]
                kind=data["kind"],
                title=data["title"],
                provider=data["provider"],
                completed_on=data["completed_on"],
                hours=data["hours"],
                credits=data["credits"],
                evidence=data["evidence"],
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                _("“%(title)s” is recorded and awaits your supervisor's approval.")
                % {"title": record.title},
            )
            return redirect(f"{reverse('training:cpd_mine')}?year={record.completed_on.year}")
    return render(
        request,
        "training/cpd_submit.html",
        {"form": form, "max_upload_mb": services.evidence_max_bytes() // (1024 * 1024)},
    )


@login_required
@require_POST
def cpd_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.cpd_record_get(user=request.user, pk=pk)
    try:
        services.cpd_withdraw(actor=request.user, record=record)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("“%(title)s” is withdrawn.") % {"title": record.title})
    return _back(request, reverse("training:cpd_mine"))


@login_required
def cpd_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The evidence file, to the person, their supervisor and managers over them only."""
    record = selectors.cpd_record_get(user=request.user, pk=pk)
    if not record.evidence:
        raise Http404
    if not selectors.cpd_evidence_allowed(user=request.user, record=record):
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
    kind = services.evidence_type_of(record.evidence.name)
    try:
        handle = record.evidence.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"cpd-evidence-{record.pk}{kind.extension}",
        content_type=kind.content_type,
    )


# --- approvals -------------------------------------------------------------------------


@login_required
def cpd_approvals(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.is_supervisor or scope.subtree_paths):
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
    form = ApprovalFilterForm(request.GET or None)
    queue = selectors.cpd_approval_queue(user=request.user, **form.filters())
    return render(
        request,
        "training/cpd_approvals.html",
        {
            "form": form,
            "page_obj": paginate(request, queue, per_page=QUEUE_PAGE),
            "filtered": bool(request.GET.get("q") or request.GET.get("kind")),
        },
    )


@login_required
@require_POST
def cpd_decide(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.cpd_record_get(user=request.user, pk=pk)
    form = CpdDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or reject."))
        return _back(request, reverse("training:cpd_approvals"))
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.cpd_decide(
            actor=request.user,  # type: ignore[arg-type]
            record=record,
            approve=approve,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = (
            _("Approved: “%(title)s” of %(name)s.")
            if approve
            else _("Rejected: “%(title)s” of %(name)s.")
        )
        messages.success(request, text % {"title": record.title, "name": record.person.full_name})
    return _back(request, reverse("training:cpd_approvals"))


# --- unit compliance -------------------------------------------------------------------


@login_required
def cpd_compliance(request: HttpRequest) -> HttpResponse:
    unit = selectors.cpd_start_unit(user=request.user)
    if unit is None:
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
    url = reverse("training:cpd_compliance_unit", args=[unit.code])
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


def _compliance_read(
    request: HttpRequest, code: str
) -> tuple[ComplianceFilterForm, selectors.UnitCompliance]:
    unit = unit_get(code=code)
    if not selectors.compliance_visible(user=request.user, unit=unit):
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
    form = ComplianceFilterForm(request.GET or None)
    if not form.is_bound:
        form.initial = {"year": timezone.localdate().year}
    board = selectors.unit_compliance(user=request.user, unit=unit, **form.filters())
    return form, board


def _filter_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    for name in ("page", "q", "state"):
        params.pop(name, None)
    return params.urlencode()


@login_required
def cpd_compliance_unit(request: HttpRequest, code: str) -> HttpResponse:
    form, board = _compliance_read(request, code)
    scope = scope_for(request.user)
    context: dict[str, Any] = {
        "unit": board.unit,
        "ancestors": [a for a in board.unit.ancestors() if scope.can_see_aggregates_of(a)],
        "form": form,
        "board": board,
        "query": _filter_query(request),
        "staff_form": None,
    }
    if not board.suppressed:
        staff_form = StaffProgressFilterForm(request.GET or None)
        filters = form.filters()
        people = selectors.cpd_staff_progress(
            user=request.user, unit=board.unit, **filters, **staff_form.filters()
        )
        context["staff_form"] = staff_form
        context["page_obj"] = paginate(request, people, per_page=STAFF_PAGE)
        context["staff_filtered"] = bool(request.GET.get("q") or request.GET.get("state"))
    return render(request, "training/cpd_compliance.html", context)


CSV_COLUMNS = (
    "year",
    "unit_code",
    "unit",
    "level",
    "row",
    "staff_with_requirement",
    "compliant",
    "share_compliant",
    "approved_hours",
    "approved_credits",
)


@login_required
def cpd_compliance_csv(request: HttpRequest, code: str) -> HttpResponse:
    _form, board = _compliance_read(request, code)
    hidden = f"<{board.threshold}"
    rows: list[tuple[Any, str]] = [(board.unit, "total")]
    if board.own.staff:
        rows.append((board.unit, "own_staff"))
    rows += [(child, "child") for child, _cell in board.children]
    cells = [
        board.total,
        *([board.own] if board.own.staff else []),
        *(c for _u, c in board.children),
    ]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="cpd-compliance-{board.unit.code}-{board.year}-{stamp}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for (unit, kind), cell in zip(rows, cells, strict=True):
        start = [
            board.year,
            protect_cell(unit.code),
            protect_cell(str(unit.name)),
            protect_cell(str(unit.level.name)),
            kind,
        ]
        if cell.suppressed:
            writer.writerow([*start, hidden, hidden, "", "", ""])
            continue
        share = cell.share
        writer.writerow(
            [
                *start,
                cell.staff,
                cell.compliant,
                "" if share is None else round(share, 4),
                cell.hours,
                cell.credits,
            ]
        )
    return response


# --- requirements ----------------------------------------------------------------------


@login_required
def cpd_requirements(request: HttpRequest) -> HttpResponse:
    can_edit = services.cpd_requirements_manage_allowed(user=request.user)
    filters = RequirementFilterForm(request.GET or None)
    year = chosen_year(filters)
    form = CpdRequirementForm(request.POST or None, initial={"year": year})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
        if form.is_valid():
            data = form.cleaned_data
            try:
                requirement = services.cpd_requirement_set(
                    actor=request.user,  # type: ignore[arg-type]
                    role=data["role"],
                    year=data["year"],
                    hours=data["hours"],
                    credits=data["credits"],
                )
            except ValidationError as exc:
                add_errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Requirement saved for %(role)s in %(year)s.")
                    % {"role": requirement.role.name, "year": requirement.year},
                )
                return _back(request, reverse("training:cpd_requirements"))
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return _back(request, reverse("training:cpd_requirements"))
    search = filters.cleaned_data.get("q", "") if filters.is_valid() else ""
    rows = selectors.cpd_requirement_rows(year=year, search=search)
    return render(
        request,
        "training/cpd_requirements.html",
        {
            "filters": filters,
            "year": year,
            "can_edit": can_edit,
            "page_obj": paginate(request, rows, per_page=REQUIREMENTS_PAGE),
            "query": query_without_page(request),
        },
    )


@login_required
@require_POST
def cpd_requirement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.cpd_requirements_manage_allowed(user=request.user):
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
    requirement = get_object_or_404(CpdRequirement.objects.select_related("role"), pk=pk)
    services.cpd_requirement_delete(actor=request.user, requirement=requirement)  # type: ignore[arg-type]
    messages.success(
        request,
        _("Requirement removed for %(role)s in %(year)s.")
        % {"role": requirement.role.name, "year": requirement.year},
    )
    return _back(request, reverse("training:cpd_requirements"))
