from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from educap.accounts.scope import scope_for
from educap.core.selectors import home_summary


@login_required
def home(request: HttpRequest) -> HttpResponse:
    summary = home_summary(user=request.user)
    return render(request, "core/home.html", {"summary": summary, "scope": scope_for(request.user)})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse(
            {"status": "error", "database": str(exc.__class__.__name__)}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page that also leaves a trace in the audit log."""
    from educap.audit.models import AuditAction
    from educap.audit.services import audit_record

    user = request.user if request.user.is_authenticated else None
    audit_record(actor=user, action=AuditAction.ACCESS_DENIED, object_repr=request.path[:200])
    return render(request, "403.html", status=403)
