"""Certificate screens: my certificates, the managers' list, a certificate's page with its
PDF and Open Badges credential, revoking; and the public addresses anyone may use to check
a certificate (verification page, JWKS, credential status)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate
from educap.core.web import add_errors_to_form
from educap.org.models import OrgUnit
from educap.training import credentials, signing
from educap.training.certificate_pdf import certificate_pdf as render_pdf
from educap.training.certificate_pdf import pdf_language
from educap.training.models import Certificate, CourseCompetency
from educap.training.selectors import certificates as selectors
from educap.training.services import certificates as services

NOINDEX = "noindex, nofollow, noarchive"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=gettext_lazy(
            "Shown on the public verification page and in the digital credential's status."
        ),
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _with_titles(page: Page) -> Page:
    """Each certificate's course title in the reader's language, where it still applies."""
    language = get_language()
    for certificate in page.object_list:
        certificate.display_title = selectors.certificate_course_title(certificate, language)
    return page


# --- signed-in pages -------------------------------------------------------------------


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    page = _with_titles(paginate(request, selectors.my_certificates(user=request.user)))
    return render(
        request,
        "training/certificate_mine.html",
        {"page_obj": page, "has_person": bool(request.user.person_id)},  # type: ignore[union-attr]
    )


@login_required
def certificate_list(request: HttpRequest) -> HttpResponse:
    """Managers' list: the certificates of the staff and sessions in their scope."""
    if not scope_for(request.user).sees_personal_data_of_others:
        return redirect("training:my_certificates")
    params = request.GET
    status = params.get("status", "")
    status = status if status in selectors.STATUSES else ""
    unit_code = params.get("unit", "").strip()
    unit = OrgUnit.objects.filter(code=unit_code).first() if unit_code else None
    filters = {
        "search": params.get("q", ""),
        "status": status,
        "course": params.get("course", "").strip(),
        "unit": unit,
        "completed_from": _date(params.get("from", "")),
        "completed_to": _date(params.get("to", "")),
    }
    certificates = selectors.certificate_list(user=request.user, **filters)
    return render(
        request,
        "training/certificate_list.html",
        {
            "page_obj": _with_titles(paginate(request, certificates)),
            "filters": filters,
            "unit_code": unit_code,
            "unknown_unit": bool(unit_code) and unit is None,
            "filtered": any(filters.values()) or bool(unit_code),
        },
    )


@login_required
def certificate_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    can_revoke = services.certificate_revoke_allowed(user=request.user, certificate=certificate)
    return _detail_page(request, certificate, can_revoke=can_revoke, form=ReasonForm())


def _detail_page(
    request: HttpRequest, certificate: Certificate, *, can_revoke: bool, form: ReasonForm
) -> HttpResponse:
    base = credentials.public_base_url(request)
    competencies = (
        CourseCompetency.objects.filter(course_id=certificate.course_id)
        .select_related("item__framework")
        .order_by("item__framework_id", "item__sequence", "item_id")
    )
    return render(
        request,
        "training/certificate_detail.html",
        {
            "certificate": certificate,
            "course_title": selectors.certificate_course_title(certificate, get_language()),
            "competencies": competencies,
            "verify_url": credentials.verify_url(certificate, base),
            "can_revoke": can_revoke,
            "form": form,
            "is_holder": certificate.person_id == scope_for(request.user).person_id,
            "pdf_languages": settings.LANGUAGES,
        },
        status=400 if form.errors else 200,
    )


@login_required
def certificate_pdf(request: HttpRequest, pk: Any) -> HttpResponse:
    """The certificate in the requester's language, or the one asked for with ?lang=."""
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    language = pdf_language(request.GET.get("lang"))
    pdf = render_pdf(certificate, base=credentials.public_base_url(request), language=language)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"certificate-{certificate.pk}-{language}.pdf"
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


@login_required
def certificate_credential(request: HttpRequest, pk: Any) -> HttpResponse:
    """The Open Badges 3.0 credential: signed (.jwt, default) or decoded (?format=json)."""
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    if not certificate.is_valid:
        messages.error(request, _("A revoked certificate has no digital credential."))
        return redirect("training:certificate_detail", pk=certificate.pk)
    base = credentials.public_base_url(request)
    if request.GET.get("format") == "json":
        credential = credentials.credential_for(certificate, base=base)
        body = json.dumps(credential, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        extension = "json"
    else:
        token = credentials.credential_jwt(certificate, base=base)
        response = HttpResponse(token, content_type=credentials.JWT_CONTENT_TYPE)
        extension = "jwt"
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.pk}.{extension}"'
    )
    return response


def _reason_action(request: HttpRequest, pk: Any, *, reinstate: bool) -> HttpResponse:
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    if not services.certificate_revoke_allowed(user=request.user, certificate=certificate):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if form.is_valid():
        action = services.certificate_reinstate if reinstate else services.certificate_revoke
        try:
            action(
                actor=request.user,  # type: ignore[arg-type]
                certificate=certificate,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            if reinstate:
                messages.success(request, _("The certificate is valid again."))
            else:
                messages.success(request, _("The certificate is revoked."))
            return redirect("training:certificate_detail", pk=certificate.pk)
    return _detail_page(request, certificate, can_revoke=True, form=form)


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: Any) -> HttpResponse:
    return _reason_action(request, pk, reinstate=False)


@login_required
@require_POST
def certificate_reinstate(request: HttpRequest, pk: Any) -> HttpResponse:
    return _reason_action(request, pk, reinstate=True)


# --- public addresses (no sign-in) -----------------------------------------------------


@require_GET
def certificate_verify(request: HttpRequest, pk: str) -> HttpResponse:
    """Anyone holding the certificate's id (printed and in the QR code) may check it."""
    certificate = selectors.certificate_for_verification(pk=pk)
    if certificate is None:
        response = render(
            request, "training/certificate_verify_missing.html", {"pk": pk[:64]}, status=404
        )
    else:
        response = render(
            request,
            "training/certificate_verify.html",
            {
                "certificate": certificate,
                "course_title": selectors.certificate_course_title(certificate, get_language()),
            },
        )
    response["X-Robots-Tag"] = NOINDEX
    return response


def _public_json(data: Any, *, status: int = 200, max_age: int = 0) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Robots-Tag"] = NOINDEX
    response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return _public_json(signing.jwks(), max_age=300)


@require_GET
def jwk(request: HttpRequest, kid: str) -> JsonResponse:
    """One public key as a bare JWK: the URL credentials name in their header's kid."""
    key = signing.published_key(kid)
    if key is None:
        return _public_json({"code": "not_found", "detail": "No such key."}, status=404)
    return _public_json(key, max_age=300)


@require_GET
def credential_status(request: HttpRequest, pk: str) -> JsonResponse:
    """The 1EdTech Revocation List of one credential (empty while it is valid)."""
    certificate = selectors.certificate_for_verification(pk=pk)
    if certificate is None:
        return _public_json({"code": "not_found", "detail": "No such credential."}, status=404)
    base = credentials.public_base_url(request)
    return _public_json(credentials.status_document(certificate, base=base))
