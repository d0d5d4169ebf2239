"""The demo ministry's training catalogue: `data/catalogue.json`, written in-house in English,
Arabic, French and Lao, mapped to the competencies of the shipped EMIS framework and to the
demo roles (educap.core.demo).

The file holds programmes (code, title, description) and courses (the columns of the catalogue
spreadsheet, see io/catalogue.py, with competencies as {competency code: level} and modules).
`demo_catalogue_load()` goes through the ordinary catalogue import, so the file is checked like
any upload; running it again changes nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from educap.frameworks.models import Framework
from educap.training.io.catalogue import LANGUAGES, CompetencyRef, CourseRecord, Texts
from educap.training.models import Course, Programme
from educap.training.services.catalogue import (
    ModuleInput,
    catalogue_import_apply,
    catalogue_import_plan,
    course_modules_set,
    programme_update,
)

DEMO_CATALOGUE = Path(__file__).resolve().parent / "data" / "catalogue.json"


class DemoCatalogueError(ValueError):
    """The shipped file does not import cleanly (a packaging bug)."""


def demo_catalogue_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    return data


def demo_catalogue_records(*, framework: Framework, data: dict[str, Any]) -> list[CourseRecord]:
    programmes = {p["code"]: p for p in data["programmes"]}
    records = []
    for row, course in enumerate(data["courses"], start=1):
        programme = programmes[course["programme"]]
        records.append(
            CourseRecord(
                code=course["code"],
                title=dict(course["title"]),
                description=dict(course["description"]),
                duration_hours=Decimal(course["duration_hours"]),
                programme=programme["code"],
                programme_title=dict(programme["title"]),
                track=course["track"],
                modality=course["modality"],
                cpd_credits=Decimal(course["cpd_credits"]),
                provider_kind=course["provider_kind"],
                provider_name=course["provider_name"],
                prerequisites=list(course["prerequisites"]),
                target_roles=list(course["target_roles"]),
                competencies=[
                    CompetencyRef(
                        framework=framework.code,
                        version=framework.version,
                        item=code,
                        level=int(level),
                    )
                    for code, level in course["competencies"].items()
                ],
                cost_per_cohort=Decimal(course["cost_per_cohort"]),
                cost_per_participant=Decimal(course["cost_per_participant"]),
                min_attendance_percent=int(course["min_attendance_percent"]),
                pass_mark=course["pass_mark"],
                records_evidence=bool(course["records_evidence"]),
                row=row,
            )
        )
    return records


def _texts_differ(obj: Any, name: str, texts: Texts) -> bool:
    return any((getattr(obj, f"{name}_{lang}", "") or "") != texts.get(lang, "") for lang in texts)


@transaction.atomic
def demo_catalogue_load(*, framework: Framework) -> int:
    """Install the demo catalogue against `framework` (the EMIS framework). Returns how many
    courses were created; a second run creates none and changes nothing."""
    data = demo_catalogue_data()
    plan = catalogue_import_plan(records=demo_catalogue_records(framework=framework, data=data))
    if plan.problems:
        lines = [f"course {p.row} {p.column}: {p.message}" for p in plan.problems[:20]]
        raise DemoCatalogueError("The demo catalogue does not import:\n" + "\n".join(lines))
    result = catalogue_import_apply(actor=None, plan=plan)
    # Programme descriptions and course modules are not spreadsheet columns.
    programmes = {
        p.code: p
        for p in Programme.objects.filter(code__in=[p["code"] for p in data["programmes"]])
    }
    for spec in data["programmes"]:
        programme = programmes[spec["code"]]
        if _texts_differ(programme, "description", spec["description"]):
            programme_update(
                actor=None,
                programme=programme,
                **{f"description_{lang}": text for lang, text in spec["description"].items()},
            )
    codes = [c["code"] for c in data["courses"]]
    courses = {c.code: c for c in Course.objects.filter(code__in=codes)}
    for spec in data["courses"]:
        wanted = [
            ({lang: m["title"].get(lang, "") for lang in LANGUAGES}, Decimal(m["duration_hours"]))
            for m in spec.get("modules", [])
        ]
        course = courses[spec["code"]]
        current = [
            ({lang: getattr(m, f"title_{lang}") or "" for lang in LANGUAGES}, m.duration_hours)
            for m in course.modules.order_by("sequence")
        ]
        if current != wanted:
            course_modules_set(
                actor=None,
                course=course,
                modules=[ModuleInput(title=title, duration_hours=hours) for title, hours in wanted],
            )
    return result.created
