"""Forms of the CPD pages: parse input, nothing more (the services check the rules)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from educap.people.models import Role, Sex
from educap.training.models import CpdStatus
from educap.training.selectors.cpd import cpd_years
from educap.training.services.cpd import EXTERNAL_KINDS, MAX_CREDITS, MAX_HOURS, MAX_REQUIRED

EXTERNAL_CHOICES = [(kind.value, kind.label) for kind in EXTERNAL_KINDS]
EVIDENCE_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def _year_choices() -> list[tuple[str, str]]:
    return [(str(y), str(y)) for y in cpd_years()]


def _decimal_widget() -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": "0.1", "min": "0", "inputmode": "decimal"})


def chosen_year(form: forms.Form, name: str = "year") -> int:
    """The year a filter form asks for, this year when none (or an invalid one) is given."""
    if form.is_valid() and form.cleaned_data.get(name):
        return int(form.cleaned_data[name])
    return timezone.localdate().year


class StyledForm(forms.Form):
    """Bootstrap classes on every control, and `is-invalid` on those with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css
            if type(widget) is forms.TextInput:  # typed text, not dates or numbers
                widget.attrs.setdefault("dir", "auto")

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # Errors raised later by a service come through here too.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                css = widget.attrs.get("class", "")
                if "is-invalid" not in css.split():
                    widget.attrs["class"] = f"{css} is-invalid".strip()


class CpdSubmitForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind of learning"), choices=EXTERNAL_CHOICES)
    title = forms.CharField(label=_("Title"), max_length=300)
    provider = forms.CharField(
        label=_("Provider"),
        max_length=200,
        required=False,
        help_text=_("The university, organisation or platform that ran it."),
    )
    completed_on = forms.DateField(
        label=_("Completed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    hours = forms.DecimalField(
        label=_("Hours"),
        required=False,
        min_value=Decimal(0),
        max_value=MAX_HOURS,
        max_digits=6,
        decimal_places=1,
        widget=_decimal_widget(),
    )
    credits = forms.DecimalField(
        label=_("Credits"),
        required=False,
        min_value=Decimal(0),
        max_value=MAX_CREDITS,
        max_digits=6,
        decimal_places=1,
        widget=_decimal_widget(),
        help_text=_("Only when the provider awards credits."),
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_("A certificate, transcript or attendance proof: PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["completed_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class CpdRecordFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), choices=(), coerce=int, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any")), *CpdStatus.choices], required=False
    )
    q = forms.CharField(label=_("Search"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()  # type: ignore[attr-defined]

    @classmethod
    def from_query(cls, query: QueryDict) -> CpdRecordFilterForm:
        data = query.copy()
        data.setdefault("year", str(timezone.localdate().year))
        return cls(data)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {"status": data.get("status", ""), "search": data.get("q", "")}


class ApprovalFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any")), *EXTERNAL_CHOICES], required=False
    )

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {"search": data.get("q", ""), "kind": data.get("kind", "")}


class CpdDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ComplianceFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), choices=(), coerce=int, required=False)
    role = forms.ModelChoiceField(
        label=_("Role"),
        queryset=Role.objects.none(),
        required=False,
        empty_label=_("All roles"),
        to_field_name="code",
    )
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("", _("Women and men")), *Sex.choices], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()  # type: ignore[attr-defined]
        self.fields["role"].queryset = Role.objects.order_by("name")  # type: ignore[attr-defined]
        for name in ("year", "role", "sex"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "year": chosen_year(self),
            "role": data.get("role"),
            "sex": data.get("sex") or "",
        }


class StaffProgressFilterForm(forms.Form):
    q = forms.CharField(label=_("Search staff"), max_length=100, required=False)
    state = forms.ChoiceField(
        label=_("Progress"),
        choices=[
            ("", _("Everyone")),
            ("behind", _("Not yet compliant")),
            ("compliant", _("Compliant")),
        ],
        required=False,
    )

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {"search": data.get("q", ""), "state": data.get("state", "")}


class RequirementFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), choices=(), coerce=int, required=False)
    q = forms.CharField(label=_("Search roles"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()  # type: ignore[attr-defined]


class CpdRequirementForm(forms.Form):
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), to_field_name="code"
    )
    year = forms.TypedChoiceField(label=_("Year"), choices=(), coerce=int)
    hours = forms.DecimalField(
        label=_("Hours"),
        required=False,
        min_value=Decimal(0),
        max_value=MAX_REQUIRED,
        max_digits=6,
        decimal_places=1,
        widget=_decimal_widget(),
    )
    credits = forms.DecimalField(
        label=_("Credits"),
        required=False,
        min_value=Decimal(0),
        max_value=MAX_REQUIRED,
        max_digits=6,
        decimal_places=1,
        widget=_decimal_widget(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()  # type: ignore[attr-defined]
