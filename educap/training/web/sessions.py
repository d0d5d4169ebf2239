"""Session screens: list, calendar, create/edit, the session page with its enrolment
actions, bulk enrolment from the training needs, the phone attendance screen, the sign-in
sheet PDF, completion, and "My training"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate
from educap.core.pdf import render_pdf
from educap.core.web import add_errors_to_form
from educap.frameworks.models import FrameworkItem
from educap.gaps.selectors import start_unit
from educap.people.models import Person
from educap.training.models import (
    Course,
    Enrolment,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
)
from educap.training.models.sessions import TrainingSession
from educap.training.selectors import sessions as selectors
from educap.training.services import sessions as services
from educap.training.services.sessions import LIVE, TRANSITIONS, EnrolmentResult
from educap.training.web.sessions_forms import (
    BulkEnrolForm,
    CompleteForm,
    NominateForm,
    ScheduleFormSet,
    SessionFilterForm,
    SessionForm,
)


def optional_url(name: str, *args: Any) -> str | None:
    """Links to screens other modules provide; absent ones are simply not shown."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(default)


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _can_organise(request: HttpRequest) -> bool:
    scope = scope_for(request.user)
    return scope.is_admin or bool(scope.subtree_paths)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _manage(request: HttpRequest, session: TrainingSession) -> bool:
    return services.session_manage_allowed(actor=request.user, session=session)  # type: ignore[arg-type]


def _run(request: HttpRequest, session: TrainingSession) -> bool:
    return services.session_run_allowed(actor=request.user, session=session)  # type: ignore[arg-type]


# --- list and calendar -----------------------------------------------------------------


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    form = SessionFilterForm(request.GET)
    filters = form.filters()
    sessions = selectors.session_list(user=request.user, **filters).order_by("-starts_on", "code")
    return render(
        request,
        "training/session_list.html",
        {
            "form": form,
            "page_obj": paginate(request, sessions),
            "filtered": any(filters.values()),
            "can_create": _can_organise(request),
            "statuses": SessionStatus.choices,
        },
    )


def _first_weekday() -> int:
    value = get_format("FIRST_DAY_OF_WEEK")
    return int(value) if str(value).isdigit() else 0


@login_required
def session_calendar(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    month = selectors.parse_month(request.GET.get("month", "")) or today.replace(day=1)
    code = request.GET.get("unit", "").strip()
    unit = None
    if code:
        from educap.org.selectors import unit_get

        unit = unit_get(code=code)
    elif "unit" not in request.GET:
        unit = start_unit(user=request.user)
    board = selectors.session_calendar(
        user=request.user, unit=unit, month=month, first_weekday=_first_weekday()
    )
    return render(
        request,
        "training/session_calendar.html",
        {"board": board, "unit": unit, "today": today, "can_create": _can_organise(request)},
    )


# --- create and edit -------------------------------------------------------------------


def _form_page(
    request: HttpRequest, form: SessionForm, session: TrainingSession | None, item: Any = None
) -> HttpResponse:
    unit = form["unit"].value()
    return render(
        request,
        "training/session_form.html",
        {
            "form": form,
            "session": session,
            "item": item,
            "unit_code": getattr(unit, "code", unit) or "",
        },
    )


def _need_item(request: HttpRequest) -> FrameworkItem | None:
    raw = request.GET.get("item") or request.POST.get("item") or ""
    return FrameworkItem.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


@login_required
def session_create(request: HttpRequest) -> HttpResponse:
    """A new session, from scratch, from a course page (?course=) or from a training need
    of a unit (?unit=&item=), in which case the next step is the bulk enrolment."""
    _require(_can_organise(request))
    item = _need_item(request)
    initial: dict[str, Any] = {"requires_approval": True, "capacity": 25}
    if request.GET.get("course"):
        from educap.training.models import Course

        initial["course"] = Course.objects.filter(code=request.GET["course"]).first()
    unit = request.GET.get("unit") or getattr(start_unit(user=request.user), "code", "")
    initial["unit"] = unit
    form = SessionForm(request.POST or None, initial=initial, item_id=item.pk if item else None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                actor=request.user,  # type: ignore[arg-type]
                code=form.cleaned_data["code"],
                **form.service_fields(),
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Session %(code)s created.") % {"code": session.code})
            if item is not None:
                query = urlencode({"unit": session.unit.code, "item": item.pk})
                return redirect(
                    f"{reverse('training:session_bulk_enrol', args=[session.code])}?{query}"
                )
            return redirect("training:session_detail", code=session.code)
    return _form_page(request, form, None, item)


@login_required
def session_edit(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    _require(_manage(request, session))
    if session.status == SessionStatus.CANCELLED:
        messages.info(request, _("A cancelled session cannot be changed."))
        return redirect("training:session_detail", code=session.code)
    form = SessionForm(
        request.POST or None, initial=SessionForm.initial_for(session), session=session
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        facilitators = data.pop("facilitators", None)
        try:
            services.session_update(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                facilitators=facilitators,
                **data,
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("training:session_detail", code=session.code)
    return _form_page(request, form, session)


@login_required
def session_schedule(request: HttpRequest, code: str) -> HttpResponse:
    """The day-by-day schedule: times and topic per day; untick a day to drop it."""
    session = selectors.session_get(user=request.user, code=code)
    _require(_manage(request, session))
    days = selectors.session_days(session=session)
    initial = [
        {"date": d.date, "starts_at": d.starts_at, "ends_at": d.ends_at, "topic": d.topic,
         "keep": True}
        for d in days
    ]  # fmt: skip
    formset = ScheduleFormSet(request.POST or None, initial=initial, prefix="day")
    error = None
    if request.method == "POST" and formset.is_valid():
        wanted = [d for d in (f.day() for f in formset.forms) if d is not None]
        try:
            services.session_schedule_set(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                days=wanted,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Schedule saved."))
            return redirect("training:session_detail", code=session.code)
    return render(
        request,
        "training/session_schedule.html",
        {"session": session, "formset": formset, "error": error},
    )


# --- the session page ------------------------------------------------------------------


@dataclass
class EnrolmentRow:
    enrolment: Enrolment
    can_decide: bool = False
    can_withdraw: bool = False
    conflicts: list[Enrolment] = field(default_factory=list)
    # Prerequisite courses the person has not completed.
    missing: list[Course] = field(default_factory=list)


def _rows(
    request: HttpRequest,
    rows: list[Enrolment],
    conflicts: dict[int, list[Enrolment]],
    run: bool,
    missing: dict[int, list[Course]] | None = None,
) -> list[EnrolmentRow]:
    """The enrolments the user may see, each with what the user may do to it."""
    scope = scope_for(request.user)
    out = []
    for e in rows:
        if not (run or scope.can_read_person(e.person)):
            continue
        out.append(
            EnrolmentRow(
                e,
                can_decide=e.status == EnrolmentStatus.REQUESTED
                and services.enrolment_decide_allowed(actor=request.user, person=e.person),  # type: ignore[arg-type]
                can_withdraw=e.status in LIVE
                and services.enrolment_withdraw_allowed(actor=request.user, enrolment=e),  # type: ignore[arg-type]
                conflicts=conflicts.get(e.person_id, []),
                missing=(missing or {}).get(e.person_id, []),
            )
        )
    return out


def _team(request: HttpRequest, session: TrainingSession) -> Any:
    """A supervisor's active direct reports not yet in the session, for the nominate form."""
    person_id = scope_for(request.user).person_id
    if person_id is None or not scope_for(request.user).is_supervisor:
        return None
    taken = Enrolment.objects.filter(session=session).exclude(
        status__in=(EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED)
    )
    return (
        Person.objects.filter(supervisor_id=person_id, is_active=True)
        .exclude(pk__in=taken.values("person_id"))
        .order_by("family_name", "given_name")
    )


def _may_nominate(request: HttpRequest, session: TrainingSession, manage: bool) -> bool:
    if session.status not in services.ENROLLING:
        return False
    if manage:
        return True
    return scope_for(request.user).is_supervisor and session.status == SessionStatus.OPEN


@login_required
def session_detail(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    manage, run = _manage(request, session), _run(request, session)
    people = selectors.session_people(session=session)
    conflicts = selectors.session_conflicts(session=session, person_ids=people.live_person_ids)
    missing = selectors.missing_prerequisites(session=session, person_ids=people.live_person_ids)
    person = selectors.person_of(user=request.user)
    mine = next(
        (
            e
            for e in (*people.seated, *people.waitlist, *people.requests, *people.left)
            if person is not None and e.person_id == person.pk
        ),
        None,
    )
    can_request = (
        person is not None
        and session.status == SessionStatus.OPEN
        and (mine is None or mine.status in (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED))
        and services.session_open_to(session=session, person=person)
    )
    team = _team(request, session)
    may_nominate = _may_nominate(request, session, manage)
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "days": selectors.session_days(session=session),
            "facilitators": list(session.facilitators.order_by("family_name", "given_name")),
            "seated": _rows(request, people.seated, conflicts, run, missing),
            "waitlist": _rows(request, people.waitlist, conflicts, run, missing),
            "requests": _rows(request, people.requests, conflicts, run, missing),
            "left": _rows(request, people.left, {}, run) if run else [],
            "mine": mine,
            "my_conflicts": conflicts.get(mine.person_id, []) if mine else [],
            # Before enrolling, a learner sees what the course expects them to have done.
            "my_missing": (
                selectors.missing_prerequisites(session=session, person_ids=[person.pk]).get(
                    person.pk, []
                )
                if person is not None
                else []
            ),
            "can_request": can_request,
            "manage": manage,
            "run": run,
            "nominate_form": NominateForm(team=team) if may_nominate else None,
            "transitions": [
                (s, SessionStatus(s).label)
                for s in TRANSITIONS.get(session.status, ())
                if manage or (run and s == SessionStatus.RUNNING)
            ],
            "course_url": optional_url("training:course_detail", session.course.code),
            "unit_tna_url": optional_url("gaps:unit", session.unit.code),
        },
    )


@login_required
@require_POST
def session_status(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    target = request.POST.get("status", "")
    try:
        services.session_transition(
            actor=request.user,  # type: ignore[arg-type]
            session=session,
            status=target,
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("Session %(code)s is now %(status)s.")
            % {"code": session.code, "status": SessionStatus(target).label},
        )
    return redirect("training:session_detail", code=session.code)


def _conflict_warning(request: HttpRequest, result: EnrolmentResult) -> None:
    if result.conflicts:
        names = sorted({rows[0].person.full_name for rows in result.conflicts.values()})
        messages.warning(
            request,
            ngettext(
                "%(count)s person is also enrolled in another session at the same time: %(names)s.",
                "%(count)s people are also enrolled in another session at the same time: "
                "%(names)s.",
                len(names),
            )
            % {"count": len(names), "names": ", ".join(names[:10])},
        )


def _result_message(request: HttpRequest, result: EnrolmentResult) -> None:
    messages.success(
        request,
        _("%(enrolled)s enrolled, %(waitlisted)s on the waitlist, %(skipped)s already enrolled.")
        % {
            "enrolled": len(result.enrolled),
            "waitlisted": len(result.waitlisted),
            "skipped": len(result.skipped),
        },
    )
    _conflict_warning(request, result)


@login_required
@require_POST
def session_enrol(request: HttpRequest, code: str) -> HttpResponse:
    """Ask for a place (self-enrolment)."""
    session = selectors.session_get(user=request.user, code=code)
    person = selectors.person_of(user=request.user)
    if person is None:
        raise PermissionDenied
    try:
        enrolment = services.enrolment_request(
            actor=request.user,  # type: ignore[arg-type]
            session=session,
            person=person,
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        if enrolment.status == EnrolmentStatus.REQUESTED:
            messages.success(request, _("Request sent to your supervisor for approval."))
        elif enrolment.status == EnrolmentStatus.ENROLLED:
            messages.success(request, _("You are enrolled."))
        else:
            messages.info(request, _("The session is full: you are on the waitlist."))
        conflicts = services.enrolment_conflicts(person=person, session=session)
        if conflicts:
            messages.warning(
                request,
                _("You are also enrolled in %(sessions)s at the same time.")
                % {"sessions": ", ".join(e.session.code for e in conflicts)},
            )
    return _back(request, reverse("training:session_detail", args=[session.code]))


@login_required
@require_POST
def session_nominate(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    form = NominateForm(request.POST, team=_team(request, session))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("training:session_detail", code=session.code)
    try:
        result = services.enrolment_nominate(
            actor=request.user,  # type: ignore[arg-type]
            session=session,
            people=form.chosen(),
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        _result_message(request, result)
    return redirect("training:session_detail", code=session.code)


def _enrolment(request: HttpRequest, pk: int) -> Enrolment:
    """An enrolment the user may see (through its session or its person)."""
    enrolment = (
        selectors.enrolment_list(user=request.user)
        .select_related("session", "session__unit", "person__unit")
        .filter(pk=pk)
        .first()
    )
    if enrolment is None:
        raise Http404
    return enrolment


@login_required
@require_POST
def session_enrolment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    approve = request.POST.get("decision") == "approve"
    try:
        decided = services.enrolment_decide(
            actor=request.user,  # type: ignore[arg-type]
            enrolment=enrolment,
            approve=approve,
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        name = enrolment.person.full_name
        if not approve:
            messages.success(request, _("Request of %(name)s rejected.") % {"name": name})
        elif decided.status == EnrolmentStatus.ENROLLED:
            messages.success(request, _("%(name)s is enrolled.") % {"name": name})
        else:
            messages.info(
                request, _("%(name)s is on the waitlist (no seat free).") % {"name": name}
            )
    return _back(request, reverse("training:session_detail", args=[enrolment.session.code]))


@login_required
@require_POST
def session_enrolment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    try:
        services.enrolment_withdraw(actor=request.user, enrolment=enrolment)  # type: ignore[arg-type]
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(name)s withdrawn.") % {"name": enrolment.person.full_name})
    return _back(request, reverse("training:session_detail", args=[enrolment.session.code]))


# --- bulk enrolment from the training needs --------------------------------------------


@login_required
def session_bulk_enrol(request: HttpRequest, code: str) -> HttpResponse:
    """Pick a unit and one of its competency needs (with role and sex filters), preview the
    people below requirement and the counts, then confirm."""
    session = selectors.session_get(user=request.user, code=code)
    _require(_manage(request, session))
    data = request.POST if request.method == "POST" else request.GET
    raw_unit = data.get("unit") or session.unit.code
    unit_form = BulkEnrolForm({"unit": raw_unit}, items=[])
    unit = unit_form.fields["unit"].clean(raw_unit) if raw_unit else None
    if unit is not None and not scope_for(request.user).can_manage_unit(unit):
        unit = None
    options = (
        selectors.need_options(user=request.user, unit=unit, course=session.course) if unit else []
    )
    wanted = _need_item(request)
    if wanted is not None and wanted.pk not in {o.item.pk for o in options}:
        options.append(selectors.NeedOption(wanted, None, False))
    choices = [(o.item.pk, f"{o.item.code} — {o.item.statement}") for o in options]
    bound = {**data.dict(), "unit": raw_unit}
    if "item" not in bound and options:
        bound["item"] = str(options[0].item.pk)
    form = BulkEnrolForm(bound, items=choices)
    preview = None
    if unit is None:
        form.is_valid()
        form.add_error("unit", _("Choose a unit you manage."))
    elif form.is_valid():
        item = FrameworkItem.objects.get(pk=form.cleaned_data["item"])
        filters = {"role": form.cleaned_data["role"], "sex": form.cleaned_data["sex"]}
        if request.method == "POST":
            try:
                result = services.enrolment_bulk_from_needs(
                    actor=request.user,  # type: ignore[arg-type]
                    session=session,
                    unit=unit,
                    item=item,
                    **filters,
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                _result_message(request, result)
                return redirect("training:session_detail", code=session.code)
        preview = selectors.needs_preview(
            user=request.user, session=session, unit=unit, item=item, **filters
        )
    return render(
        request,
        "training/session_bulk_enrol.html",
        {
            "session": session,
            "form": form,
            "unit": unit,
            "unit_code": raw_unit,
            "options": options,
            "preview": preview,
            "page_obj": paginate(request, preview.people, per_page=50) if preview else None,
        },
    )


# --- attendance ------------------------------------------------------------------------


@dataclass
class AttendanceEntry:
    enrolment: Enrolment
    present: bool | None


def _attendance_context(
    request: HttpRequest, session: TrainingSession, wanted: str
) -> dict[str, Any]:
    grid = selectors.attendance_grid(session=session)
    day = selectors.attendance_day_pick(days=grid.days, wanted=wanted)
    entries = [
        AttendanceEntry(row.enrolment, row.marks.get(day.pk) if day else None) for row in grid.rows
    ]
    index = grid.days.index(day) if day else 0
    return {
        "session": session,
        "days": grid.days,
        "day": day,
        "entries": entries,
        "previous_day": grid.days[index - 1] if day and index > 0 else None,
        "next_day": grid.days[index + 1] if day and index + 1 < len(grid.days) else None,
        "present": sum(1 for e in entries if e.present),
        "unmarked": sum(1 for e in entries if e.present is None),
        "can_mark": session.status == SessionStatus.RUNNING and day is not None,
    }


@login_required
def session_attendance(request: HttpRequest, code: str) -> HttpResponse:
    """One day at a time, a big present/absent toggle per participant; each tap saves."""
    session = selectors.session_get(user=request.user, code=code)
    _require(_run(request, session))
    context = _attendance_context(request, session, request.GET.get("day", ""))
    return render(request, "training/session_attendance.html", context)


@login_required
@require_POST
def session_attendance_mark(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    _require(_run(request, session))
    day = SessionDay.objects.filter(session=session, date=request.POST.get("day", "")).first()
    if day is None:
        raise Http404
    if request.POST.get("all"):
        ids = list(
            Enrolment.objects.filter(session=session, status=EnrolmentStatus.ENROLLED).values_list(
                "pk", flat=True
            )
        )
        marks = dict.fromkeys(ids, True)
    else:
        raw = request.POST.get("enrolment", "")
        marks = {int(raw): request.POST.get("present") == "1"} if raw.isdigit() else {}
    error = None
    try:
        services.attendance_record(
            actor=request.user,  # type: ignore[arg-type]
            session=session,
            day=day,
            marks=marks,
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx and not request.POST.get("all"):  # type: ignore[attr-defined]
        context = _attendance_context(request, session, day.date.isoformat())
        entry = next((e for e in context["entries"] if e.enrolment.pk in marks), None)
        if entry is None:
            raise Http404
        return render(
            request,
            "training/partials/session_attendance_row.html",
            {**context, "entry": entry, "error": error, "oob": True},
        )
    if error:
        messages.error(request, error)
    target = reverse("training:session_attendance", args=[session.code])
    return redirect(f"{target}?day={day.date.isoformat()}")


def signin_pdf(session: TrainingSession, days: list[SessionDay], people: list[Enrolment]) -> bytes:
    """The printable sign-in sheet: one A4 page per day, a line to sign per participant.
    Rendered in the active language; Arabic sheets read right to left."""
    return render_pdf(
        "training/signin_sheet.html", {"session": session, "days": days, "people": people}
    )


@login_required
def session_signin_pdf(request: HttpRequest, code: str) -> HttpResponse:
    session = selectors.session_get(user=request.user, code=code)
    _require(_run(request, session))
    grid = selectors.attendance_grid(session=session)
    wanted = request.GET.get("day", "")
    days = [d for d in grid.days if d.date.isoformat() == wanted] or grid.days
    pdf = signin_pdf(session, days, [row.enrolment for row in grid.rows])
    response = HttpResponse(pdf, content_type="application/pdf")
    suffix = f"-{wanted}" if len(days) == 1 and wanted else ""
    response["Content-Disposition"] = f'inline; filename="sign-in-{session.code}{suffix}.pdf"'
    return response


# --- completion ------------------------------------------------------------------------


@dataclass
class CompletionRow:
    enrolment: Enrolment
    present: int
    percent: int
    score: Any


@login_required
def session_complete(request: HttpRequest, code: str) -> HttpResponse:
    """Attendance from the register, scores typed in; confirm to issue the certificates."""
    session = selectors.session_get(user=request.user, code=code)
    _require(_run(request, session))
    if session.status != SessionStatus.RUNNING:
        messages.info(request, _("Only a running session can be completed."))
        return redirect("training:session_detail", code=session.code)
    grid = selectors.attendance_grid(session=session)
    enrolled = [r for r in grid.rows if r.enrolment.status == EnrolmentStatus.ENROLLED]
    form = CompleteForm(
        request.POST or None,
        enrolments=[r.enrolment for r in enrolled],
        initial={
            "completed_on": min(session.ends_on, timezone.localdate()),
            "actual_cost": session.actual_cost or session.planned_cost,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = services.session_complete(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                scores=form.scores(),
                completed_on=form.cleaned_data["completed_on"],
                actual_cost=form.cleaned_data["actual_cost"],
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Session completed: %(completed)s completed and received a certificate, "
                    "%(failed)s did not complete."
                )
                % {"completed": len(result.completed), "failed": len(result.not_completed)},
            )
            return redirect("training:session_detail", code=session.code)
    days = len(grid.days)
    rows = [
        CompletionRow(
            r.enrolment,
            r.present,
            services.attendance_percent(r.present, days),
            form.score_field(r.enrolment),
        )
        for r in enrolled
    ]
    return render(
        request,
        "training/session_complete.html",
        {"session": session, "form": form, "rows": rows, "days": days},
    )


# --- my training -----------------------------------------------------------------------


@login_required
def my_training(request: HttpRequest) -> HttpResponse:
    """A staff member's enrolments, open sessions to ask for, and — for supervisors — the
    requests waiting for their decision; facilitators see the sessions they run."""
    scope = scope_for(request.user)
    person_id = scope.person_id
    facilitating = (
        selectors.session_list(user=request.user)
        .filter(
            pk__in=selectors.FacilitatorLink.objects.filter(person_id=person_id).values(
                "trainingsession_id"
            ),
            status__in=(SessionStatus.OPEN, SessionStatus.RUNNING),
        )
        .order_by("starts_on")
        if person_id is not None
        else TrainingSession.objects.none()
    )
    enrolments = list(selectors.my_enrolments(user=request.user)[:100])
    for enrolment in enrolments:
        certificate = getattr(enrolment, "certificate", None)
        enrolment.certificate_url = (  # type: ignore[attr-defined]
            optional_url("training:certificate_detail", certificate.pk) if certificate else None
        )
    return render(
        request,
        "training/session_mine.html",
        {
            "enrolments": enrolments,
            "open_sessions": list(selectors.open_sessions_for(user=request.user)[:30]),
            "approvals": list(selectors.pending_approvals(user=request.user)[:100]),
            "facilitating": list(facilitating),
            "has_person": person_id is not None,
        },
    )
