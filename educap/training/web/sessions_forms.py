"""Forms of the session screens: parse input, nothing more."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from educap.org.models import OrgUnit
from educap.people.models import Person, Role, Sex
from educap.training.models import Course, Enrolment, SessionStatus, TrainingSession
from educap.training.selectors.sessions import parse_month
from educap.training.services.sessions import ScheduleDay


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UnitCodeField(forms.CharField):
    """An org unit typed (or picked) by its code."""

    def to_python(self, value: Any) -> OrgUnit | None:  # type: ignore[override]
        code = (super().to_python(value) or "").strip()
        if not code:
            return None
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(
                _("No unit has the code %(code)s."), params={"code": code}, code="unknown_unit"
            )
        return unit


class StaffNumbersField(forms.CharField):
    """Active people by staff number, separated by commas, spaces or new lines."""

    def to_python(self, value: Any) -> list[Person]:  # type: ignore[override]
        text = super().to_python(value) or ""
        numbers = list(dict.fromkeys(n.upper() for n in re.split(r"[\s,;]+", text) if n))
        people = {
            p.staff_number.upper(): p
            for p in Person.objects.filter(staff_number__in=numbers, is_active=True)
        }
        missing = [n for n in numbers if n not in people]
        if missing:
            raise forms.ValidationError(
                _("No active staff member has the number %(numbers)s."),
                params={"numbers": ", ".join(missing)},
                code="unknown_staff",
            )
        return [people[n] for n in numbers]


class SessionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *SessionStatus.choices]
    )
    unit = UnitCodeField(label=_("Organised by (unit and below)"), required=False)
    course = forms.CharField(label=_("Course code"), required=False)
    month = forms.CharField(label=_("Month"), required=False)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for the session_list selector (invalid values are ignored)."""
        if not self.is_valid():
            return {"search": self.data.get("q", "")}
        data = self.cleaned_data
        course = (
            Course.objects.filter(code=data["course"].strip()).first() if data["course"] else None
        )
        return {
            "search": data["q"],
            "status": data["status"],
            "unit": data["unit"],
            "course": course,
            "month": parse_month(data["month"]),
        }


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(
        label=_("Course"), queryset=Course.objects.filter(is_active=True).order_by("code")
    )
    unit = UnitCodeField(label=_("Organised by (unit code)"))
    code = forms.CharField(
        label=_("Session code"),
        max_length=60,
        required=False,
        help_text=_("Leave empty to number it after the course and month."),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=_date())
    ends_on = forms.DateField(label=_("Ends on"), widget=_date())
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10_000)
    venue = forms.CharField(label=_("Venue"), max_length=300, required=False)
    online_url = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")
    facilitators = StaffNumbersField(
        label=_("Facilitators (staff numbers)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    requires_approval = forms.BooleanField(
        label=_("Self-enrolment needs the supervisor's approval"), required=False
    )
    planned_cost = forms.DecimalField(
        label=_("Planned cost"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the course's cost for a full cohort."),
    )
    actual_cost = forms.DecimalField(
        label=_("Actual cost"), min_value=Decimal(0), max_digits=12, decimal_places=2,
        required=False,
    )  # fmt: skip

    def __init__(
        self, *args: Any, session: TrainingSession | None = None, item_id: int | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.session = session
        if session is None:
            del self.fields["actual_cost"]
        else:
            self.fields["code"].disabled = True
            if session.status == SessionStatus.COMPLETED:
                for name, field in self.fields.items():
                    field.disabled = name != "actual_cost"
        if item_id is not None:
            # Started from a training need: courses that develop that competency first.
            courses = Course.objects.filter(is_active=True, competencies__item_id=item_id)
            codes = list(courses.order_by("code").values_list("code", flat=True)[:2])
            if codes:
                self.fields["course"].queryset = courses.order_by("code")  # type: ignore[attr-defined]
            if len(codes) == 1 and not self.is_bound:
                self.initial.setdefault("course", courses.get())

    @classmethod
    def initial_for(cls, session: TrainingSession) -> dict[str, Any]:
        return {
            "course": session.course_id,
            "unit": session.unit.code,
            "code": session.code,
            "starts_on": session.starts_on,
            "ends_on": session.ends_on,
            "capacity": session.capacity,
            "venue": session.venue,
            "online_url": session.online_url,
            "facilitators": " ".join(session.facilitators.values_list("staff_number", flat=True)),
            "requires_approval": session.requires_approval,
            "planned_cost": session.planned_cost,
            "actual_cost": session.actual_cost,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The session cannot end before it starts."))
        return data

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for session_create / session_update (editable fields only)."""
        data = {n: v for n, v in self.cleaned_data.items() if not self.fields[n].disabled}
        data.pop("code", None)
        if self.session is not None and data.get("planned_cost") is None:
            data.pop("planned_cost", None)
        return data


class ScheduleForm(forms.Form):
    """One day of the schedule; `keep` unticked removes it."""

    date = forms.DateField(label=_("Date"), widget=_date(), required=False)
    starts_at = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends_at = forms.TimeField(
        label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    topic = forms.CharField(label=_("Topic"), max_length=300, required=False)
    keep = forms.BooleanField(label=_("Keep"), required=False, initial=True)

    def day(self) -> ScheduleDay | None:
        data = self.cleaned_data
        if not data.get("date") or not data.get("keep"):
            return None
        return ScheduleDay(data["date"], data.get("starts_at"), data.get("ends_at"), data["topic"])


ScheduleFormSet = forms.formset_factory(ScheduleForm, extra=2)


class NominateForm(forms.Form):
    team = forms.ModelMultipleChoiceField(
        label=_("Your team"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people = StaffNumbersField(
        label=_("Staff numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by commas, spaces or new lines."),
    )

    def __init__(self, *args: Any, team: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if team is not None:
            self.fields["team"].queryset = team  # type: ignore[attr-defined]
        else:
            del self.fields["team"]

    def chosen(self) -> list[Person]:
        chosen = list(self.cleaned_data.get("team") or []) + list(self.cleaned_data["people"])
        return list({p.pk: p for p in chosen}.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("team") and not data.get("people"):
            raise forms.ValidationError(_("Choose at least one person."), code="nobody")
        return data


class BulkEnrolForm(forms.Form):
    unit = UnitCodeField(label=_("Unit (and everything under it)"))
    item = forms.TypedChoiceField(label=_("Competency need"), coerce=int, choices=[])
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.order_by("name"), required=False,
        empty_label=_("Every role"),
    )  # fmt: skip
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("", _("Women and men")), *Sex.choices], required=False
    )

    def __init__(self, *args: Any, items: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = items  # type: ignore[attr-defined]


class CompleteForm(forms.Form):
    """Final test scores per enrolled participant (`score_<enrolment id>`), and the cost."""

    completed_on = forms.DateField(label=_("Completed on"), widget=_date())
    actual_cost = forms.DecimalField(
        label=_("Actual cost"), min_value=Decimal(0), max_digits=12, decimal_places=2,
        required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, enrolments: list[Enrolment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enrolments = enrolments
        for enrolment in enrolments:
            self.fields[f"score_{enrolment.pk}"] = forms.IntegerField(
                label=_("Score of %(name)s (%%)") % {"name": enrolment.person.full_name},
                min_value=0,
                max_value=100,
                required=False,
            )

    def scores(self) -> dict[int, int | None]:
        return {e.pk: self.cleaned_data.get(f"score_{e.pk}") for e in self.enrolments}

    def score_field(self, enrolment: Enrolment) -> forms.BoundField:
        return self[f"score_{enrolment.pk}"]
