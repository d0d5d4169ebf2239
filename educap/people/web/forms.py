from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from educap.org.models import OrgUnit
from educap.people.models import Person, Role, Sex


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    unit = forms.CharField(label=_("Unit code (and everything under it)"), required=False)
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), required=False, to_field_name="code"
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("Any")), *Sex.choices], required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        choices=[("1", _("Active")), ("0", _("Inactive")), ("", _("Any"))],
        required=False,
        initial="1",
    )

    def clean_unit(self) -> OrgUnit | None:
        code = self.cleaned_data.get("unit", "").strip()
        if not code:
            return None
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(_("No unit has the code %(code)s."), params={"code": code})
        return unit

    @classmethod
    def from_query(cls, query: QueryDict) -> PersonFilterForm:
        """The filters of a list or export URL; active staff unless it says otherwise."""
        data = query.copy()
        data.setdefault("active", "1")
        return cls(data)

    def selector_filters(self) -> dict[str, Any]:
        """Keyword arguments for person_list: invalid filters are simply not applied."""
        filters = self.cleaned_data if self.is_valid() else {}
        active = filters.get("active", "1")
        return {
            "unit": filters.get("unit"),
            "role": filters.get("role"),
            "sex": filters.get("sex") or None,
            "active": None if active == "" else active == "1",
            "search": filters.get("q", ""),
        }


class PersonForm(forms.Form):
    """Staff record fields; the first post is added when the person is created."""

    staff_number = forms.CharField(label=_("Staff number"), max_length=40)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    name_local = forms.CharField(label=_("Name in local script"), max_length=200, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices])
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, min_value=1930)
    hire_date = forms.DateField(
        label=_("Hire date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    national_id = forms.CharField(label=_("National id"), max_length=40, required=False)


class NewPersonForm(PersonForm):
    unit = forms.CharField(label=_("Unit"))
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), to_field_name="code"
    )
    supervisor = forms.CharField(label=_("Supervisor's staff number"), required=False)
    start_date = forms.DateField(
        label=_("In this post since"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_unit(self) -> OrgUnit:
        code = self.cleaned_data["unit"].strip()
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(_("No unit has the code %(code)s."), params={"code": code})
        return unit

    def clean_supervisor(self) -> Person | None:
        number = self.cleaned_data.get("supervisor", "").strip()
        if not number:
            return None
        supervisor = Person.objects.filter(staff_number=number).first()
        if supervisor is None:
            raise forms.ValidationError(
                _("Nobody has the staff number %(number)s."), params={"number": number}
            )
        return supervisor
