"""Staff upload (preview, then confirm) and staff download.

Between preview and confirmation the upload waits under MEDIA_ROOT/imports/<uuid4> (owner-only
permissions); the confirmation form carries a signed token naming that file, the uploader and
the counts previewed. On confirmation the file is checked again and applied only if it still
gives the counts the user saw. Unconfirmed uploads are removed by later uploads.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from educap.accounts.scope import scope_for
from educap.core.errors import CoreErrorCode
from educap.people.exporting import staff_export_queryset, staff_export_records
from educap.people.importing import StaffImportPlan, staff_import_apply, staff_import_plan
from educap.people.io.staff import COLUMNS, REQUIRED_COLUMNS, iter_csv, parse_file, write_xlsx
from educap.people.web.forms import PersonFilterForm

SIGNING_SALT = "educap.people.staff_import"  # namespaces the signature, not a secret
_TOKEN_MAX_AGE = 60 * 60  # seconds between preview and confirm
_STALE_UPLOAD_SECONDS = 2 * _TOKEN_MAX_AGE
_EXTENSIONS = (".csv", ".xlsx")
_KEY = re.compile(r"^[0-9a-f]{32}$")


class StaffImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Staff list (.csv or .xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.EDUCAP_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB."),
                code=CoreErrorCode.FILE_TOO_LARGE,
                params={"limit": limit},
            )
        if Path(upload.name).suffix.lower() not in _EXTENSIONS:
            raise forms.ValidationError(_("Upload a .csv or an .xlsx file."))
        return upload


def _require_manager(request: HttpRequest) -> None:
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.subtree_paths):
        raise PermissionDenied


def _upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _sweep_stale_uploads() -> None:
    """Previews that were never confirmed leave files behind; remove them after a day."""
    cutoff = time.time() - _STALE_UPLOAD_SECONDS
    for path in _upload_dir().glob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def _plan(request: HttpRequest, path: Path, name: str) -> StaffImportPlan:
    parsed = parse_file(name, path.read_bytes())
    return staff_import_plan(
        actor=request.user,  # type: ignore[arg-type]
        records=parsed.records,
        file_problems=parsed.problems,
    )


def _preview(
    request: HttpRequest, plan: StaffImportPlan, name: str, token: str | None
) -> HttpResponse:
    return render(
        request,
        "people/import_preview.html",
        {"plan": plan, "file_name": name, "token": token, "preview": plan.preview},
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_import(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    if request.method == "POST":
        return _upload(request)
    return render(request, "people/import.html", _form_context(StaffImportForm()))


def _form_context(form: StaffImportForm) -> dict[str, Any]:
    return {
        "form": form,
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
        "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB,
    }


def _upload(request: HttpRequest) -> HttpResponse:
    limit = settings.EDUCAP_MAX_UPLOAD_MB * 1024 * 1024
    # Refuse an oversized body before Django reads it into memory or a temporary file.
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
        form = StaffImportForm()
        form.add_error(
            None,
            _("The file is larger than %(limit)s MB.") % {"limit": settings.EDUCAP_MAX_UPLOAD_MB},
        )
        return render(request, "people/import.html", _form_context(form), status=413)
    form = StaffImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "people/import.html", _form_context(form), status=400)
    upload = form.cleaned_data["file"]
    extension = Path(upload.name).suffix.lower()
    key = uuid.uuid4().hex
    directory = _upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep_stale_uploads()
    path = directory / f"{key}{extension}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    name = Path(upload.name).name
    plan = _plan(request, path, name)
    if plan.problems:
        path.unlink(missing_ok=True)  # it can never be confirmed
        return _preview(request, plan, name, token=None)
    return _preview(request, plan, name, _token(request, key, extension, name, plan))


def _token(request: HttpRequest, key: str, extension: str, name: str, plan: StaffImportPlan) -> str:
    return signing.dumps(
        {
            "key": key,
            "ext": extension,
            "name": name,
            "user": request.user.pk,
            "counts": plan.counts(),
        },
        salt=SIGNING_SALT,
    )


def _confirm(request: HttpRequest) -> HttpResponse:
    try:
        data = signing.loads(request.POST["token"], salt=SIGNING_SALT, max_age=_TOKEN_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect("people:import")
    if data.get("user") != request.user.pk:
        raise PermissionDenied
    key, extension, name = data.get("key", ""), data.get("ext", ""), data.get("name", "")
    if not _KEY.match(key) or extension not in _EXTENSIONS:
        raise PermissionDenied
    path = _upload_dir() / f"{key}{extension}"
    if "cancel" in request.POST:
        path.unlink(missing_ok=True)
        messages.info(request, _("Import cancelled; nothing was changed."))
        return redirect("people:import")
    # Claim the file (an atomic rename) so that a double-clicked confirm applies once.
    claimed = path.with_name(f"{path.name}.applying")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect("people:import")
    # Check again: the database may have changed since the preview.
    plan = _plan(request, claimed, name)
    if plan.problems:
        claimed.unlink(missing_ok=True)
        return _preview(request, plan, name, token=None)
    if plan.counts() != data.get("counts"):
        claimed.rename(path)
        messages.warning(
            request,
            _("Staff records changed since the preview. Check the new preview and confirm again."),
        )
        return _preview(request, plan, name, _token(request, key, extension, name, plan))
    try:
        counts = staff_import_apply(actor=request.user, plan=plan)  # type: ignore[arg-type]
    finally:
        claimed.unlink(missing_ok=True)
    messages.success(
        request,
        _(
            "Imported %(name)s: %(created)s created, %(updated)s updated, %(posts_changed)s"
            " changed post, %(unchanged)s unchanged."
        )
        % {"name": name, **counts},
    )
    return redirect("people:list")


@login_required
@require_GET
def staff_export(request: HttpRequest) -> HttpResponse:
    """Download the staff list as filtered on the list page, limited to what the user sees."""
    form = PersonFilterForm.from_query(request.GET)
    people = staff_export_queryset(user=request.user, **form.selector_filters())
    records = staff_export_records(people)
    stamp = timezone.localdate().isoformat()
    if request.GET.get("format") == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        write_xlsx(records, spool)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"staff-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(iter_csv(records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="staff-{stamp}.csv"'
    return response
