"""Upload org units, preview what would change, then apply it.

Between the preview and the confirmation the uploaded file waits on disk under
MEDIA_ROOT/imports/<random uuid>, and the confirmation form carries a signed token
naming that file, its SHA-256, the uploader and the counts the preview showed.
Why not the session: sessions live in the database and are read on every request,
and an upload may be EDUCAP_MAX_UPLOAD_MB (20 MB by default). The token cannot be
forged or pointed at another file, expires after an hour, only works for the user
who uploaded, and the file is checked against its hash; on confirmation the file is
parsed and checked again, and applied only if it still gives the counts previewed.
Leftover files (previews never confirmed) are removed on later uploads.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
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

from educap.core.errors import CoreErrorCode
from educap.core.uploads import stage_upload, staged_upload
from educap.org.importing import (
    ImportFormat,
    ImportPlan,
    orgunit_import_allowed,
    orgunit_import_apply,
    orgunit_import_plan_file,
)

PREVIEW_CHANGES = 200
PREVIEW_PROBLEMS = 1000
SIGNING_SALT = "educap.org.web.imports"  # namespaces the signature, not a secret


class UnitImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[
            (ImportFormat.CSV.value, gettext_lazy("CSV: code, name, level, parent_code")),
            (ImportFormat.DHIS2.value, gettext_lazy("DHIS2 organisation units (JSON)")),
        ],
        initial=ImportFormat.CSV.value,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit_mb = settings.EDUCAP_MAX_UPLOAD_MB
        if upload.size > limit_mb * 1024 * 1024:
            raise ValidationError(
                gettext_lazy("The file is larger than the %(limit)s MB limit."),
                code=CoreErrorCode.FILE_TOO_LARGE,
                params={"limit": limit_mb},
            )
        return upload


def _stage(request: HttpRequest, data: bytes, fmt: str, name: str, plan: ImportPlan) -> str:
    """Keep the file until the user confirms; the token remembers the counts previewed."""
    return stage_upload(
        data=data,
        user_id=request.user.pk,
        salt=SIGNING_SALT,
        name=name,
        format=fmt,
        counts=plan.counts,
    )


def _render_preview(
    request: HttpRequest, form: UnitImportForm, plan: ImportPlan, token: str, name: str
) -> HttpResponse:
    context = {
        "form": form,
        "plan": plan,
        "counts": plan.counts,
        "changes": list(islice(plan.changed(), PREVIEW_CHANGES)),
        "changes_limit": PREVIEW_CHANGES,
        "problems": plan.problems[:PREVIEW_PROBLEMS],
        "problems_hidden": max(0, len(plan.problems) - PREVIEW_PROBLEMS),
        "token": token,
        "file_name": name,
        "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB,
    }
    return render(request, "org/import.html", context)


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    if not orgunit_import_allowed(user=request.user):
        raise PermissionDenied
    if request.method == "POST":
        action = request.POST.get("action", "preview")
        if action in ("confirm", "cancel"):
            return _confirm_or_cancel(request, action)
        form = UnitImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            fmt = form.cleaned_data["format"]
            name = Path(upload.name or "").name[:100]
            data = upload.read()
            plan = orgunit_import_plan_file(data=data, file_format=fmt, source=name)
            token = ""
            if plan.ok and any(True for _change in plan.changed()):
                token = _stage(request, data, fmt, name, plan)
            return _render_preview(request, form, plan, token, name)
    else:
        form = UnitImportForm()
    return render(
        request,
        "org/import.html",
        {"form": form, "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB},
    )


def _confirm_or_cancel(request: HttpRequest, action: str) -> HttpResponse:
    staged = staged_upload(
        token=request.POST.get("token", ""), user_id=request.user.pk, salt=SIGNING_SALT
    )
    if staged is None:
        messages.error(
            request, _("This preview has expired or is no longer valid. Upload the file again.")
        )
        return redirect("org:import")
    path, data, payload = staged.path, staged.read(), staged.extra
    if action == "cancel":
        path.unlink(missing_ok=True)
        messages.info(request, _("The import was cancelled; nothing was changed."))
        return redirect("org:import")
    claimed = staged.claim()  # a double-clicked confirm applies once
    if claimed is None:
        messages.error(
            request, _("This preview has expired or is no longer valid. Upload the file again.")
        )
        return redirect("org:import")
    path = claimed.path
    name = staged.name
    plan = orgunit_import_plan_file(data=data, file_format=payload["format"], source=name)
    form = UnitImportForm(initial={"format": payload["format"]})
    if not plan.ok or plan.counts != payload["counts"]:
        messages.warning(
            request,
            _("The units changed since the preview. Check the new preview before applying it."),
        )
        path.unlink(missing_ok=True)
        token = ""
        if plan.ok:
            token = _stage(request, data, payload["format"], name, plan)
        return _render_preview(request, form, plan, token, name)
    try:
        counts = orgunit_import_apply(actor=request.user, plan=plan)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("org:import")
    path.unlink(missing_ok=True)
    messages.success(
        request,
        _(
            "Import applied: %(created)s created, %(updated)s updated, %(moved)s moved, "
            "%(unchanged)s unchanged."
        )
        % counts,
    )
    return redirect("org:tree")
