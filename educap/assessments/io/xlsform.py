"""A campaign as an XLSForm for ODK Collect / KoboCollect (survey, choices and settings sheets).

Pure serialisation: `educap.assessments.submissions.campaign_form_spec` reads the database
into a `FormSpec`; `workbook_bytes` writes it with openpyxl. pyxform turns the workbook into
the XForm that ODK Central or KoboToolbox serve to phones.

How a data collector finds the person rated (every list is a cascading `choice_filter`):

1. governorate — units one level below the ministry; the ministry itself is offered too
   when people work there;
2. district — the districts of that governorate, plus the governorate's own office;
3. office or school — every unit in the chosen district at any depth (schools, but also
   the district office itself), so staff at any level are reachable;
4. person — the active people of that unit who are rated in the campaign.

The person choice carries the code of the person's role profile; a calculate reads it
(`instance('persons')/root/item[name=${person}]/profile`) and each competency is only
asked when that profile requires it. Field names are stable functions of codes
(`competency_field`, `question_field`), which is how `io/odk.py` maps export columns back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from openpyxl import Workbook

# Text in several languages: {"en": "...", "ar": "...", "fr": "...", "lo": "..."}.
Texts = dict[str, str]
LANGUAGES = (("en", "English"), ("ar", "Arabic"), ("fr", "French"), ("lo", "Lao"))
LABEL_COLUMNS = [f"label::{name} ({code})" for code, name in LANGUAGES]
HINT_COLUMNS = [f"hint::{name} ({code})" for code, name in LANGUAGES]
DEFAULT_LANGUAGE = "English (en)"

# Fixed field names of the form (competency and question fields carry a prefix, so they
# can never collide with these).
GOVERNORATE, DISTRICT, OFFICE, PERSON = "governorate", "district", "office", "person"
PROFILE, SOURCE, RATER = "profile", "source", "rater"
SOURCE_SURVEY_ONLY = "survey"  # offered as a source when the campaign collects no self rating
LIKERT_LIST = "likert5"
LEVEL_LIST = "levels"

_NAME_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _safe(code: str) -> str:
    return _NAME_SAFE.sub("_", code)


def competency_field(code: str) -> str:
    """XLSForm field name of a competency (XML names cannot start with a digit)."""
    return f"c_{_safe(code)}"


def question_field(code: str) -> str:
    return f"q_{_safe(code)}"


def domain_group(code: str) -> str:
    return f"d_{_safe(code)}"


def section_group(code: str) -> str:
    return f"s_{_safe(code)}"


@dataclass(frozen=True)
class UnitChoice:
    code: str
    name: Texts
    parent: str  # the governorate (for districts) or district (for offices) it is listed under


@dataclass(frozen=True)
class PersonChoice:
    staff_number: str
    name: str
    unit: str  # the office/school code the person is listed under
    profile: str  # role profile code; decides the competencies asked


@dataclass(frozen=True)
class CompetencySpec:
    code: str
    statement: Texts
    profiles: frozenset[str]  # profile codes requiring it


@dataclass(frozen=True)
class DomainSpec:
    code: str
    statement: Texts
    competencies: tuple[CompetencySpec, ...]


@dataclass(frozen=True)
class ChoiceSpec:
    code: str
    label: Texts


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    kind: str  # single / multiple / likert / number / text
    text: Texts
    hint: Texts = field(default_factory=dict)
    required: bool = False
    min_value: str = ""
    max_value: str = ""
    choices: tuple[ChoiceSpec, ...] = ()


@dataclass(frozen=True)
class SectionSpec:
    code: str
    title: Texts
    questions: tuple[QuestionSpec, ...]


@dataclass
class FormSpec:
    form_id: str
    version: str
    title: Texts
    # UI texts of the form, already translated: key -> Texts (see `UI_KEYS`).
    ui: dict[str, Texts]
    sources: list[ChoiceSpec]
    levels: list[ChoiceSpec]  # code = the level's numeric value
    governorates: list[UnitChoice]
    districts: list[UnitChoice]
    offices: list[UnitChoice]
    persons: list[PersonChoice]
    domains: list[DomainSpec]
    sections: list[SectionSpec] = field(default_factory=list)
    likert: list[ChoiceSpec] = field(default_factory=list)


UI_KEYS = (
    "governorate",
    "district",
    "office",
    "person",
    "source",
    "rater",
    "rater_hint",
    "competencies",
)


class XLSFormError(ValueError):
    """The campaign cannot be written as a form (e.g. duplicate field names)."""


def _texts(texts: Texts) -> list[str]:
    """One cell per language; an empty translation falls back to English."""
    english = texts.get("en", "")
    return [texts.get(code) or english for code, _name in LANGUAGES]


def _or(field_name: str, values: Iterable[str]) -> str:
    return " or ".join(f"${{{field_name}}} = '{v}'" for v in sorted(values))


def _quote_ok(value: str) -> str:
    if "'" in value:
        raise XLSFormError(f"Code {value!r} cannot be used in a form expression.")
    return value


def survey_rows(spec: FormSpec) -> list[list[str]]:
    """Rows of the `survey` sheet (columns: `SURVEY_HEADER`)."""
    rows: list[list[str]] = []
    ui = spec.ui

    def row(
        kind: str,
        name: str,
        label: Texts | None = None,
        hint: Texts | None = None,
        *,
        required: bool = False,
        relevant: str = "",
        calculation: str = "",
        choice_filter: str = "",
        constraint: str = "",
        appearance: str = "",
    ) -> None:
        rows.append(
            [
                kind,
                name,
                *(_texts(label) if label else [""] * len(LANGUAGES)),
                *(_texts(hint) if hint else [""] * len(LANGUAGES)),
                "yes" if required else "",
                relevant,
                calculation,
                choice_filter,
                constraint,
                appearance,
            ]
        )

    row("start", "start")
    row("end", "end")
    row("select_one governorates", GOVERNORATE, ui["governorate"], required=True)
    row(
        "select_one districts",
        DISTRICT,
        ui["district"],
        required=True,
        choice_filter=f"parent=${{{GOVERNORATE}}}",
    )
    row(
        "select_one offices",
        OFFICE,
        ui["office"],
        required=True,
        choice_filter=f"parent=${{{DISTRICT}}}",
    )
    row(
        "select_one persons",
        PERSON,
        ui["person"],
        required=True,
        choice_filter=f"unit=${{{OFFICE}}}",
        appearance="autocomplete",
    )
    row(
        "calculate",
        PROFILE,
        calculation=f"instance('persons')/root/item[name=${{{PERSON}}}]/profile",
    )
    row("select_one sources", SOURCE, ui["source"], required=True)
    source_codes = {s.code for s in spec.sources}
    if "supervisor" in source_codes:
        row(
            "text",
            RATER,
            ui["rater"],
            ui["rater_hint"],
            relevant=f"${{{SOURCE}}} = 'supervisor'",
        )
    rating_sources = sorted(source_codes & {"self", "supervisor"})
    if rating_sources and spec.domains:
        for domain in spec.domains:
            row(
                "begin group",
                domain_group(domain.code),
                domain.statement,
                relevant=_or(SOURCE, rating_sources),
            )
            for competency in domain.competencies:
                profiles = [_quote_ok(p) for p in competency.profiles]
                row(
                    f"select_one {LEVEL_LIST}",
                    competency_field(competency.code),
                    {
                        lang: f"{competency.code} {text}" if text else ""
                        for lang, text in {"en": "", **competency.statement}.items()
                    }
                    | ({} if competency.statement.get("en") else {"en": competency.code}),
                    required=True,
                    relevant=_or(PROFILE, profiles) if profiles else "false()",
                )
            row("end group", domain_group(domain.code))
    survey_sources = sorted(source_codes & {"self", SOURCE_SURVEY_ONLY})
    for section in spec.sections:
        row(
            "begin group",
            section_group(section.code),
            section.title,
            relevant=_or(SOURCE, survey_sources),
        )
        for q in section.questions:
            name = question_field(q.code)
            constraint = ""
            if q.kind == "single":
                kind = f"select_one {name}"
            elif q.kind == "multiple":
                kind = f"select_multiple {name}"
            elif q.kind == "likert":
                kind = f"select_one {LIKERT_LIST}"
            elif q.kind == "number":
                kind = "decimal"
                bounds = []
                if q.min_value:
                    bounds.append(f". >= {q.min_value}")
                if q.max_value:
                    bounds.append(f". <= {q.max_value}")
                constraint = " and ".join(bounds)
            else:
                kind = "text"
            row(kind, name, q.text, q.hint, required=q.required, constraint=constraint)
        row("end group", section_group(section.code))
    return rows


SURVEY_HEADER = [
    "type",
    "name",
    *LABEL_COLUMNS,
    *HINT_COLUMNS,
    "required",
    "relevant",
    "calculation",
    "choice_filter",
    "constraint",
    "appearance",
]
CHOICES_HEADER = ["list_name", "name", *LABEL_COLUMNS, "parent", "unit", "profile"]


def choice_rows(spec: FormSpec) -> list[list[str]]:
    rows: list[list[str]] = []

    def add(list_name: str, name: str, label: Texts, parent: str = "", unit: str = "") -> None:
        rows.append([list_name, name, *_texts(label), parent, unit, ""])

    for source in spec.sources:
        add("sources", source.code, source.label)
    for level in spec.levels:
        add(LEVEL_LIST, level.code, level.label)
    for c in spec.likert:
        add(LIKERT_LIST, c.code, c.label)
    for unit in spec.governorates:
        add("governorates", unit.code, unit.name, parent=unit.parent)
    for unit in spec.districts:
        add("districts", unit.code, unit.name, parent=unit.parent)
    for unit in spec.offices:
        add("offices", unit.code, unit.name, parent=unit.parent)
    for person in spec.persons:
        rows.append(
            [
                "persons",
                person.staff_number,
                *[person.name] * len(LANGUAGES),
                "",
                person.unit,
                person.profile,
            ]
        )
    for section in spec.sections:
        for q in section.questions:
            if q.kind in ("single", "multiple"):
                for choice in q.choices:
                    add(question_field(q.code), choice.code, choice.label)
    return rows


def _check_names(spec: FormSpec) -> None:
    names = [competency_field(c.code) for d in spec.domains for c in d.competencies]
    names += [question_field(q.code) for s in spec.sections for q in s.questions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise XLSFormError(f"Codes give the same form field name: {', '.join(duplicates)}")
    for person in spec.persons:
        if " " in person.staff_number:
            raise XLSFormError(f"Staff number {person.staff_number!r} contains a space.")


def workbook_bytes(spec: FormSpec) -> bytes:
    """The XLSForm workbook (survey, choices, settings) as .xlsx bytes."""
    _check_names(spec)
    book = Workbook(write_only=True)
    survey = book.create_sheet("survey")
    survey.append(SURVEY_HEADER)
    for r in survey_rows(spec):
        survey.append(r)
    choices = book.create_sheet("choices")
    choices.append(CHOICES_HEADER)
    for r in choice_rows(spec):
        choices.append(r)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(
        [spec.title.get("en") or spec.form_id, spec.form_id, spec.version, DEFAULT_LANGUAGE]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
