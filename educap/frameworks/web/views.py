from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from educap.core.pagination import paginate
from educap.frameworks import selectors, services
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus
from educap.frameworks.web.forms import LANGS, ItemEditForm, ItemForm, NewVersionForm


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def framework_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    frameworks = selectors.framework_list(user=request.user, search=query)
    return render(
        request,
        "frameworks/framework_list.html",
        {
            "page_obj": paginate(request, frameworks),
            "query": query,
            "can_edit": services.framework_edit_allowed(user=request.user),
        },
    )


def _tree_context(request: HttpRequest, framework: Framework, query: str = "") -> dict[str, Any]:
    """What the tree partial needs, for the full page and for its htmx refreshes."""
    tree = selectors.item_tree(framework=framework, search=query)
    return {
        "framework": framework,
        "rows": selectors.flatten(tree),
        "levels": selectors.scale_levels(framework=framework),
        "query": query,
        "can_edit": framework.is_editable and services.framework_edit_allowed(user=request.user),
    }


@login_required
def framework_detail(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.framework_get(user=request.user, pk=pk)
    context = _tree_context(request, framework, request.GET.get("q", ""))
    if request.htmx and request.htmx.target == "framework-tree":
        return render(request, "frameworks/partials/tree.html", context)
    context.update(
        {
            "can_version": services.framework_edit_allowed(user=request.user),
            "versions": Framework.objects.filter(code=framework.code).order_by("-created_at"),
            "profiles": selectors.profile_list(framework=framework),
            "item_form": ItemForm(),
            "version_form": NewVersionForm(),
        }
    )
    return render(request, "frameworks/framework_detail.html", context)


def _editable(request: HttpRequest, pk: int) -> Framework:
    framework = selectors.framework_get(user=request.user, pk=pk)
    if not services.framework_edit_allowed(user=request.user):
        raise PermissionDenied
    return framework


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _editable(request, pk)
    form = ItemForm(request.POST)
    parent_id = request.POST.get("parent") or None
    parent = (
        get_object_or_404(FrameworkItem, pk=parent_id, framework=framework) if parent_id else None
    )
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.item_add(
                actor=request.user,
                framework=framework,
                parent=parent,
                kind=data.pop("kind"),
                code=data.pop("code"),
                statement=data["statement_en"],
                **data,
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Item added."))
    else:
        messages.error(request, _("Fill in the kind, a code and the English statement."))
    return redirect("frameworks:detail", pk=framework.pk)


@login_required
@require_POST
def item_move(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    """Move up or down among siblings (buttons), or under another parent (select)."""
    framework = _editable(request, pk)
    item = get_object_or_404(FrameworkItem, pk=item_id, framework=framework)
    direction = request.POST.get("direction")
    siblings = list(
        FrameworkItem.objects.filter(framework=framework, parent=item.parent).order_by(
            "sequence", "id"
        )
    )
    index = siblings.index(item)
    try:
        if direction in ("up", "down"):
            target = index - 1 if direction == "up" else index + 1
            services.item_move(actor=request.user, item=item, parent=item.parent, position=target)
        else:
            parent_id = request.POST.get("parent") or None
            parent = (
                get_object_or_404(FrameworkItem, pk=parent_id, framework=framework)
                if parent_id
                else None
            )
            services.item_move(actor=request.user, item=item, parent=parent, position=10**6)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    if request.htmx:
        return framework_detail_tree(request, framework)
    return redirect("frameworks:detail", pk=framework.pk)


def framework_detail_tree(request: HttpRequest, framework: Framework) -> HttpResponse:
    return render(request, "frameworks/partials/tree.html", _tree_context(request, framework))


@login_required
@require_POST
def item_delete(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    framework = _editable(request, pk)
    item = get_object_or_404(FrameworkItem, pk=item_id, framework=framework)
    try:
        services.item_delete(actor=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(code)s deleted.") % {"code": item.code})
    if request.htmx:
        return framework_detail_tree(request, framework)
    return redirect("frameworks:detail", pk=framework.pk)


@login_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirmation page listing what changes since the previous version, then publish."""
    framework = _editable(request, pk)
    if framework.status != FrameworkStatus.DRAFT:
        messages.info(request, _("This version is already published."))
        return redirect("frameworks:detail", pk=framework.pk)
    previous = framework.previous_version
    changes = selectors.framework_diff(old=previous, new=framework) if previous else None
    if request.method == "POST":
        try:
            services.framework_publish(actor=request.user, framework=framework)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request,
                _("%(title)s %(version)s is published.")
                % {"title": framework.title, "version": framework.version},
            )
            return redirect("frameworks:detail", pk=framework.pk)
    return render(
        request,
        "frameworks/publish.html",
        {
            "framework": framework,
            "previous": previous,
            "changes": changes,
            "n_items": framework.items.count(),
        },
    )


@login_required
@require_POST
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.framework_get(user=request.user, pk=pk)
    if not services.framework_edit_allowed(user=request.user):
        raise PermissionDenied
    form = NewVersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the new version a number."))
        return redirect("frameworks:detail", pk=framework.pk)
    try:
        draft = services.framework_new_version(
            actor=request.user, framework=framework, version=form.cleaned_data["version"]
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("frameworks:detail", pk=framework.pk)
    messages.success(request, _("Draft %(version)s created.") % {"version": draft.version})
    return redirect("frameworks:detail", pk=draft.pk)


@login_required
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.framework_get(user=request.user, pk=pk)
    versions = selectors.framework_list(user=request.user).filter(code=framework.code)
    other_id = request.GET.get("with") or (
        framework.previous_version_id and str(framework.previous_version_id)
    )
    other = versions.filter(pk=other_id).first() if other_id and other_id.isdigit() else None
    changes = selectors.framework_diff(old=other, new=framework) if other else None
    return render(
        request,
        "frameworks/compare.html",
        {"framework": framework, "other": other, "versions": versions, "changes": changes},
    )


@login_required
def item_edit(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    framework = _editable(request, pk)
    item = get_object_or_404(FrameworkItem, pk=item_id, framework=framework)
    levels = selectors.scale_levels(framework=framework)
    indicators = {i.level_id: i for i in item.indicators.all()}
    initial: dict[str, object] = {
        "code": item.code,
        "keywords": item.keywords,
        "parent": str(item.parent_id or ""),
    }
    # Any item outside its own subtree may become its parent.
    rows = selectors.flatten(selectors.item_tree(framework=framework))
    inside, parents = False, []
    for row in rows:
        if row.item.pk == item.pk:
            inside, own_depth = True, row.depth
            continue
        if inside and row.depth > own_depth:
            continue
        inside = False
        parents.append((str(row.item.pk), f"{row.item.code} {row.item.statement[:60]}"))
    for lang, _name in LANGS:
        initial[f"statement_{lang}"] = getattr(item, f"statement_{lang}")
        initial[f"description_{lang}"] = getattr(item, f"description_{lang}")
        for level in levels:
            indicator = indicators.get(level.pk)
            initial[f"indicator_{level.pk}_{lang}"] = (
                getattr(indicator, f"text_{lang}") if indicator else ""
            )
    form = ItemEditForm(request.POST or None, initial=initial, levels=levels, parents=parents)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        texts = {
            f"{f}_{lang}": data[f"{f}_{lang}"]
            for f in ("statement", "description")
            for lang, _n in LANGS
        }
        try:
            with transaction.atomic():
                services.item_update(
                    actor=request.user,
                    item=item,
                    code=data["code"],
                    keywords=data["keywords"],
                    statement=data["statement_en"],
                    description=data["description_en"],
                    **texts,
                )
                new_parent = int(data["parent"]) if data["parent"] else None
                if new_parent != item.parent_id:
                    services.item_move(
                        actor=request.user,
                        item=item,
                        parent=get_object_or_404(FrameworkItem, pk=new_parent, framework=framework)
                        if new_parent
                        else None,
                        position=10**6,
                    )
                if item.kind == "competency":
                    for level in levels:
                        services.indicator_set(
                            actor=request.user,
                            item=item,
                            level=level,
                            **{
                                f"text_{lang}": data[f"indicator_{level.pk}_{lang}"]
                                for lang, _n in LANGS
                            },
                        )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("%(code)s saved.") % {"code": item.code})
            return redirect("frameworks:detail", pk=framework.pk)
    return render(
        request,
        "frameworks/item_form.html",
        {"framework": framework, "item": item, "form": form, "levels": levels, "langs": LANGS},
    )
