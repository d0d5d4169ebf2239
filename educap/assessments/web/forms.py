"""Forms of the campaign and answering screens: parse input, nothing more."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from educap.assessments.models import Campaign, CampaignStatus, PeerChooser, Survey
from educap.frameworks.models import Framework, FrameworkStatus
from educap.org.models import OrgUnit
from educap.people.models import Person, Role

LANGS = (("en", _("English")), ("ar", _("Arabic")), ("fr", _("French")), ("lo", _("Lao")))
TEXT_FIELDS = tuple(f"{name}_{lang}" for lang, _label in LANGS for name in ("title", "description"))
# What stays editable once a campaign is open.
OPEN_FIELDS = {"closes_on", *TEXT_FIELDS}


class ManyValuesInput(forms.Widget):
    """Several inputs of the same name (one unit picker each)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else data.get(name, [])
        return [v.strip() for v in values if v and v.strip()]


class UnitCodesField(forms.Field):
    widget = ManyValuesInput

    def to_python(self, value: Any) -> list[OrgUnit]:
        codes = list(dict.fromkeys(value or []))
        units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in units]
        if missing:
            raise forms.ValidationError(
                _("No unit has the code %(codes)s."), params={"codes": ", ".join(missing)}
            )
        return [units[c] for c in codes]


class StaffNumbersField(forms.CharField):
    def to_python(self, value: Any) -> list[Person]:  # type: ignore[override]
        text = super().to_python(value) or ""
        numbers = list(dict.fromkeys(n.strip() for n in text.replace("\n", ",").split(",")))
        numbers = [n for n in numbers if n]
        people = {p.staff_number: p for p in Person.objects.filter(staff_number__in=numbers)}
        missing = [n for n in numbers if n not in people]
        if missing:
            raise forms.ValidationError(
                _("No staff member has the number %(numbers)s."),
                params={"numbers": ", ".join(missing)},
            )
        return [people[n] for n in numbers]


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=60)
    framework = forms.ModelChoiceField(
        label=_("Framework version"),
        queryset=Framework.objects.filter(status=FrameworkStatus.PUBLISHED).order_by(
            "code", "-published_at"
        ),
    )
    opens_on = forms.DateField(label=_("Opens on"), widget=_date())
    closes_on = forms.DateField(label=_("Closes on"), widget=_date())
    target_units = UnitCodesField(label=_("Org units (with everything under them)"), required=False)
    target_roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Everyone in the units when no role is ticked."),
    )
    target_people = StaffNumbersField(
        label=_("Named people (staff numbers, comma-separated)"), required=False
    )
    collect_self = forms.BooleanField(label=_("Self rating"), required=False)
    collect_supervisor = forms.BooleanField(label=_("Supervisor rating"), required=False)
    collect_peer = forms.BooleanField(label=_("Peer / 360 rating"), required=False)
    peer_count = forms.IntegerField(label=_("Peers per person"), min_value=1, max_value=10)
    peer_chooser = forms.ChoiceField(label=_("Peers chosen by"), choices=PeerChooser.choices)
    collect_test = forms.BooleanField(label=_("Knowledge test"), required=False)
    test_items_per_competency = forms.IntegerField(
        label=_("Test questions per competency"), min_value=1, max_value=20
    )
    test_time_limit_minutes = forms.IntegerField(
        label=_("Test time limit (minutes)"),
        min_value=1,
        required=False,
        help_text=_("Empty for no time limit."),
    )
    collect_survey = forms.BooleanField(label=_("Survey questions"), required=False)
    survey = forms.ModelChoiceField(
        label=_("Survey"), queryset=Survey.objects.order_by("code"), required=False
    )
    supervisor_sees_self = forms.BooleanField(
        label=_("Supervisors see the self rating before rating"), required=False
    )

    def __init__(self, *args: Any, campaign: Campaign | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for lang, name in LANGS:
            self.fields[f"title_{lang}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": name},
                max_length=300,
                required=lang == "en",
            )
            self.fields[f"description_{lang}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.campaign = campaign
        if campaign is not None and campaign.status != CampaignStatus.DRAFT:
            for name, field in self.fields.items():
                if name not in OPEN_FIELDS:
                    field.disabled = True

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict[str, Any]:
        names = [n for n in cls.base_fields if not n.startswith("target_")]
        initial: dict[str, Any] = {n: getattr(campaign, n) for n in names}
        initial.update({n: getattr(campaign, n) for n in TEXT_FIELDS})
        initial["target_units"] = [u.code for u in campaign.target_units.all()]
        initial["target_roles"] = list(campaign.target_roles.all())
        initial["target_people"] = ", ".join(
            campaign.target_people.values_list("staff_number", flat=True)
        )
        return initial

    def unit_codes(self) -> list[str]:
        """The codes to show in the pickers (what was typed, or what is saved)."""
        value = self["target_units"].value() or []
        return [getattr(v, "code", v) for v in value]

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for campaign_create / campaign_update (only editable ones)."""
        return {n: v for n, v in self.cleaned_data.items() if not self.fields[n].disabled}


class RatingForm(forms.Form):
    """One competency of the rating form. `level` is a scale value or "na" (cannot judge)."""

    level = forms.CharField(required=False)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea)
    evidence = forms.CharField(label=_("Evidence"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, values: list[int], allow_na: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.values = values
        self.allow_na = allow_na

    def clean_level(self) -> int | str | None:
        raw = (self.cleaned_data.get("level") or "").strip()
        if raw == "":
            return ""
        if raw == "na" and self.allow_na:
            return None
        if raw.isdigit() and int(raw) in self.values:
            return int(raw)
        raise forms.ValidationError(_("Choose one of the levels."))


class PeerForm(forms.Form):
    peers = forms.ModelMultipleChoiceField(
        label=_("Peers"), queryset=Person.objects.filter(is_active=True)
    )
