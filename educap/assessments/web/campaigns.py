"""Campaign screens: list, create/edit, launch, close, remind, detail with progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from educap.assessments import selectors, services
from educap.assessments.models import Campaign, CampaignStatus
from educap.assessments.web.forms import LANGS, CampaignForm
from educap.core.pagination import paginate
from educap.core.web import add_errors_to_form
from educap.org.selectors import unit_get

TARGETS = ("target_units", "target_roles", "target_people")


def optional_url(name: str, *args: Any) -> str | None:
    """Links to screens other modules provide; absent ones are simply not shown."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _require_manager(request: HttpRequest) -> None:
    if not services.campaign_manage_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    campaigns = selectors.campaign_list(user=request.user, search=query, status=status)
    return render(
        request,
        "assessments/campaign_list.html",
        {
            "page_obj": paginate(request, campaigns),
            "query": query,
            "status": status,
            "statuses": CampaignStatus.choices,
            "can_manage": services.campaign_manage_allowed(user=request.user),  # type: ignore[arg-type]
        },
    )


def _form_page(request: HttpRequest, form: CampaignForm, campaign: Campaign | None) -> HttpResponse:
    return render(
        request,
        "assessments/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "langs": LANGS,
            # One picker per chosen unit plus two empty ones to add more.
            "unit_pickers": [
                (f"id_target_units_{i}", code)
                for i, code in enumerate([*form.unit_codes(), "", ""])
            ],
        },
    )


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    defaults = {f: Campaign._meta.get_field(f).default for f in CampaignForm.base_fields}
    initial = {k: v for k, v in defaults.items() if not callable(v) and v is not None}
    initial.pop("code", None)
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            campaign = services.campaign_create(
                actor=request.user,  # type: ignore[arg-type]
                target_units=data.pop("target_units"),
                target_roles=data.pop("target_roles"),
                target_people=data.pop("target_people"),
                **data,
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Campaign %(code)s created.") % {"code": campaign.code})
            return redirect("assessments:campaign_detail", code=campaign.code)
    return _form_page(request, form, None)


@login_required
def campaign_edit(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    campaign = selectors.campaign_get(user=request.user, code=code)
    if campaign.status == CampaignStatus.CLOSED:
        messages.info(request, _("A closed campaign cannot be changed."))
        return redirect("assessments:campaign_detail", code=campaign.code)
    form = CampaignForm(
        request.POST or None, initial=CampaignForm.initial_for(campaign), campaign=campaign
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        targets = {k: data.pop(k) for k in TARGETS if k in data}
        try:
            services.campaign_update(
                actor=request.user,  # type: ignore[arg-type]
                campaign=campaign,
                **targets,
                **data,
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("assessments:campaign_detail", code=campaign.code)
    return _form_page(request, form, campaign)


@login_required
def campaign_launch(request: HttpRequest, code: str) -> HttpResponse:
    """A confirmation page saying what will happen; the launch result afterwards."""
    _require_manager(request)
    campaign = selectors.campaign_get(user=request.user, code=code)
    if campaign.status != CampaignStatus.DRAFT:
        messages.info(request, _("This campaign is already launched."))
        return redirect("assessments:campaign_detail", code=campaign.code)
    result, error = None, None
    if request.method == "POST":
        try:
            result = services.campaign_launch(actor=request.user, campaign=campaign)  # type: ignore[arg-type]
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "assessments/campaign_launch.html",
        {
            "campaign": campaign,
            "result": result,
            "error": error,
            "preview": None if result else selectors.launch_preview(campaign=campaign),
        },
    )


@login_required
@require_POST
def campaign_close(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    campaign = selectors.campaign_get(user=request.user, code=code)
    try:
        services.campaign_close(actor=request.user, campaign=campaign)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Campaign %(code)s is closed.") % {"code": campaign.code})
    return redirect("assessments:campaign_detail", code=campaign.code)


@login_required
@require_POST
def campaign_remind(request: HttpRequest, code: str) -> HttpResponse:
    _require_manager(request)
    campaign = selectors.campaign_get(user=request.user, code=code)
    unit_code = request.POST.get("unit", "")
    unit = unit_get(code=unit_code) if unit_code else None
    try:
        sent = services.campaign_remind(
            actor=request.user,  # type: ignore[arg-type]
            campaign=campaign,
            unit_path=unit.path if unit else "",
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)s reminders sent.") % {"count": sent})
    target = reverse("assessments:campaign_detail", args=[campaign.code])
    return redirect(f"{target}?unit={unit.code}" if unit else target)


@login_required
def campaign_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The campaign and its progress dashboard, drilling down one unit level at a time."""
    campaign = selectors.campaign_get(user=request.user, code=code)
    unit_code = request.GET.get("unit", "")
    unit = (
        unit_get(code=unit_code) if unit_code else selectors.progress_start_unit(user=request.user)
    )
    can_manage = services.campaign_manage_allowed(user=request.user)  # type: ignore[arg-type]
    allowed = selectors.progress_allowed(user=request.user, unit=unit)
    if unit_code and not allowed:
        raise PermissionDenied
    progress = None
    if allowed and campaign.status != CampaignStatus.DRAFT:
        progress = selectors.campaign_progress(user=request.user, campaign=campaign, unit=unit)
    start = None if can_manage else selectors.progress_start_unit(user=request.user)
    ancestors = [
        a
        for a in (unit.ancestors() if unit else [])
        if start is None or a.path.startswith(start.path)
    ]
    return render(
        request,
        "assessments/campaign_detail.html",
        {
            "campaign": campaign,
            "unit": unit,
            "ancestors": ancestors,
            "total": progress[0] if progress else None,
            "rows": progress[1] if progress else [],
            "can_manage": can_manage,
            "xlsform_url": optional_url("assessments:xlsform", campaign.code),
            "upload_url": optional_url("assessments:submissions_upload", campaign.code),
            "survey_results_url": optional_url("assessments:survey_results", campaign.code)
            if campaign.collect_survey
            else None,
        },
    )


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/<str:code>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<str:code>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<str:code>/launch/", campaign_launch, name="campaign_launch"),
    path("campaigns/<str:code>/close/", campaign_close, name="campaign_close"),
    path("campaigns/<str:code>/remind/", campaign_remind, name="campaign_remind"),
]
