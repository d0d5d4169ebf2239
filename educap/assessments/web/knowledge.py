"""Knowledge tests on the web: the item bank for campaign managers, and taking a test."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from educap.assessments.io import item_bank
from educap.assessments.knowledge import (
    KnowledgeErrorCode,
    competency_cuts,
    item_bank_apply,
    item_bank_plan,
    item_bank_records,
    test_answer,
    test_attempt_refresh,
    test_start,
    test_submit,
)
from educap.assessments.models import AssignmentKind, Rating, Source, TestItem, TestItemKind
from educap.assessments.selectors import assignment_competencies, assignment_get
from educap.assessments.services import campaign_manage_allowed
from educap.core.pagination import paginate
from educap.core.uploads import stage_upload
from educap.core.web import claim_confirmed_upload
from educap.frameworks.models import FrameworkItem, ItemKind, ScaleLevel

SALT = "educap.assessments.itembank"  # namespaces the signature, not a secret
EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def _require_manager(request: HttpRequest) -> None:
    if not campaign_manage_allowed(user=request.user):
        raise PermissionDenied


# --- item bank ---------------------------------------------------------------------------


@login_required
def itembank_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    competency_id = request.GET.get("competency", "")
    items = TestItem.objects.select_related("competency__framework").annotate(
        n_choices=Count("choices")
    )
    if query:
        items = items.filter(
            Q(code__icontains=query) | Q(stem__icontains=query) | Q(stem_en__icontains=query)
        )
    if kind in TestItemKind.values:
        items = items.filter(kind=kind)
    if competency_id.isdigit():
        items = items.filter(competency_id=int(competency_id))
    competencies = (
        FrameworkItem.objects.filter(kind=ItemKind.COMPETENCY, test_items__isnull=False)
        .select_related("framework")
        .annotate(n_items=Count("test_items"))
        .order_by("framework__code", "framework__version", "sequence", "code")
    )
    context = {
        "page_obj": paginate(request, items.order_by("competency__code", "code")),
        "query": query,
        "kind": kind,
        "competency_id": competency_id,
        "kinds": TestItemKind.choices,
        "competencies": competencies,
    }
    return render(request, "assessments/itembank_list.html", context)


class ItemBankImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.EDUCAP_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": settings.EDUCAP_MAX_UPLOAD_MB}
            )
        return upload


def _fmt(name: str) -> str:
    return "xlsx" if name.lower().endswith(".xlsx") else "csv"


def _plan(data: bytes, fmt: str) -> tuple[list[Any], Any]:
    parsed = item_bank.parse(data, fmt)
    plan = item_bank_plan(records=parsed.records)
    return [*parsed.problems, *plan.problems], plan


@login_required
def itembank_import(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    form = ItemBankImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "max_upload_mb": settings.EDUCAP_MAX_UPLOAD_MB}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        problems, plan = _plan(data, _fmt(upload.name))
        context.update({"problems": problems, "plan": plan, "file_name": upload.name})
        if not problems and plan.inputs:
            context["token"] = stage_upload(
                data=data, user_id=request.user.pk, salt=SALT, name=upload.name
            )
    return render(request, "assessments/itembank_import.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    claimed = claim_confirmed_upload(
        request,
        salt=SALT,
        upload_again="assessments:itembank_import",
        after_cancel="assessments:itembank_list",
    )
    if isinstance(claimed, HttpResponse):
        return claimed
    try:
        problems, plan = _plan(claimed.read(), _fmt(claimed.name))
        if problems:
            messages.error(request, _("The file no longer imports cleanly. Upload it again."))
            return redirect("assessments:itembank_import")
        created, updated = item_bank_apply(actor=request.user, plan=plan)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("assessments:itembank_import")
    finally:
        claimed.discard()
    messages.success(
        request,
        _("Questions imported: %(created)s new, %(updated)s updated.")
        % {"created": created, "updated": updated},
    )
    return redirect("assessments:itembank_list")


@login_required
def itembank_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _require_manager(request)
    if fmt not in EXPORTS:
        raise Http404
    items = (
        TestItem.objects.select_related("competency__framework")
        .prefetch_related("choices")
        .order_by("competency__code", "code")
    )
    content_type, extension = EXPORTS[fmt]
    response = HttpResponse(
        item_bank.serialise(item_bank_records(items=items), fmt), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="educap-item-bank.{extension}"'
    return response


@login_required
def itembank_cut_scores(request: HttpRequest, competency_pk: int) -> HttpResponse:
    """One form: the minimum score (%) for each level of the scale; empty = no cut."""
    from educap.assessments.knowledge import cut_scores_set

    _require_manager(request)
    competency = get_object_or_404(
        FrameworkItem.objects.select_related("framework__scale"),
        pk=competency_pk,
        kind=ItemKind.COMPETENCY,
    )
    levels = list(
        ScaleLevel.objects.filter(scale_id=competency.framework.scale_id).order_by("value")
    )
    saved = {c.level.value: c.min_percent for c in competency.cut_scores.select_related("level")}
    defaults = dict(
        competency_cuts(competency_ids=[competency.pk], scale_id=competency.framework.scale_id)[
            competency.pk
        ]
    )
    errors: dict[str, str] = {}
    values: dict[int, str] = {v: str(p) for v, p in saved.items()}
    if request.method == "POST":
        values = {
            level.value: request.POST.get(f"level_{level.value}", "").strip() for level in levels
        }
        cuts: dict[int, int | None] = {}
        for value, text in values.items():
            if not text:
                cuts[value] = None
            elif text.isdigit():
                cuts[value] = int(text)
            else:
                errors[f"level_{value}"] = _("A cut score is a percentage between 0 and 100.")
        if request.POST.get("action") == "reset":
            cuts = {}
        if not errors:
            try:
                cut_scores_set(actor=request.user, competency=competency, cuts=cuts)
            except ValidationError as exc:
                for field, msgs in exc.message_dict.items():
                    errors[field] = " ".join(msgs)
            else:
                messages.success(request, _("Cut scores saved."))
                return redirect("assessments:itembank_cut_scores", competency_pk=competency.pk)
    rows = [
        {
            "level": level,
            "name": f"level_{level.value}",
            "value": values.get(level.value, ""),
            "default": defaults.get(level.value),
            "error": errors.get(f"level_{level.value}", ""),
        }
        for level in levels
    ]
    context = {
        "competency": competency,
        "rows": rows,
        "uses_default": not saved,
        "n_items": competency.test_items.filter(is_active=True).count(),
        "other_error": errors.get("level", ""),
    }
    return render(request, "assessments/itembank_cut_scores.html", context)


# --- taking a test -----------------------------------------------------------------------


def _test_assignment(request: HttpRequest, pk: int) -> Any:
    assignment = assignment_get(user=request.user, pk=pk)
    if assignment.kind != AssignmentKind.TEST:
        raise Http404
    return assignment


def _read_answer(request: HttpRequest, item: TestItem) -> Any:
    if item.kind == TestItemKind.MULTIPLE:
        return request.POST.getlist("answer")
    return request.POST.get("answer", "").strip()


@login_required
def test_take(request: HttpRequest, pk: int) -> HttpResponse:
    """Intro → one question per screen → review and submit → result."""
    assignment = _test_assignment(request, pk)
    attempt = test_attempt_refresh(actor=request.user, assignment=assignment)
    if attempt is not None and attempt.submitted_at is not None:
        return _result(request, assignment, attempt)
    competencies = assignment_competencies(assignment=assignment)
    if attempt is None:
        if request.method == "POST" and request.POST.get("action") == "start":
            try:
                test_start(actor=request.user, assignment=assignment)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("assessments:test_take", pk=assignment.pk)
            return redirect(reverse("assessments:test_take", kwargs={"pk": assignment.pk}) + "?q=1")
        return render(
            request,
            "assessments/test_intro.html",
            {
                "assignment": assignment,
                "campaign": assignment.campaign,
                "competencies": competencies,
            },
        )
    item_ids = [int(i) for i in attempt.item_ids]
    total = len(item_ids)
    if request.method == "POST":
        position = _position(request.POST.get("q"), total)
        action = request.POST.get("action", "next")
        if position and position <= total:
            item = get_object_or_404(TestItem, pk=item_ids[position - 1])
            try:
                test_answer(
                    actor=request.user,
                    attempt=attempt,
                    answers={item.pk: _read_answer(request, item)},
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) == KnowledgeErrorCode.DEADLINE_PASSED:
                    messages.warning(
                        request,
                        _("The time is over: your test was submitted with the answers saved."),
                    )
                    return redirect("assessments:test_take", pk=assignment.pk)
                messages.error(request, " ".join(exc.messages))
                return redirect(_question_url(assignment.pk, position))
        if action == "submit":
            try:
                test_submit(actor=request.user, attempt=attempt)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("assessments:test_take", pk=assignment.pk)
        if action == "prev":
            return redirect(_question_url(assignment.pk, max(1, (position or 1) - 1)))
        if action == "review" or (action == "next" and (position or 0) >= total):
            return redirect(
                reverse("assessments:test_take", kwargs={"pk": assignment.pk}) + "?q=review"
            )
        if action.startswith("goto-"):
            return redirect(_question_url(assignment.pk, _position(action[5:], total) or 1))
        return redirect(_question_url(assignment.pk, min(total, (position or 0) + 1)))
    context: dict[str, Any] = {
        "assignment": assignment,
        "campaign": assignment.campaign,
        "attempt": attempt,
        "total": total,
        "remaining_seconds": (
            max(0, int((attempt.deadline - timezone.now()).total_seconds()))
            if attempt.deadline
            else None
        ),
    }
    if context["remaining_seconds"] is not None:
        minutes, seconds = divmod(context["remaining_seconds"], 60)
        context["remaining_label"] = f"{minutes}:{seconds:02d}"
    drawn_competencies = set(
        TestItem.objects.filter(pk__in=item_ids).values_list("competency_id", flat=True)
    )
    context["skipped"] = [c for c in competencies if c.item.pk not in drawn_competencies]
    if request.GET.get("q") == "review" or total == 0:
        answered = set(attempt.answers)
        context["questions"] = [
            {"number": n, "answered": str(item_id) in answered}
            for n, item_id in enumerate(item_ids, 1)
        ]
        context["n_answered"] = sum(1 for q in context["questions"] if q["answered"])
        return render(request, "assessments/test_review.html", context)
    position = _position(request.GET.get("q"), total) or 1
    item = get_object_or_404(
        TestItem.objects.prefetch_related("choices"), pk=item_ids[position - 1]
    )
    saved = attempt.answers.get(str(item.pk))
    context.update(
        {
            "item": item,
            "position": position,
            "choices": list(item.choices.all()),
            "saved": saved,
            "saved_list": saved if isinstance(saved, list) else [saved],
            "percent_step": 5 * round(20 * position / total),
        }
    )
    return render(request, "assessments/test_question.html", context)


def _position(value: str | None, total: int) -> int | None:
    if value and value.isdigit() and 1 <= int(value) <= total:
        return int(value)
    return None


def _question_url(pk: int, position: int) -> str:
    return reverse("assessments:test_take", kwargs={"pk": pk}) + f"?q={position}"


def _result(request: HttpRequest, assignment: Any, attempt: Any) -> HttpResponse:
    competencies = {c.item.pk: c for c in assignment_competencies(assignment=assignment)}
    scale_id = assignment.campaign.framework.scale_id
    levels = {level.value: level for level in ScaleLevel.objects.filter(scale_id=scale_id)}
    # The levels recorded at submission (cut scores may have changed since).
    recorded = dict(
        Rating.objects.filter(assignment=assignment, source=Source.TEST).values_list(
            "item_id", "value"
        )
    )
    rows = []
    for key, percent in attempt.scores.items():
        cid = int(key)
        competency = competencies.get(cid)
        value = recorded.get(cid)
        rows.append(
            {
                "competency": competency.item if competency else None,
                "required": competency.required if competency else None,
                "percent": percent,
                "level": levels.get(value) if value is not None else None,
            }
        )
    rows.sort(key=lambda r: r["competency"].code if r["competency"] else "")
    skipped = [c for cid, c in competencies.items() if str(cid) not in attempt.scores]
    return render(
        request,
        "assessments/test_result.html",
        {
            "assignment": assignment,
            "campaign": assignment.campaign,
            "attempt": attempt,
            "rows": rows,
            "skipped": skipped,
        },
    )


urlpatterns = [
    path("item-bank/", itembank_list, name="itembank_list"),
    path("item-bank/import/", itembank_import, name="itembank_import"),
    path("item-bank/export/<str:fmt>/", itembank_export, name="itembank_export"),
    path(
        "item-bank/cut-scores/<int:competency_pk>/",
        itembank_cut_scores,
        name="itembank_cut_scores",
    ),
    path("test/<int:pk>/", test_take, name="test_take"),
]
