"""Filters of the gap pages: parse GET parameters, nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from educap.core.widgets import PlainSelect
from educap.frameworks.models import Framework
from educap.gaps.models import GapSnapshot, RoleRequirement
from educap.gaps.selectors import GapFilters, gap_frameworks
from educap.people.models import Role, Sex

MEASURES = (
    ("share", _("Share meeting the requirement")),
    ("gap", _("Mean gap (levels)")),
    ("index", _("Weighted gap index")),
)


class ListedChoices(ModelChoiceIterator):
    """The choices read with one plain query: Django's iterator opens a server-side cursor
    on PostgreSQL (DECLARE, FETCH, CLOSE: three round trips) for a dozen rows."""

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


class ListedChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices
    widget = PlainSelect


class FrameworkChoiceField(ListedChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} {obj.version}"


class PeriodChoiceField(ListedChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        campaign = obj.campaign
        return f"{campaign.title} ({campaign.code}, {campaign.closes_on:%Y-%m-%d})"


class FrameworkForm(forms.Form):
    """The framework version a person's gaps are read against."""

    framework = FrameworkChoiceField(
        queryset=Framework.objects.none(),
        required=False,
        label=_("Framework version"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["framework"].queryset = gap_frameworks()  # type: ignore[attr-defined]
        self.fields["framework"].widget.attrs["class"] = "form-select form-select-sm js-autosubmit"

    def chosen(self, default: Framework | None) -> Framework | None:
        if self.is_valid() and self.cleaned_data.get("framework"):
            return self.cleaned_data["framework"]  # type: ignore[no-any-return]
        return default


class GapFilterForm(FrameworkForm):
    """Dashboard filters: framework version, role, sex and the measure the heat map shows."""

    role = ListedChoiceField(
        queryset=Role.objects.none(),
        required=False,
        label=_("Role"),
        empty_label=_("All roles"),
    )
    sex = forms.ChoiceField(
        choices=[("", _("Women and men")), *Sex.choices],
        required=False,
        label=_("Sex"),
        widget=PlainSelect,
    )
    measure = forms.ChoiceField(
        choices=MEASURES, required=False, label=_("Heat map shows"), widget=PlainSelect
    )
    # A past period: the gaps as they stood when a campaign closed (its framework version).
    period = PeriodChoiceField(
        queryset=GapSnapshot.objects.none(),
        required=False,
        label=_("Period"),
        empty_label=_("Now"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = GapSnapshot.objects.select_related(  # type: ignore[attr-defined]
            "campaign__framework"
        ).order_by("-campaign__closes_on", "-pk")
        # Roles some role profile asks something of.
        self.fields["role"].queryset = Role.objects.filter(  # type: ignore[attr-defined]
            pk__in=RoleRequirement.objects.values("role_id")
        ).order_by("name")
        for name in ("role", "sex", "measure", "period"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def filters(self, default: Framework) -> GapFilters:
        data = self.cleaned_data if self.is_valid() else {}
        snapshot = data.get("period")
        framework = data.get("framework") or default
        if snapshot is not None:
            # A period was assessed against one framework version: that one.
            framework = snapshot.campaign.framework
        return GapFilters(
            framework=framework,
            role=data.get("role"),
            sex=data.get("sex") or "",
            snapshot=snapshot,
        )

    def chosen_measure(self) -> str:
        value = self.cleaned_data.get("measure") if self.is_valid() else ""
        return value or "share"
