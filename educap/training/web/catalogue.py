"""The training catalogue on the web: list and course pages for every signed-in user; course
and programme forms, materials, import and export for catalogue managers. Thin: reads go
through selectors.catalogue, writes through services.catalogue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from educap.core.pagination import paginate
from educap.core.uploads import stage_upload
from educap.core.web import add_errors_to_form, claim_confirmed_upload
from educap.training.io import catalogue as catalogue_io
from educap.training.models import Course, CourseMaterial, Programme, TrainingSession
from educap.training.selectors.catalogue import (
    catalogue_export_courses,
    catalogue_filter_options,
    catalogue_records,
    course_detail,
    course_get,
    course_list,
    programme_get,
    programme_list,
)
from educap.training.services import catalogue as services
from educap.training.web.catalogue_forms import (
    LANGS,
    CatalogueImportForm,
    CompetencyFormSet,
    CourseFilterForm,
    CourseForm,
    MaterialForm,
    ModuleFormSet,
    ProgrammeForm,
    competency_choices,
    competency_targets,
    level_choices,
    module_inputs,
)

SALT = "educap.training.catalogue.import"  # namespaces the signature, not a secret
PAGE_SIZE = 24  # cards fill rows of 1, 2, 3 or 4
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEXT_FIELDS = tuple(f"{name}_{lang}" for name in ("title", "description") for lang, _n in LANGS)


def _can_manage(request: HttpRequest) -> bool:
    return services.catalogue_manage_allowed(user=request.user)  # type: ignore[arg-type]


def _require_manager(request: HttpRequest) -> None:
    if not _can_manage(request):
        raise PermissionDenied


def session_url(session: TrainingSession) -> str | None:
    """The session's page when the sessions screens provide one (by code, else by id)."""
    for args in ((session.code,), (session.pk,)):
        try:
            return reverse("training:session_detail", args=args)
        except NoReverseMatch:
            continue
    return None


# --- list and course page ----------------------------------------------------------------


@login_required
def course_list_view(request: HttpRequest) -> HttpResponse:
    can_manage = _can_manage(request)
    options = catalogue_filter_options(user=request.user)
    form = CourseFilterForm(request.GET, options=options, can_manage=can_manage)
    courses = course_list(user=request.user, **form.selector_filters())
    context = {
        "form": form,
        "page_obj": paginate(request, courses, per_page=PAGE_SIZE),
        "can_manage": can_manage,
        "programmes": options.programmes,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = (
        "training/partials/catalogue_results.html" if partial else "training/catalogue_list.html"
    )
    return render(request, template, context)


@login_required
def course_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    detail = course_detail(user=request.user, code=code)
    sessions = [(s, session_url(s)) for s in detail.upcoming_sessions]
    return render(
        request,
        "training/catalogue_course_detail.html",
        {
            "detail": detail,
            "course": detail.course,
            "sessions": sessions,
            "can_manage": _can_manage(request),
            "example_participants": 25,
            "example_cost": detail.course.cost_for(25),
            "material_form": MaterialForm(),
        },
    )


# --- course form -------------------------------------------------------------------------


def _course_initial(course: Course) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: getattr(course, name)
        for name in (
            "code",
            "track",
            "modality",
            "duration_hours",
            "cpd_credits",
            "provider_kind",
            "provider_name",
            "cost_per_cohort",
            "cost_per_participant",
            "min_attendance_percent",
            "pass_mark",
            "records_evidence",
            "is_active",
        )
    }
    initial.update({name: getattr(course, name) or "" for name in TEXT_FIELDS})
    initial["programme"] = course.programme.code if course.programme else None
    initial["target_roles"] = list(course.target_roles.all())
    initial["prerequisites"] = list(course.prerequisites.all())
    return initial


def _formsets(request: HttpRequest, course: Course | None) -> tuple[Any, Any]:
    data = request.POST if request.method == "POST" else None
    kwargs = {"item_choices": competency_choices(), "level_choices": level_choices()}
    competencies_initial = []
    modules_initial = []
    if course is not None:
        competencies_initial = [
            {"item": link.item_id, "level": link.level}
            for link in course.competencies.order_by("item__framework__code", "item__sequence")
        ]
        for module in course.modules.order_by("sequence", "pk"):
            row: dict[str, Any] = {
                "pk": module.pk,
                "duration_hours": module.duration_hours,
                "ORDER": module.sequence,
            }
            for lang, _n in LANGS:
                row[f"title_{lang}"] = getattr(module, f"title_{lang}") or ""
                row[f"description_{lang}"] = getattr(module, f"description_{lang}") or ""
            modules_initial.append(row)
    competencies = CompetencyFormSet(
        data, prefix="competencies", initial=competencies_initial, form_kwargs=kwargs
    )
    modules = ModuleFormSet(data, prefix="modules", initial=modules_initial)
    return competencies, modules


def _course_form_page(
    request: HttpRequest, course: Course | None, *, initial: dict[str, Any] | None = None
) -> HttpResponse:
    form = CourseForm(request.POST or None, course=course, initial=initial)
    competencies, modules = _formsets(request, course)
    list_errors: dict[str, list[str]] = {}
    if (
        request.method == "POST"
        and form.is_valid()
        and competencies.is_valid()
        and modules.is_valid()
    ):
        lists = {
            "target_roles": form.cleaned_data["target_roles"],
            "prerequisites": form.cleaned_data["prerequisites"],
            "competencies": competency_targets(competencies),
            "modules": module_inputs(modules),
        }
        try:
            if course is None:
                course = services.course_create(
                    actor=request.user,  # type: ignore[arg-type]
                    **lists,
                    **form.service_fields(),
                )
                messages.success(request, _("Course %(code)s created.") % {"code": course.code})
            else:
                course = services.course_update(
                    actor=request.user,  # type: ignore[arg-type]
                    course=course,
                    **lists,
                    **form.service_fields(),
                )
                messages.success(request, _("Changes saved."))
        except ValidationError as exc:
            list_errors = _show_errors(form, exc)
            if course is not None and course.pk:
                course.refresh_from_db()
        else:
            return redirect("training:course_detail", code=course.code)
    return render(
        request,
        "training/catalogue_course_form.html",
        {
            "form": form,
            "course": course if course is not None and course.pk else None,
            "competencies": competencies,
            "modules": modules,
            "competency_errors": list_errors.get("competencies", []),
            "module_errors": list_errors.get("modules", []),
            "langs": LANGS,
        },
    )


def _show_errors(form: CourseForm, exc: ValidationError) -> dict[str, list[str]]:
    """Put a service's errors on the form; those about the lists are returned for the
    competency and module tables."""
    if not hasattr(exc, "error_dict"):
        add_errors_to_form(form, exc)
        return {}
    errors = exc.message_dict
    lists = {name: errors.pop(name) for name in ("competencies", "modules") if name in errors}
    if errors:
        add_errors_to_form(form, ValidationError(errors))
    return lists


@login_required
def course_create_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    initial = {"is_active": True, "min_attendance_percent": 80}
    programme = request.GET.get("programme", "")
    if programme:
        initial["programme"] = programme
    return _course_form_page(request, None, initial=initial)


@login_required
def course_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    course = course_get(user=request.user, code=code)
    return _course_form_page(request, course, initial=_course_initial(course))


@login_required
@require_POST
def course_deactivate_view(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    course = course_get(user=request.user, code=code)
    services.course_deactivate(actor=request.user, course=course)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(code)s is no longer offered. Its sessions and records stay.") % {"code": course.code},
    )
    return redirect("training:course_detail", code=course.code)


# --- materials ---------------------------------------------------------------------------


@login_required
@require_POST
def course_material_add_view(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    course = course_get(user=request.user, code=code)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.course_material_add(
                actor=request.user,  # type: ignore[arg-type]
                course=course,
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
                url=form.cleaned_data["url"] or "",
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Material added."))
            return redirect(reverse("training:course_detail", args=[course.code]) + "#materials")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(reverse("training:course_detail", args=[course.code]) + "#materials")


@login_required
@require_POST
def course_material_remove_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _require_manager(request)
    course = course_get(user=request.user, code=code)
    material = get_object_or_404(CourseMaterial, pk=pk, course=course)
    services.course_material_remove(actor=request.user, material=material)  # type: ignore[arg-type]
    messages.success(request, _("Material removed."))
    return redirect(reverse("training:course_detail", args=[course.code]) + "#materials")


@login_required
def course_material_download_view(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """Material files are served to signed-in users as downloads, never shown inline."""
    course = course_get(user=request.user, code=code)
    material = get_object_or_404(CourseMaterial, pk=pk, course=course)
    if not material.file:
        raise Http404
    try:
        handle = material.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=material.file.name.rsplit("/", 1)[-1]
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- programmes --------------------------------------------------------------------------


@login_required
def programme_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "training/catalogue_programme_list.html",
        {"programmes": programme_list(user=request.user), "can_manage": _can_manage(request)},
    )


def _programme_form_page(request: HttpRequest, programme: Programme | None) -> HttpResponse:
    initial: dict[str, Any] = {"is_active": True}
    if programme is not None:
        initial = {"code": programme.code, "is_active": programme.is_active}
        initial.update({name: getattr(programme, name) or "" for name in TEXT_FIELDS})
    form = ProgrammeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if programme is None:
                programme = services.programme_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            else:
                programme = services.programme_update(
                    actor=request.user,  # type: ignore[arg-type]
                    programme=programme,
                    **form.cleaned_data,
                )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Programme %(code)s saved.") % {"code": programme.code})
            return redirect(reverse("training:course_list") + f"?programme={programme.code}")
    return render(
        request,
        "training/catalogue_programme_form.html",
        {"form": form, "programme": programme, "langs": LANGS},
    )


@login_required
def programme_create_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return _programme_form_page(request, None)


@login_required
def programme_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    return _programme_form_page(request, programme_get(user=request.user, code=code))


# --- import and export -------------------------------------------------------------------


def _plan(data: bytes, fmt: str) -> tuple[list[catalogue_io.Problem], services.CataloguePlan]:
    parsed = catalogue_io.parse(data, fmt)
    plan = services.catalogue_import_plan(records=parsed.records)
    problems = sorted([*parsed.problems, *plan.problems], key=lambda p: (p.row, p.column))
    return problems, plan


@login_required
def catalogue_import_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    form = CatalogueImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        problems, plan = _plan(data, catalogue_io.format_of(upload.name))
        context.update(
            {
                "problems": problems,
                "plan": plan,
                "file_name": upload.name,
                # What changes first; unchanged rows after.
                "rows": sorted(plan.courses, key=lambda c: c.change == "unchanged")[:500],
                "columns": catalogue_io.COLUMNS,
            }
        )
        if not problems and plan.courses:
            context["token"] = stage_upload(
                data=data, user_id=request.user.pk, salt=SALT, name=upload.name
            )
    return render(request, "training/catalogue_import.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    claimed = claim_confirmed_upload(
        request,
        salt=SALT,
        upload_again="training:catalogue_import",
        after_cancel="training:course_list",
    )
    if isinstance(claimed, HttpResponse):
        return claimed
    try:
        problems, plan = _plan(claimed.read(), catalogue_io.format_of(claimed.name))
        if problems:
            messages.error(request, _("The file no longer imports cleanly. Upload it again."))
            return redirect("training:catalogue_import")
        result = services.catalogue_import_apply(actor=request.user, plan=plan)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("training:catalogue_import")
    finally:
        claimed.discard()
    messages.success(
        request,
        _("Catalogue imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
        % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    return redirect("training:course_list")


@login_required
def catalogue_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """The catalogue as the import reads it (managers: inactive courses too)."""
    if fmt not in EXPORTS:
        raise Http404
    records = catalogue_records(courses=catalogue_export_courses(user=request.user))
    response = HttpResponse(catalogue_io.serialise(records, fmt), content_type=EXPORTS[fmt])
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="educap-catalogue-{stamp}.{fmt}"'
    return response
