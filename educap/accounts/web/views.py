import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from educap.accounts import services
from educap.accounts.scope import scope_for
from educap.accounts.web.forms import TokenForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.DEBUG:
            from educap.core.demo import demo_logins

            # Development only: help a newcomer into the demo ministry.
            context["demo_logins"] = demo_logins()
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        language = form.get_user().language
        if language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response


class LogoutView(auth_views.LogoutView):
    pass


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "/"


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Set up or verify the second factor."""
    user = request.user
    has_device = user_has_device(user, confirmed=True)
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if has_device:
            device = next(
                (
                    d
                    for d in TOTPDevice.objects.filter(user=user, confirmed=True)
                    if d.verify_token(token)
                ),
                None,
            )
            if device is None:
                form.add_error(
                    "token", _("That code is not right. Check your phone's clock and try again.")
                )
            else:
                otp_login(request, device)
                messages.success(request, _("Second factor verified."))
                return redirect(_safe_next(request))
        elif pending is not None:
            try:
                device = services.totp_device_confirm(user=user, device=pending, token=token)
            except ValidationError as exc:
                form.add_error("token", exc.message_dict.get("token", [str(exc)])[0])
            else:
                otp_login(request, device)
                messages.success(request, _("Your authenticator app is set up."))
                return redirect(_safe_next(request))
    if not has_device and pending is None and request.method == "GET" and "setup" in request.GET:
        pending = services.totp_device_start(user=user)
    qr_svg = secret = None
    if pending is not None and not has_device:
        qr_svg = segno.make(pending.config_url, error="m").svg_data_uri(scale=4)
        secret = base64.b32encode(pending.bin_key).decode()
    return render(
        request,
        "accounts/security.html",
        {
            "form": form,
            "has_device": has_device,
            "pending": pending if not has_device else None,
            "qr_svg": qr_svg,
            "secret": secret,
            "verified": user.is_verified(),
            "required": settings.EDUCAP_REQUIRE_2FA and scope_for(user).is_elevated,
            "next": _safe_next(request),
        },
    )
