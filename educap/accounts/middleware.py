from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from educap.accounts.scope import scope_for

# Paths a signed-in user may reach before completing the second factor.
# Public pages (certificate verification, published keys) and the xAPI endpoint, which
# authenticates its own machine clients.
_OPEN_PREFIXES = (
    "/accounts/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/jsi18n/",
    "/verify/",
    "/.well-known/",
    "/xapi/",
)


class SecondFactorRequiredMiddleware:
    """Users with grants above staff/supervisor must verify a one-time password."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.EDUCAP_REQUIRE_2FA and self._needs_second_factor(request):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {
                        "code": "second_factor_required",
                        "detail": "Verify a one-time password in the web interface first.",
                        "field": None,
                    },
                    status=403,
                )
            return redirect(f"{reverse('accounts:security')}?next={request.path}")
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if request.path.startswith(_OPEN_PREFIXES):
            return False
        # Token-authenticated API clients are machine accounts issued by an administrator.
        if request.headers.get("Authorization", "").startswith("Token "):
            return False
        if user.is_verified():
            return False
        return scope_for(user).is_elevated or user.is_superuser
