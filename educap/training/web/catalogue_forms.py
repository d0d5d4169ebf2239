"""Forms of the catalogue screens: parse input, nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import FrameworkItem, ItemKind, ScaleLevel
from educap.people.models import Role
from educap.training.models import Course, Modality, Programme, ProviderKind, Track
from educap.training.selectors.catalogue import ORDERINGS, FilterOptions
from educap.training.services.catalogue import (
    LIVE_FRAMEWORK_STATUSES,
    CompetencyTarget,
    ModuleInput,
)

LANGS = (("en", _("English")), ("ar", _("Arabic")), ("fr", _("French")), ("lo", _("Lao")))
ORDERING_LABELS = {
    "code": _("Code"),
    "title": _("Title"),
    "duration": _("Shortest first"),
    "-duration": _("Longest first"),
    "credits": _("Most CPD credits"),
    "newest": _("Newest"),
}


def _any(label: Any = None) -> list[tuple[str, Any]]:
    return [("", label or _("Any"))]


class CourseFilterForm(forms.Form):
    """The catalogue's search and filters; invalid values are simply not applied."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    programme = forms.ChoiceField(label=_("Programme"), required=False)
    track = forms.ChoiceField(label=_("Track"), required=False, choices=_any() + Track.choices)
    modality = forms.ChoiceField(
        label=_("Modality"), required=False, choices=_any() + Modality.choices
    )
    provider = forms.ChoiceField(
        label=_("Provider"), required=False, choices=_any() + ProviderKind.choices
    )
    role = forms.ChoiceField(label=_("For the role"), required=False)
    competency = forms.ChoiceField(label=_("Develops"), required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("1", _("Active")), ("0", _("Inactive")), ("", _("Any"))],
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False, choices=[(o, ORDERING_LABELS[o]) for o in ORDERINGS]
    )

    def __init__(
        self, data: QueryDict, *, options: FilterOptions, can_manage: bool, **kwargs: Any
    ) -> None:
        data = data.copy()
        data.setdefault("active", "1")
        super().__init__(data, **kwargs)
        self.can_manage = can_manage
        self.fields["programme"].choices = _any() + [(p.code, p.title) for p in options.programmes]
        self.fields["role"].choices = _any() + [(r.code, r.name) for r in options.roles]
        self.fields["competency"].choices = _any() + [
            (i.code, f"{i.code} {i.statement}") for i in options.competencies
        ]
        if not can_manage:
            del self.fields["active"]

    def selector_filters(self) -> dict[str, Any]:
        """Keyword arguments for selectors.catalogue.course_list; a filter with an invalid
        value is simply not applied (cleaned_data keeps only the valid ones)."""
        self.is_valid()
        data = self.cleaned_data
        active = data.get("active", "1") if self.can_manage else "1"
        return {
            "search": data.get("q") or "",
            "programme": data.get("programme") or "",
            "track": data.get("track") or "",
            "modality": data.get("modality") or "",
            "provider_kind": data.get("provider") or "",
            "role": data.get("role") or "",
            "competency": data.get("competency") or "",
            "active": None if active == "" else active == "1",
            "ordering": data.get("sort") or "code",
        }

    @property
    def is_filtered(self) -> bool:
        filters = self.selector_filters()
        names = ("search", "programme", "track", "modality", "provider_kind", "role")
        return any(filters[name] for name in (*names, "competency"))


def _text_fields(form: forms.Form, *, title_required: bool = True, prefix: str = "") -> None:
    for lang, name in LANGS:
        form.fields[f"{prefix}title_{lang}"] = forms.CharField(
            label=_("Title (%(language)s)") % {"language": name},
            max_length=300,
            required=title_required and lang == "en",
        )
        form.fields[f"{prefix}description_{lang}"] = forms.CharField(
            label=_("Description (%(language)s)") % {"language": name},
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )


class ProgrammeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _text_fields(self)


def _money(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal(0), max_digits=12, decimal_places=2, initial=Decimal(0)
    )


class CourseForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40, help_text=_("Letters, digits, dot, dash or underscore.")
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"),
        queryset=Programme.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("No programme"),
    )
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)
    modality = forms.ChoiceField(label=_("Modality"), choices=Modality.choices)
    duration_hours = forms.DecimalField(
        label=_("Duration (hours)"), min_value=Decimal("0.1"), max_digits=6, decimal_places=1
    )
    cpd_credits = forms.DecimalField(
        label=_("CPD credits"),
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=1,
        initial=Decimal(0),
    )
    provider_kind = forms.ChoiceField(label=_("Provider"), choices=ProviderKind.choices)
    provider_name = forms.CharField(label=_("Provider name"), max_length=200, required=False)
    target_roles = forms.ModelMultipleChoiceField(
        label=_("Target roles"),
        queryset=Role.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the course is for all staff."),
    )
    prerequisites = forms.ModelMultipleChoiceField(
        label=_("Prerequisites"),
        queryset=Course.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Courses to complete first."),
    )
    cost_per_cohort = _money(_("Cost per cohort"))
    cost_per_participant = _money(_("Cost per participant"))
    min_attendance_percent = forms.IntegerField(
        label=_("Minimum attendance (%)"), min_value=0, max_value=100, initial=80
    )
    pass_mark = forms.IntegerField(
        label=_("Pass mark (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Empty when the course has no final test."),
    )
    records_evidence = forms.BooleanField(
        label=_("Completion counts as competency evidence"),
        required=False,
        help_text=_("On completion, record the level reached in each competency below."),
    )
    is_active = forms.BooleanField(label=_("Active (shown in the catalogue)"), required=False)

    def __init__(self, *args: Any, course: Course | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _text_fields(self)
        self.course = course
        field = self.fields["prerequisites"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        if course is not None:
            field.queryset = Course.objects.exclude(pk=course.pk).order_by("code")
        field.label_from_instance = lambda c: f"{c.code} — {c.title}"  # type: ignore[method-assign]

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for course_create / course_update (without the lists)."""
        data = dict(self.cleaned_data)
        for name in ("target_roles", "prerequisites"):
            data.pop(name)
        return data


def competency_choices() -> list[tuple[Any, Any]]:
    """Competencies of published and draft frameworks, grouped by framework version."""
    items = (
        FrameworkItem.objects.filter(
            kind=ItemKind.COMPETENCY, framework__status__in=LIVE_FRAMEWORK_STATUSES
        )
        .select_related("framework")
        .order_by("framework__code", "framework__version", "sequence", "code")
    )
    groups: dict[str, list[tuple[int, str]]] = {}
    for item in items:
        framework = item.framework
        label = f"{framework.code} {framework.version} ({framework.get_status_display()})"
        groups.setdefault(label, []).append((item.pk, f"{item.code} {item.statement}"))
    return [("", _("Choose a competency")), *groups.items()]


def level_choices() -> list[tuple[Any, Any]]:
    """Levels of the scales live frameworks use, by value (the service checks the scale)."""
    levels = ScaleLevel.objects.filter(
        scale__frameworks__status__in=LIVE_FRAMEWORK_STATUSES
    ).order_by("value", "scale_id")
    names: dict[int, str] = {}
    for level in levels:
        names.setdefault(level.value, f"{level.value} · {level.name}")
    if not names:
        names = {value: str(value) for value in range(5)}
    return [("", "—"), *sorted(names.items())]


def _small_select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"})


class CompetencyRowForm(forms.Form):
    item = forms.TypedChoiceField(
        label=_("Competency"), coerce=int, required=False, widget=_small_select()
    )
    level = forms.TypedChoiceField(
        label=_("Level reached"), coerce=int, required=False, widget=_small_select()
    )

    def __init__(
        self, *args: Any, item_choices: Sequence[Any] = (), level_choices: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = item_choices  # type: ignore[attr-defined]
        self.fields["level"].choices = level_choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        item, level = data.get("item"), data.get("level")
        if item not in (None, "") and level in (None, ""):
            self.add_error("level", _("Choose the level the course brings learners to."))
        if level not in (None, "") and item in (None, ""):
            self.add_error("item", _("Choose a competency."))
        return data


CompetencyFormSet = forms.formset_factory(CompetencyRowForm, extra=2, can_delete=True, max_num=60)


class ModuleRowForm(forms.Form):
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    duration_hours = forms.DecimalField(
        label=_("Hours"), required=False, min_value=Decimal("0.1"), max_digits=6, decimal_places=1
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _text_fields(self, title_required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = any(
            data.get(f"{name}_{lang}") for name in ("title", "description") for lang, _n in LANGS
        ) or data.get("duration_hours")
        if filled and not data.get("title_en"):
            self.add_error("title_en", _("Give the module a title in English."))
        return data

    def as_input(self) -> ModuleInput | None:
        data = self.cleaned_data
        if not data.get("title_en") or data.get("DELETE"):
            return None
        return ModuleInput(
            title={lang: data.get(f"title_{lang}") or "" for lang, _n in LANGS},
            description={lang: data.get(f"description_{lang}") or "" for lang, _n in LANGS},
            duration_hours=data.get("duration_hours"),
            pk=data.get("pk"),
        )


ModuleFormSet = forms.formset_factory(
    ModuleRowForm, extra=2, can_delete=True, can_order=True, max_num=60
)


def competency_targets(formset: Any) -> list[CompetencyTarget]:
    """The rows of a valid competency formset that name a competency and are not deleted."""
    rows = [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data.get("item") not in (None, "") and not form.cleaned_data.get("DELETE")
    ]
    items = {
        item.pk: item
        for item in FrameworkItem.objects.filter(pk__in=[r["item"] for r in rows]).select_related(
            "framework"
        )
    }
    return [
        CompetencyTarget(item=items[row["item"]], level=row["level"])
        for row in rows
        if row["item"] in items
    ]


def module_inputs(formset: Any) -> list[ModuleInput]:
    """The modules of a valid formset in the order asked (rows without a number last),
    without deleted and empty rows."""
    inputs = [form.as_input() for form in formset.ordered_forms]
    return [i for i in inputs if i is not None]


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    file = forms.FileField(label=_("File"), required=False)
    url = forms.URLField(label=_("or a link"), required=False, assume_scheme="https")

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        limit = settings.EDUCAP_MAX_UPLOAD_MB
        if upload is not None and upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB."), params={"mb": limit}
            )
        return upload


class CatalogueImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.EDUCAP_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB."), params={"mb": limit}
            )
        return upload
