"""Role-profile matrix editor: competencies (rows, by domain) x role profiles (columns).

Each cell opens a small htmx form; saving goes through `services.requirement_set` and swaps
back the cell, plus the same row's cells of every profile that inherits from the edited one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from educap.frameworks import matrix as reads
from educap.frameworks import services
from educap.frameworks.models import Importance, ScaleLevel
from educap.frameworks.selectors import framework_get, scale_levels


class RequirementCellForm(forms.Form):
    level = forms.ChoiceField(label=_("Required level"), required=False)
    weight = forms.TypedChoiceField(
        label=_("Importance"), coerce=int, choices=Importance.choices, initial=Importance.MEDIUM
    )

    def __init__(self, *args, levels: list[ScaleLevel], not_required: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.levels = {level.code: level for level in levels}
        self.fields["level"].choices = [("", not_required)] + [
            (level.code, f"{level.code} {level.name}") for level in levels
        ]

    def chosen_level(self) -> ScaleLevel | None:
        return self.levels.get(self.cleaned_data["level"]) if self.cleaned_data["level"] else None


@dataclass(frozen=True)
class CellView:
    """What one grid cell shows, worked out in Python: 1,200 cells stay quick to render."""

    dom_id: str
    css: str
    level: str
    marker: str
    title: str  # mouse users: where an inherited requirement comes from
    label: str  # the button's accessible name (editors) ...
    hidden: str  # ... or the text a screen reader hears after the level (read-only)
    url: str  # the cell editor, empty when read-only


class CellPresenter:
    def __init__(self, *, framework_pk: int, can_edit: bool) -> None:
        self.can_edit = can_edit
        # One reverse() for the whole grid; the ids are swapped in per cell.
        self.url_pattern = (
            reverse("frameworks:matrix_cell", args=[framework_pk, _PROFILE, _ITEM])
            if can_edit
            else ""
        )
        # Translated names are looked up once per profile, item and level, not once per cell.
        self._text: dict[tuple[str, int], str] = {}

    def _once(self, kind: str, key: int, make: Callable[[], str]) -> str:
        if (kind, key) not in self._text:
            self._text[kind, key] = make()
        return self._text[kind, key]

    def __call__(self, cell: reads.MatrixCell) -> CellView:
        profile, item, level = cell.profile, cell.item, cell.level
        css = "matrix-cell"
        described = gettext("not required")
        title = ""
        if level is not None:
            css += f" lvl-{cell.colour}"
            described = self._once(
                f"level-{cell.weight}",
                level.pk,
                lambda: (
                    gettext("level %(level)s %(name)s, %(importance)s")
                    % {"level": level.code, "name": level.name, "importance": cell.weight_label}
                ),
            )
        if cell.inherited is not None:
            css += " is-inherited"
            title = gettext("inherited from %(profile)s") % {
                "profile": cell.inherited.inherited_from
            }
            described = f"{described}, {title}"
        url = label = ""
        if self.can_edit:
            url = self.url_pattern.replace(str(_PROFILE), str(profile.pk)).replace(
                str(_ITEM), str(item.pk)
            )
            role = self._once("profile", profile.pk, lambda: profile.name)
            competency = self._once("item", item.pk, lambda: item.statement)
            label = gettext("Set requirement for %(role)s on %(competency)s") % {
                "role": role,
                "competency": competency,
            }
            label = f"{label}: {described}"
        return CellView(
            dom_id=f"cell-{profile.pk}-{item.pk}",
            css=css,
            level=level.code if level is not None else "",
            marker=cell.weight_marker,
            title=title,
            label=label,
            hidden="" if self.can_edit or level is None else described,
            url=url,
        )


_PROFILE, _ITEM = 987654321, 876543219


def _table(grid: reads.Matrix, present: CellPresenter) -> list[tuple[Any, list[Any]]]:
    """(group, [(row, [CellView, ...]), ...]) for the template."""
    return [
        (group, [(row, [present(cell) for cell in row.cells]) for row in group.rows])
        for group in grid.groups
    ]


def _domain_param(request: HttpRequest) -> int | None:
    value = request.GET.get("domain", "")
    return int(value) if value.isdigit() else None


@login_required
def matrix(request: HttpRequest, pk: int) -> HttpResponse:
    framework = framework_get(user=request.user, pk=pk)
    query = request.GET.get("q", "").strip()[:100]
    grid = reads.matrix_build(
        framework=framework,
        levels=scale_levels(framework=framework),
        domain_id=_domain_param(request),
        search=query,
    )
    is_editor = services.framework_edit_allowed(user=request.user)  # type: ignore[arg-type]
    can_edit = is_editor and framework.is_editable
    present = CellPresenter(framework_pk=framework.pk, can_edit=can_edit)
    context = {
        "framework": framework,
        "grid": grid,
        "table": _table(grid, present),
        "query": query,
        "is_editor": is_editor,
        "can_edit": can_edit,
    }
    if request.htmx and request.htmx.target == "matrix-table":
        return render(request, "frameworks/partials/matrix_table.html", context)
    return render(request, "frameworks/matrix.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def matrix_cell(request: HttpRequest, pk: int, profile_id: int, item_id: int) -> HttpResponse:
    """GET: the cell's editor (or the cell itself with ?cancel=1). POST: save, return the cell."""
    framework = framework_get(user=request.user, pk=pk)
    if not services.framework_edit_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    profile, item = reads.matrix_target(framework=framework, profile_id=profile_id, item_id=item_id)
    levels = scale_levels(framework=framework)
    cells = reads.matrix_item_cells(framework=framework, item=item, levels=levels)
    cell = cells[profile.pk]
    editable = framework.is_editable
    present = CellPresenter(framework_pk=framework.pk, can_edit=editable)
    context = {"framework": framework, "cell": cell, "c": present(cell), "refocus": True}
    if request.method == "GET" and (request.GET.get("cancel") or not editable):
        return render(request, "frameworks/partials/matrix_cell.html", context)

    inherited = cell.inherited
    not_required = (
        _("Inherit: %(level)s from %(profile)s")
        % {"level": inherited.level.code, "profile": inherited.inherited_from}
        if inherited is not None
        else _("Not required")
    )
    initial = {
        "level": cell.own.level.code if cell.own else "",
        "weight": cell.weight or Importance.MEDIUM,
    }
    form = RequirementCellForm(
        request.POST or None, initial=initial, levels=levels, not_required=not_required
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            services.requirement_set(
                actor=request.user,
                profile=profile,
                item=item,
                level=form.chosen_level(),
                weight=form.cleaned_data["weight"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            # Read again: the edit shows through in every profile that inherits this one.
            cells = reads.matrix_item_cells(framework=framework, item=item, levels=levels)
            derived = reads.derived_profile_ids(
                profile=profile, profiles=[c.profile for c in cells.values()]
            )
            context["c"] = present(cells[profile.pk])
            context["also"] = [present(cells[pk]) for pk in sorted(derived)]
            return render(request, "frameworks/partials/matrix_cell.html", context)
    return render(request, "frameworks/partials/matrix_cell_form.html", context)
