from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from educap.audit.models import AuditAction
from educap.audit.selectors import audit_event_list
from educap.core.pagination import paginate


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "action": request.GET.get("action", ""),
        "actor": request.GET.get("actor", "").strip(),
        "object_type": request.GET.get("object_type", "").strip(),
        "object_id": request.GET.get("object_id", "").strip(),
    }
    events = audit_event_list(user=request.user, **filters)
    return render(
        request,
        "audit/event_list.html",
        {
            "page_obj": paginate(request, events, per_page=50),
            "filters": filters,
            "actions": AuditAction.choices,
        },
    )
