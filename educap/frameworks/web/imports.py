"""Import a framework from CASE JSON, Moodle CSV or the XLSX template: upload, preview, confirm."""

from __future__ import annotations

import importlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from educap.core.uploads import stage_upload
from educap.core.web import claim_confirmed_upload
from educap.frameworks.importing import (
    framework_import_allowed,
    framework_import_apply,
    framework_import_plan,
)

SALT = "educap.frameworks.import"  # namespaces the signature, not a secret
FORMATS = {"case": "educap.frameworks.io.case", "moodle": "educap.frameworks.io.moodle_csv"}
FORMATS["xlsx"] = "educap.frameworks.io.xlsx"


class FrameworkImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[
            ("case", gettext_lazy("1EdTech CASE 1.1 package (JSON)")),
            ("moodle", gettext_lazy("Moodle competency framework (CSV)")),
            ("xlsx", gettext_lazy("EduCap spreadsheet template (XLSX)")),
        ],
    )
    code = forms.CharField(label=gettext_lazy("Code (optional)"), required=False, max_length=100)
    version = forms.CharField(
        label=gettext_lazy("Version (optional)"), required=False, max_length=40
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.EDUCAP_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": settings.EDUCAP_MAX_UPLOAD_MB}
            )
        return upload


def _plan(request: HttpRequest, data: bytes, fmt: str, code: str, version: str) -> Any:
    module = importlib.import_module(FORMATS[fmt])
    parsed = module.parse(data)
    if parsed.record is None:
        return parsed.problems, None
    plan = framework_import_plan(
        actor=request.user, record=parsed.record, code=code or None, version=version or None
    )
    return [*parsed.problems, *plan.problems], plan


@login_required
def framework_import(request: HttpRequest) -> HttpResponse:
    if not framework_import_allowed(user=request.user):
        raise PermissionDenied
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    form = FrameworkImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        fmt, code, version = (form.cleaned_data[k] for k in ("format", "code", "version"))
        problems, plan = _plan(request, data, fmt, code, version)
        context.update(
            {"problems": problems, "plan": plan, "file_name": form.cleaned_data["file"].name}
        )
        if plan is not None and not problems:
            context["token"] = stage_upload(
                data=data,
                user_id=request.user.pk,
                salt=SALT,
                name=form.cleaned_data["file"].name,
                format=fmt,
                code=code,
                version=version,
            )
    return render(request, "frameworks/import.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    claimed = claim_confirmed_upload(
        request, salt=SALT, upload_again="frameworks:import", after_cancel="frameworks:import"
    )
    if isinstance(claimed, HttpResponse):
        return claimed
    staged, extra = claimed, claimed.extra
    problems, plan = _plan(request, staged.read(), extra["format"], extra["code"], extra["version"])
    if problems or plan is None:
        staged.discard()
        messages.error(request, _("The file no longer imports cleanly. Upload it again."))
        return redirect("frameworks:import")
    try:
        framework = framework_import_apply(actor=request.user, plan=plan)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("frameworks:import")
    finally:
        staged.discard()
    messages.success(
        request,
        _("%(title)s %(version)s imported as a draft.")
        % {"title": framework.title, "version": framework.version},
    )
    return redirect("frameworks:detail", pk=framework.pk)


@login_required
def blank_template(request: HttpRequest) -> HttpResponse:
    from educap.frameworks.defaults import ensure_default_scale
    from educap.frameworks.io.xlsx import blank_template as make_blank

    response = HttpResponse(
        make_blank(scale=_scale_record(ensure_default_scale())),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="educap-framework-template.xlsx"'
    return response


def _scale_record(scale: Any) -> Any:
    from educap.frameworks.exporting import scale_to_record

    return scale_to_record(scale.pk)


EXPORTS = {
    "case": ("application/json", "json"),
    "moodle": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


@login_required
def framework_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Download a framework the user may read, as CASE JSON, Moodle CSV or the XLSX template."""
    from django.http import Http404

    from educap.frameworks.exporting import framework_to_record
    from educap.frameworks.selectors import framework_get

    if fmt not in EXPORTS:
        raise Http404
    framework = framework_get(user=request.user, pk=pk)
    module = importlib.import_module(FORMATS[fmt])
    record = framework_to_record(framework)
    data = (
        module.serialise(record, changed_at=framework.updated_at)
        if fmt == "case"
        else module.serialise(record)
    )
    content_type, extension = EXPORTS[fmt]
    response = HttpResponse(data, content_type=content_type)
    filename = f"{framework.code}-{framework.version}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
