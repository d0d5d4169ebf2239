"""Small helpers shared by the web views of every app."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from educap.core.uploads import StagedUpload, staged_upload


def add_errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def claim_confirmed_upload(
    request: HttpRequest, *, salt: str, upload_again: str, after_cancel: str
) -> StagedUpload | HttpResponse:
    """The upload a preview's "Import" button confirms, claimed so it imports only once.

    Returns the redirect to show instead when the preview expired or was cancelled.
    """
    staged = staged_upload(token=request.POST["token"], user_id=request.user.pk, salt=salt)
    if staged is None:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect(upload_again)
    if request.POST.get("action") == "cancel":
        staged.discard()
        messages.info(request, _("Import cancelled. Nothing was changed."))
        return redirect(after_cancel)
    claimed = staged.claim()
    if claimed is None:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect(upload_again)
    return claimed
