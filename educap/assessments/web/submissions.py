"""Offline assessments on the web: download the XLSForm, upload submissions (preview, confirm)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from educap.assessments import selectors
from educap.assessments.io.xlsform import XLSFormError
from educap.assessments.models import Campaign, CampaignStatus
from educap.assessments.services import campaign_manage_allowed
from educap.assessments.submissions import (
    ImportResult,
    campaign_xlsform,
    rejection_report_text,
    submissions_import,
)
from educap.core.uploads import StagedUpload, stage_upload, staged_upload
from educap.org.models import OrgUnit

SALT = "educap.assessments.submissions"  # namespaces the signature, not a secret
SHOWN_PROBLEMS = 200


class SubmissionUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Export file (CSV or XLSX)"),
        help_text=gettext_lazy(
            "An ODK Central CSV export, or a KoboToolbox export (XLSX or CSV) with XML values."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > settings.EDUCAP_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": settings.EDUCAP_MAX_UPLOAD_MB}
            )
        return upload


def _manager_campaign(request: HttpRequest, code: str) -> Campaign:
    if not campaign_manage_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return selectors.campaign_get(user=request.user, code=code)


@login_required
def xlsform_download(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _manager_campaign(request, code)
    if campaign.status == CampaignStatus.DRAFT:
        messages.error(request, _("Launch the campaign first: the form lists the people it rates."))
        return redirect("assessments:campaign_detail", code=campaign.code)
    unit = None
    if request.GET.get("unit"):
        unit = OrgUnit.objects.filter(code=request.GET["unit"]).first()
        if unit is None:
            raise Http404
    try:
        data = campaign_xlsform(user=request.user, campaign=campaign, unit=unit)  # type: ignore[arg-type]
    except XLSFormError as exc:
        messages.error(request, str(exc))
        return redirect("assessments:campaign_detail", code=campaign.code)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    suffix = f"-{unit.code}" if unit else ""
    response["Content-Disposition"] = f'attachment; filename="{campaign.code}{suffix}.xlsx"'
    return response


def _check(
    request: HttpRequest, campaign: Campaign, staged: StagedUpload, **kw: Any
) -> ImportResult:
    return submissions_import(
        actor=request.user,  # type: ignore[arg-type]
        campaign=campaign,
        source=staged.path,
        file_name=staged.name,
        **kw,
    )


@login_required
def submissions_upload(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _manager_campaign(request, code)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, campaign)
    form = SubmissionUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        "campaign": campaign,
        "form": form,
        "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB,
        "is_draft": campaign.status == CampaignStatus.DRAFT,
    }
    if request.method == "POST" and form.is_valid() and not context["is_draft"]:
        upload = form.cleaned_data["file"]
        token = stage_upload(
            data=upload.read(), user_id=request.user.pk, salt=SALT, name=upload.name
        )
        staged = staged_upload(token=token, user_id=request.user.pk, salt=SALT)
        assert staged is not None
        result = _check(request, campaign, staged, dry_run=True)
        if result.new == 0 or result.file_problems:
            staged.discard()
            token = ""
        context.update(
            {
                "result": result,
                "token": token,
                "file_name": upload.name,
                "shown_problems": result.problems[:SHOWN_PROBLEMS],
                "hidden_problems": max(0, len(result.problems) - SHOWN_PROBLEMS),
            }
        )
    return render(request, "assessments/submissions_upload.html", context)


def _confirm(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    here = redirect("assessments:submissions_upload", code=campaign.code)
    staged = staged_upload(token=request.POST["token"], user_id=request.user.pk, salt=SALT)
    if staged is None:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return here
    action = request.POST.get("action")
    if action == "report":
        result = _check(request, campaign, staged, dry_run=True)
        response = HttpResponse(
            rejection_report_text(result), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{campaign.code}-rejected-submissions.csv"'
        )
        return response
    if action == "cancel":
        staged.discard()
        messages.info(request, _("Import cancelled. Nothing was changed."))
        return here
    claimed = staged.claim()
    if claimed is None:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return here
    try:
        result = _check(request, campaign, claimed, skip_invalid=action == "valid_only")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return here
    finally:
        claimed.discard()
    if not result.stored:
        messages.error(
            request, _("The file no longer imports cleanly. Nothing was changed; upload it again.")
        )
        return here
    messages.success(
        request,
        _(
            "%(file)s imported: %(new)s new submissions (%(ratings)s ratings), %(unchanged)s "
            "already imported, %(rejected)s rejected."
        )
        % {
            "file": claimed.name,
            "new": result.new,
            "ratings": result.ratings,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
        },
    )
    return here


urlpatterns = [
    path("campaigns/<str:code>/xlsform.xlsx", xlsform_download, name="xlsform"),
    path("campaigns/<str:code>/submissions/", submissions_upload, name="submissions_upload"),
]
