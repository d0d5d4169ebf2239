"""xAPI set-up pages for system administrators: client credentials, activity mappings and
the statements received."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from educap.core.pagination import paginate
from educap.core.web import add_errors_to_form
from educap.training.lrs import selectors
from educap.training.lrs.process import ADL, Outcome
from educap.training.lrs.views import home_page
from educap.training.models import Course, XapiActivity, XapiClient, XapiStatement
from educap.training.services import xapi as services

COMMON_VERBS = [
    ADL + v
    for v in (
        "completed", "passed", "failed", "attempted", "experienced", "progressed",
        "answered", "launched", "initialized", "terminated", "voided",
    )
]  # fmt: skip


class XapiClientForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Platform name"),
        max_length=200,
        help_text=gettext_lazy(
            "The platform that will send statements, e.g. the ministry's Moodle."
        ),
    )


class XapiActivityForm(forms.Form):
    activity_id = forms.CharField(
        label=gettext_lazy("Activity IRI"),
        max_length=500,
        help_text=gettext_lazy(
            "The object id the platform sends for the course, e.g. "
            "https://moodle.example.org/course/view.php?id=12."
        ),
    )
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"),
        queryset=Course.objects.filter(is_active=True).order_by("code"),
    )


def _require_admin(request: HttpRequest) -> None:
    if not services.xapi_manage_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied


def _connection(request: HttpRequest) -> dict[str, str]:
    """What a platform's administrator needs to configure it."""
    return {
        "endpoint": request.build_absolute_uri(reverse("xapi:statements")).removesuffix(
            "statements"
        ),
        "home_page": home_page(request),
    }


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(
        request,
        "training/xapi_client_list.html",
        {"page_obj": paginate(request, selectors.client_list()), **_connection(request)},
    )


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    """The secret is shown in the answer to the POST only: it is never stored in clear."""
    _require_admin(request)
    form = XapiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = services.xapi_client_create(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            return render(
                request,
                "training/xapi_client_created.html",
                {"client": client, "secret": secret, **_connection(request)},
            )
    return render(request, "training/xapi_client_form.html", {"form": form})


@login_required
@require_POST
def client_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    client = get_object_or_404(XapiClient, pk=pk)
    services.xapi_client_deactivate(actor=request.user, client=client)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(name)s can no longer send or read statements.") % {"name": client.name},
    )
    return redirect("training:xapi_client_list")


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    """The mappings, and a form to add one."""
    _require_admin(request)
    form = XapiActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.xapi_activity_map(
                actor=request.user,  # type: ignore[arg-type]
                activity_id=form.cleaned_data["activity_id"],
                course=form.cleaned_data["course"],
            )
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                _("Completing %(activity)s now completes %(course)s.")
                % {"activity": activity.activity_id, "course": activity.course.code},
            )
            return redirect("training:xapi_activity_list")
    return render(
        request,
        "training/xapi_activity_list.html",
        {"page_obj": paginate(request, selectors.activity_list()), "form": form},
    )


@login_required
@require_POST
def activity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    activity = get_object_or_404(XapiActivity.objects.select_related("course"), pk=pk)
    try:
        services.xapi_activity_unmap(actor=request.user, activity=activity)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(activity)s no longer stands for %(course)s.")
            % {"activity": activity.activity_id, "course": activity.course.code},
        )
    return redirect("training:xapi_activity_list")


def actor_label(actor: object) -> str:
    """How a statement names its actor: name, else e-mail, else account name."""
    if not isinstance(actor, dict):
        return ""
    if isinstance(actor.get("name"), str) and actor["name"]:
        return str(actor["name"])
    if isinstance(actor.get("mbox"), str):
        return str(actor["mbox"]).removeprefix("mailto:")
    account = actor.get("account")
    if isinstance(account, dict):
        return str(account.get("name", ""))
    return str(actor.get("openid") or actor.get("mbox_sha1sum") or "")


def verb_label(verb_id: str) -> str:
    return verb_id.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    client_param = request.GET.get("client", "")
    client_id = int(client_param) if client_param.isdigit() else None
    outcomes = [(value, str(label)) for value, label in Outcome.choices]
    outcomes.append((selectors.NOT_MATCHED, _("Nothing (only stored)")))
    outcome = request.GET.get("outcome", "")
    if outcome not in dict(outcomes):
        outcome = ""
    filters = {
        "client": client_id,
        "verb": request.GET.get("verb", "").strip(),
        "outcome": outcome,
    }
    rows = selectors.statement_list(client_id=client_id, verb=filters["verb"], outcome=outcome)
    page_obj = paginate(request, rows, per_page=50)
    page_obj.rows = [  # type: ignore[attr-defined]
        {
            "statement": row,
            "actor": actor_label(row.statement.get("actor")),
            "verb": verb_label(row.verb_id),
            "outcome": dict(outcomes).get(row.outcome, "") if row.outcome else "",
        }
        for row in page_obj.object_list
    ]
    return render(
        request,
        "training/xapi_statement_list.html",
        {
            "page_obj": page_obj,
            "filters": filters,
            "clients": selectors.client_list(),
            "outcomes": outcomes,
            "common_verbs": COMMON_VERBS,
        },
    )


@login_required
def statement_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    _require_admin(request)
    row = get_object_or_404(XapiStatement.objects.select_related("client", "person"), pk=pk)
    return render(
        request,
        "training/xapi_statement_detail.html",
        {
            "row": row,
            "actor": actor_label(row.statement.get("actor")),
            "outcome_label": dict(Outcome.choices).get(row.outcome, ""),
            "pretty": json.dumps(row.statement, indent=2, ensure_ascii=False, sort_keys=True),
        },
    )
