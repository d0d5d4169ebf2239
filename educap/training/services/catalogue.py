"""Writes to the training catalogue: programmes, courses, the competencies a course develops,
its prerequisites, modules and materials, and the CSV/XLSX import.

Only catalogue managers write (system administrators and central officers, see
`permissions.can_manage_catalogue`); `actor=None` is the system (commands, the demo loader).
Every write is atomic, validated with `full_clean()` and audited.
"""

from __future__ import annotations

import codecs
import copy
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ItemKind,
    ScaleLevel,
)
from educap.people.models import Role
from educap.training.io.catalogue import LANGUAGES, CourseRecord, Problem, Texts
from educap.training.models import (
    Course,
    CourseCompetency,
    CourseMaterial,
    CourseModule,
    Programme,
)
from educap.training.permissions import can_manage_catalogue
from educap.training.selectors.catalogue import catalogue_record_queryset

if TYPE_CHECKING:
    from educap.accounts.models import User


class CatalogueErrorCode(StrEnum):
    NOT_ALLOWED = "catalogue_not_allowed"
    TITLE_MISSING = "catalogue_title_missing"
    PREREQUISITE_SELF = "course_prerequisite_self"
    PREREQUISITE_CYCLE = "course_prerequisite_cycle"
    NOT_A_COMPETENCY = "course_competency_not_a_competency"
    FRAMEWORK_RETIRED = "course_competency_framework_retired"
    LEVEL_NOT_ON_SCALE = "course_competency_level_not_on_scale"
    COMPETENCY_REPEATED = "course_competency_repeated"
    MODULE_UNKNOWN = "course_module_unknown"
    MATERIAL_FILE_OR_LINK = "material_file_or_link"
    MATERIAL_TOO_LARGE = "material_file_too_large"
    MATERIAL_TYPE = "material_file_type"
    MATERIAL_CONTENT = "material_file_content"
    IMPORT_PROBLEMS = "catalogue_import_has_problems"
    PROGRAMME_UNKNOWN = "catalogue_programme_unknown"
    ROLE_UNKNOWN = "catalogue_role_unknown"
    COURSE_UNKNOWN = "catalogue_course_unknown"
    FRAMEWORK_UNKNOWN = "catalogue_framework_unknown"
    COMPETENCY_UNKNOWN = "catalogue_competency_unknown"
    PROGRAMME_CONFLICT = "catalogue_programme_titles_differ"


def _translated(*names: str) -> tuple[str, ...]:
    return tuple(f"{name}_{lang}" for name in names for lang in LANGUAGES)


PROGRAMME_FIELDS = ("code", *_translated("title", "description"), "is_active")
COURSE_FIELDS = (
    "code",
    "programme",
    *_translated("title", "description"),
    "track",
    "modality",
    "duration_hours",
    "cpd_credits",
    "provider_kind",
    "provider_name",
    "cost_per_cohort",
    "cost_per_participant",
    "min_attendance_percent",
    "pass_mark",
    "records_evidence",
    "is_active",
)
# Frameworks whose competencies a course may develop.
LIVE_FRAMEWORK_STATUSES = (FrameworkStatus.PUBLISHED, FrameworkStatus.DRAFT)


def catalogue_manage_allowed(*, user: User | None) -> bool:
    """System administrators and central officers run the catalogue; None is the system."""
    return user is None or can_manage_catalogue(user)


def _require_manager(actor: User | None) -> None:
    if not catalogue_manage_allowed(user=actor):
        raise PermissionDenied(CatalogueErrorCode.NOT_ALLOWED)


def _check_fields(fields: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown {what} fields: {sorted(unknown)}")


def _require_english_title(obj: Programme | Course | CourseModule, field: str = "title_en") -> None:
    if not (getattr(obj, field, None) or "").strip():
        raise field_error(field, _("Give the title in English."), CatalogueErrorCode.TITLE_MISSING)


# --- programmes --------------------------------------------------------------------------


@transaction.atomic
def programme_create(*, actor: User | None, **fields: Any) -> Programme:
    """A new programme; `fields` are PROGRAMME_FIELDS (code and title_en required)."""
    _require_manager(actor)
    _check_fields(fields, PROGRAMME_FIELDS, "programme")
    programme = Programme(**fields)
    _require_english_title(programme)
    programme.full_clean()
    programme.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=programme, after=snapshot(programme)
    )
    return programme


@transaction.atomic
def programme_update(*, actor: User | None, programme: Programme, **fields: Any) -> Programme:
    _require_manager(actor)
    _check_fields(fields, PROGRAMME_FIELDS, "programme")
    before = snapshot(programme)
    for name, value in fields.items():
        setattr(programme, name, value)
    _require_english_title(programme)
    programme.full_clean()
    programme.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=programme,
        before=before,
        after=snapshot(programme),
    )
    return programme


# --- courses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyTarget:
    """A competency (a framework item) and the level the course brings a learner to."""

    item: FrameworkItem
    level: int


@dataclass(frozen=True)
class ModuleInput:
    """One module, in order. `pk` keeps an existing module (of the same course)."""

    title: Texts
    description: Texts = field(default_factory=dict)
    duration_hours: Decimal | None = None
    pk: int | None = None


def _course_snapshot(course: Course) -> dict[str, Any]:
    data = snapshot(course, [f for f in COURSE_FIELDS if f != "programme"])
    data["programme"] = course.programme.code if course.programme else None
    data["prerequisites"] = sorted(course.prerequisites.values_list("code", flat=True))
    data["target_roles"] = sorted(course.target_roles.values_list("code", flat=True))
    data["competencies"] = sorted(
        f"{framework}@{version}:{item}={level}"
        for framework, version, item, level in course.competencies.values_list(
            "item__framework__code", "item__framework__version", "item__code", "level"
        )
    )
    data["modules"] = [
        title or ""
        for title in course.modules.order_by("sequence").values_list("title_en", flat=True)
    ]
    return data


def _save_course(course: Course) -> None:
    _require_english_title(course)
    course.full_clean()
    course.save()


@transaction.atomic
def course_create(
    *,
    actor: User | None,
    prerequisites: Iterable[Course] = (),
    target_roles: Iterable[Role] = (),
    competencies: Sequence[CompetencyTarget] = (),
    modules: Sequence[ModuleInput] = (),
    **fields: Any,
) -> Course:
    """A new course; `fields` are COURSE_FIELDS (code, title_en and duration_hours required)."""
    _require_manager(actor)
    _check_fields(fields, COURSE_FIELDS, "course")
    course = Course(**fields)
    _save_course(course)
    _set_prerequisites(course, list(prerequisites))
    course.target_roles.set(list(target_roles))
    _set_competencies(course, competencies)
    _set_modules(course, modules)
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=course, after=_course_snapshot(course)
    )
    return course


@transaction.atomic
def course_update(
    *,
    actor: User | None,
    course: Course,
    prerequisites: Iterable[Course] | None = None,
    target_roles: Iterable[Role] | None = None,
    competencies: Sequence[CompetencyTarget] | None = None,
    modules: Sequence[ModuleInput] | None = None,
    **fields: Any,
) -> Course:
    """Change a course; related lists given (not None) replace what the course has."""
    _require_manager(actor)
    _check_fields(fields, COURSE_FIELDS, "course")
    before = _course_snapshot(course)
    for name, value in fields.items():
        setattr(course, name, value)
    _save_course(course)
    if prerequisites is not None:
        _set_prerequisites(course, list(prerequisites))
    if target_roles is not None:
        course.target_roles.set(list(target_roles))
    if competencies is not None:
        _set_competencies(course, competencies)
    if modules is not None:
        _set_modules(course, modules)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=course,
        before=before,
        after=_course_snapshot(course),
    )
    return course


@transaction.atomic
def course_deactivate(*, actor: User | None, course: Course) -> Course:
    """Take a course out of the catalogue; its sessions, enrolments and history stay."""
    _require_manager(actor)
    if not course.is_active:
        return course
    course.is_active = False
    course.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=course,
        before={"is_active": True},
        after={"is_active": False},
    )
    return course


@transaction.atomic
def course_competencies_set(
    *, actor: User | None, course: Course, competencies: Sequence[CompetencyTarget]
) -> list[CourseCompetency]:
    """Replace the competencies the course develops and the level it brings each to."""
    _require_manager(actor)
    before = _course_snapshot(course)["competencies"]
    links = _set_competencies(course, competencies)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=course,
        before={"competencies": before},
        after={"competencies": _course_snapshot(course)["competencies"]},
    )
    return links


@transaction.atomic
def course_prerequisites_set(
    *, actor: User | None, course: Course, prerequisites: Iterable[Course]
) -> None:
    """Replace the courses to complete first (not the course itself, never a cycle)."""
    _require_manager(actor)
    before = sorted(course.prerequisites.values_list("code", flat=True))
    _set_prerequisites(course, list(prerequisites))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=course,
        before={"prerequisites": before},
        after={"prerequisites": sorted(course.prerequisites.values_list("code", flat=True))},
    )


@transaction.atomic
def course_modules_set(
    *, actor: User | None, course: Course, modules: Sequence[ModuleInput]
) -> list[CourseModule]:
    """Replace the course's modules, in the order given."""
    _require_manager(actor)
    before = _course_snapshot(course)["modules"]
    saved = _set_modules(course, modules)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=course,
        before={"modules": before},
        after={"modules": [getattr(m, "title_en", "") for m in saved]},
    )
    return saved


def competency_check(competencies: Sequence[CompetencyTarget]) -> None:
    """Each target is a competency of a published or draft framework, at a level of its scale,
    and named once."""
    items = [target.item for target in competencies]
    scale_levels: dict[int, set[int]] = defaultdict(set)
    scale_ids = {item.framework.scale_id for item in items}
    for scale_id, value in ScaleLevel.objects.filter(scale_id__in=scale_ids).values_list(
        "scale_id", "value"
    ):
        scale_levels[scale_id].add(value)
    seen: set[int] = set()
    for target in competencies:
        item = target.item
        if item.kind != ItemKind.COMPETENCY:
            raise field_error(
                "competencies",
                _("%(code)s is a domain, not a competency.") % {"code": item.code},
                CatalogueErrorCode.NOT_A_COMPETENCY,
            )
        if item.framework.status not in LIVE_FRAMEWORK_STATUSES:
            raise field_error(
                "competencies",
                _("%(code)s belongs to a retired framework version.") % {"code": item.code},
                CatalogueErrorCode.FRAMEWORK_RETIRED,
            )
        levels = scale_levels[item.framework.scale_id]
        if target.level not in levels:
            raise field_error(
                "competencies",
                _("Level %(level)s is not on the scale of %(code)s (levels %(levels)s).")
                % {
                    "level": target.level,
                    "code": item.code,
                    "levels": ", ".join(str(v) for v in sorted(levels)),
                },
                CatalogueErrorCode.LEVEL_NOT_ON_SCALE,
            )
        if item.pk in seen:
            raise field_error(
                "competencies",
                _("%(code)s is listed twice.") % {"code": item.code},
                CatalogueErrorCode.COMPETENCY_REPEATED,
            )
        seen.add(item.pk)


def _set_competencies(
    course: Course, competencies: Sequence[CompetencyTarget]
) -> list[CourseCompetency]:
    competency_check(competencies)
    wanted = {target.item.pk: target.level for target in competencies}
    existing = {link.item_id: link for link in course.competencies.all()}
    course.competencies.exclude(item_id__in=list(wanted)).delete()
    links: list[CourseCompetency] = []
    for target in competencies:
        link = existing.get(target.item.pk)
        if link is None:
            link = CourseCompetency.objects.create(
                course=course, item=target.item, level=target.level
            )
        elif link.level != target.level:
            link.level = target.level
            link.save(update_fields=["level"])
        links.append(link)
    return links


K = TypeVar("K", bound=Hashable)


def find_cycle(graph: Mapping[K, Iterable[K]]) -> list[K] | None:
    """A cycle `[a, b, ..., a]` in a directed graph (node → the nodes it points to), or None.

    Iterative depth-first search: the graph of a large catalogue would overflow recursion.
    """
    state: dict[K, int] = {}  # 1 on the current path, 2 done
    for root in list(graph):
        if state.get(root):
            continue
        path: list[K] = [root]
        stack: list[Iterator[K]] = [iter(graph.get(root, ()))]
        state[root] = 1
        while stack:
            try:
                nxt = next(stack[-1])
            except StopIteration:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return None


def _prerequisite_graph() -> dict[str, set[str]]:
    """Course code → codes of its prerequisites, for the whole catalogue."""
    graph: dict[str, set[str]] = defaultdict(set)
    through = Course.prerequisites.through
    for course_code, prerequisite_code in through.objects.values_list(
        "from_course__code", "to_course__code"
    ):
        graph[course_code].add(prerequisite_code)
    return graph


def _set_prerequisites(course: Course, prerequisites: list[Course]) -> None:
    codes = {p.code for p in prerequisites}
    if course.pk in {p.pk for p in prerequisites}:
        raise field_error(
            "prerequisites",
            _("A course cannot be its own prerequisite."),
            CatalogueErrorCode.PREREQUISITE_SELF,
        )
    graph = _prerequisite_graph()
    graph[course.code] = codes
    cycle = find_cycle(graph)
    if cycle is not None:
        if course.code in cycle:  # start the story at the course being edited
            at = cycle.index(course.code)
            cycle = [*cycle[at:-1], *cycle[:at], course.code]
        raise field_error(
            "prerequisites",
            _("These prerequisites would go round in a circle: %(cycle)s.")
            % {"cycle": " → ".join(cycle)},
            CatalogueErrorCode.PREREQUISITE_CYCLE,
        )
    course.prerequisites.set(prerequisites)


def _set_modules(course: Course, modules: Sequence[ModuleInput]) -> list[CourseModule]:
    existing = {module.pk: module for module in course.modules.all()}
    saved: list[CourseModule] = []
    for sequence, data in enumerate(modules, start=1):
        if data.pk is not None and data.pk not in existing:
            raise field_error(
                "modules",
                _("That module is not part of this course."),
                CatalogueErrorCode.MODULE_UNKNOWN,
            )
        module = existing[data.pk] if data.pk is not None else CourseModule(course=course)
        module.sequence = sequence
        for lang in LANGUAGES:
            setattr(module, f"title_{lang}", data.title.get(lang, "").strip())
            setattr(module, f"description_{lang}", data.description.get(lang, "").strip())
        module.duration_hours = data.duration_hours
        if not getattr(module, "title_en", ""):
            raise field_error(
                "modules",
                _("Module %(number)s needs a title in English.") % {"number": sequence},
                CatalogueErrorCode.TITLE_MISSING,
            )
        module.full_clean()
        module.save()
        saved.append(module)
    kept = {module.pk for module in saved}
    course.modules.exclude(pk__in=kept).delete()
    return saved


# --- materials ---------------------------------------------------------------------------

_ZIP = (b"PK\x03\x04",)
# Extensions accepted for course materials and how such files begin (None: checked as text).
MATERIAL_TYPES: dict[str, tuple[bytes, ...] | None] = {
    ".pdf": (b"%PDF-",),
    ".docx": _ZIP,
    ".xlsx": _ZIP,
    ".pptx": _ZIP,
    ".odt": _ZIP,
    ".ods": _ZIP,
    ".odp": _ZIP,
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".mp4": (),  # "ftyp" at byte 4, checked below
    ".csv": None,
    ".txt": None,
}


def material_file_check(upload: File[Any]) -> str:
    """Refuse files over EDUCAP_MAX_UPLOAD_MB, of other types, or whose content does not
    match their extension. Returns a safe file name."""
    limit_mb = settings.EDUCAP_MAX_UPLOAD_MB
    if upload.size is not None and upload.size > limit_mb * 1024 * 1024:
        raise field_error(
            "file",
            _("The file is larger than %(mb)s MB.") % {"mb": limit_mb},
            CatalogueErrorCode.MATERIAL_TOO_LARGE,
        )
    path = Path(upload.name or "")
    extension = path.suffix.lower()
    if extension not in MATERIAL_TYPES:
        raise field_error(
            "file",
            _("Upload a PDF, office document, image, MP4 video, CSV or text file (%(types)s).")
            % {"types": ", ".join(MATERIAL_TYPES)},
            CatalogueErrorCode.MATERIAL_TYPE,
        )
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if isinstance(head, str):
        head = head.encode("utf-8")
    signatures = MATERIAL_TYPES[extension]
    if signatures is None:
        # The head may end inside a character: only a complete file must end cleanly.
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(head, final=len(head) < 4096)
            ok = b"\x00" not in head
        except UnicodeDecodeError:
            ok = False
    elif extension == ".mp4":
        ok = head[4:8] == b"ftyp"
    else:
        ok = head.startswith(signatures)
    if not ok:
        raise field_error(
            "file",
            _("The file's content does not match its %(extension)s extension.")
            % {"extension": extension},
            CatalogueErrorCode.MATERIAL_CONTENT,
        )
    stem = get_valid_filename(path.stem)[:60] or "material"
    return f"{stem}{extension}"


@transaction.atomic
def course_material_add(
    *,
    actor: User | None,
    course: Course,
    title: str,
    file: File[Any] | None = None,
    url: str = "",
) -> CourseMaterial:
    """A file (checked by `material_file_check`) or a link, never both."""
    _require_manager(actor)
    if bool(file) == bool(url.strip()):
        raise ValidationError(
            _("Give either a file or a link."), code=CatalogueErrorCode.MATERIAL_FILE_OR_LINK
        )
    material = CourseMaterial(course=course, title=title.strip(), url=url.strip())
    if file is not None:
        file.name = material_file_check(file)
        material.file = file  # type: ignore[assignment]
    material.full_clean()
    material.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=material,
        after={
            "course": course.code,
            "title": material.title,
            "file": material.file.name if material.file else "",
            "url": material.url,
        },
    )
    return material


@transaction.atomic
def course_material_remove(*, actor: User | None, material: CourseMaterial) -> None:
    """Delete a material; its file goes once the transaction has committed."""
    _require_manager(actor)
    before = {
        "course": material.course.code,
        "title": material.title,
        "file": material.file.name if material.file else "",
        "url": material.url,
    }
    audit_record(actor=actor, action=AuditAction.DELETE, instance=material, before=before)
    stored = material.file.name if material.file else ""
    storage = material.file.storage if material.file else None
    material.delete()
    if stored and storage is not None:
        transaction.on_commit(lambda: storage.delete(stored))


# --- import ------------------------------------------------------------------------------


@dataclass
class PlannedCourse:
    """A file row resolved against the database; `fields` are the model fields to write."""

    record: CourseRecord
    course: Course | None
    fields: dict[str, Any]
    programme: str | None  # None: column absent, "": no programme
    prerequisites: list[str] | None
    target_roles: list[Role] | None
    competencies: list[CompetencyTarget] | None
    change: str = "create"  # create | update | unchanged


@dataclass
class CataloguePlan:
    courses: list[PlannedCourse]
    programmes: dict[str, Texts]  # programme code → titles to write (new or changed)
    new_programmes: list[str]
    problems: list[Problem]

    def codes(self, change: str) -> list[str]:
        return [p.record.code for p in self.courses if p.change == change]

    @property
    def created(self) -> list[str]:
        return self.codes("create")

    @property
    def updated(self) -> list[str]:
        return self.codes("update")

    @property
    def unchanged(self) -> list[str]:
        return self.codes("unchanged")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    programmes_created: int


# Model field → file column, for problems found by full_clean.
_FIELD_COLUMNS = {"is_active": "active", "title": "title_en", "description": "description_en"}


def _record_fields(record: CourseRecord, *, new: bool) -> dict[str, Any]:
    """Model field values the record sets: all of them for a new course, else the columns
    the file had."""
    values: dict[str, tuple[str, Any]] = {
        "track": ("track", record.track),
        "modality": ("modality", record.modality),
        "duration_hours": ("duration_hours", record.duration_hours),
        "cpd_credits": ("cpd_credits", record.cpd_credits),
        "provider_kind": ("provider_kind", record.provider_kind),
        "provider_name": ("provider_name", record.provider_name),
        "cost_per_cohort": ("cost_per_cohort", record.cost_per_cohort),
        "cost_per_participant": ("cost_per_participant", record.cost_per_participant),
        "min_attendance_percent": ("min_attendance_percent", record.min_attendance_percent),
        "pass_mark": ("pass_mark", record.pass_mark),
        "records_evidence": ("records_evidence", record.records_evidence),
        "is_active": ("active", record.active),
    }
    for lang in LANGUAGES:
        values[f"title_{lang}"] = (f"title_{lang}", record.title.get(lang, ""))
        values[f"description_{lang}"] = (f"description_{lang}", record.description.get(lang, ""))
    fields = {"code": record.code}
    for name, (column, value) in values.items():
        if new or record.has(column):
            fields[name] = value
    return fields


def _framework_lookup(refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Framework | None]:
    """(code, version) → framework; an empty version is the latest published version,
    else the latest draft (else the latest retired one)."""
    wanted = set(refs)
    codes = {code for code, _version in wanted}
    frameworks = list(
        Framework.objects.filter(code__in=codes).order_by("code", "-published_at", "-created_at")
    )
    found: dict[tuple[str, str], Framework | None] = {}
    for code, version in wanted:
        same = [f for f in frameworks if f.code == code]
        if version:
            found[(code, version)] = next((f for f in same if f.version == version), None)
        else:
            # A retired version is returned only so the problem can say "retired".
            found[(code, version)] = next(
                (f for f in same if f.status == FrameworkStatus.PUBLISHED),
                next(
                    (f for f in same if f.status == FrameworkStatus.DRAFT),
                    same[0] if same else None,
                ),
            )
    return found


def catalogue_import_plan(*, records: Sequence[CourseRecord]) -> CataloguePlan:
    """Resolve parsed rows (io.catalogue) against the database and check everything; no writes.

    Problems name the row and column. A course listed in the file is matched by code.
    """
    problems: list[Problem] = []

    def problem(record: CourseRecord, column: str, code: str, message: str) -> None:
        problems.append(Problem(record.row, column, code, message))

    codes = [r.code for r in records]
    existing = {c.code: c for c in catalogue_record_queryset(Course.objects.filter(code__in=codes))}
    # Programmes: titles from the rows that give one; rows must agree.
    programme_titles: dict[str, Texts] = {}
    programme_rows: dict[str, int] = {}
    for record in records:
        if not record.programme or not record.programme_title.get("en"):
            continue
        titles = {lang: record.programme_title.get(lang, "") for lang in LANGUAGES}
        if record.programme in programme_titles and programme_titles[record.programme] != titles:
            problem(
                record,
                "programme_title_en",
                CatalogueErrorCode.PROGRAMME_CONFLICT,
                _("Row %(row)s gives programme %(code)s other titles.")
                % {"row": programme_rows[record.programme], "code": record.programme},
            )
            continue
        programme_titles[record.programme] = titles
        programme_rows.setdefault(record.programme, record.row)
    programme_codes = {r.programme for r in records if r.programme}
    known_programmes = {p.code: p for p in Programme.objects.filter(code__in=programme_codes)}
    new_programmes = sorted(programme_codes - set(known_programmes))
    programmes_to_write: dict[str, Texts] = {}
    for code in new_programmes:
        programmes_to_write[code] = programme_titles.get(code) or {"en": code}
    for code, titles in programme_titles.items():
        programme = known_programmes.get(code)
        if programme is not None and any(
            (getattr(programme, f"title_{lang}", "") or "") != titles[lang] for lang in LANGUAGES
        ):
            programmes_to_write[code] = titles
    # Roles, frameworks and competencies, each in one query.
    role_codes = {code for r in records for code in r.target_roles}
    roles = {role.code: role for role in Role.objects.filter(code__in=role_codes)}
    frameworks = _framework_lookup(
        (ref.framework, ref.version) for r in records for ref in r.competencies
    )
    item_query = Q(pk__in=[])
    for (_code, _version), framework in frameworks.items():
        if framework is not None:
            wanted = {
                ref.item
                for r in records
                for ref in r.competencies
                if frameworks.get((ref.framework, ref.version)) == framework
            }
            item_query |= Q(framework=framework, code__in=wanted)
    items = {
        (item.framework_id, item.code): item
        for item in FrameworkItem.objects.filter(item_query).select_related("framework")
    }
    scale_levels: dict[int, set[int]] = defaultdict(set)
    for scale_id, value in ScaleLevel.objects.filter(
        scale_id__in={f.scale_id for f in frameworks.values() if f is not None}
    ).values_list("scale_id", "value"):
        scale_levels[scale_id].add(value)
    known_courses = set(existing) | set(
        Course.objects.filter(code__in={c for r in records for c in r.prerequisites}).values_list(
            "code", flat=True
        )
    )
    in_file = set(codes)
    graph = _prerequisite_graph()
    planned: list[PlannedCourse] = []
    for record in records:
        before = len(problems)
        course = existing.get(record.code)
        # Roles
        target_roles: list[Role] | None = None
        if record.has("target_roles"):
            missing = [c for c in record.target_roles if c not in roles]
            if missing:
                problem(
                    record,
                    "target_roles",
                    CatalogueErrorCode.ROLE_UNKNOWN,
                    _("No role has the code %(codes)s.") % {"codes": ", ".join(missing)},
                )
            target_roles = [roles[c] for c in record.target_roles if c in roles]
        # Prerequisites
        prerequisites: list[str] | None = None
        if record.has("prerequisites"):
            missing = [
                c for c in record.prerequisites if c not in known_courses and c not in in_file
            ]
            if missing:
                problem(
                    record,
                    "prerequisites",
                    CatalogueErrorCode.COURSE_UNKNOWN,
                    _("No course has the code %(codes)s.") % {"codes": ", ".join(missing)},
                )
            prerequisites = list(record.prerequisites)
            graph[record.code] = set(prerequisites)
        # Competencies
        targets: list[CompetencyTarget] | None = None
        if record.has("competencies"):
            targets = []
            for ref in record.competencies:
                framework = frameworks.get((ref.framework, ref.version))
                if framework is None:
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.FRAMEWORK_UNKNOWN,
                        _("No framework %(framework)s %(version)s.")
                        % {"framework": ref.framework, "version": ref.version},
                    )
                    continue
                if framework.status not in LIVE_FRAMEWORK_STATUSES:
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.FRAMEWORK_RETIRED,
                        _("%(framework)s %(version)s is retired.")
                        % {"framework": framework.code, "version": framework.version},
                    )
                    continue
                item = items.get((framework.pk, ref.item))
                if item is None:
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.COMPETENCY_UNKNOWN,
                        _("%(framework)s has no competency %(code)s.")
                        % {"framework": framework.code, "code": ref.item},
                    )
                    continue
                if item.kind != ItemKind.COMPETENCY:
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.NOT_A_COMPETENCY,
                        _("%(code)s is a domain, not a competency.") % {"code": item.code},
                    )
                    continue
                levels = scale_levels[framework.scale_id]
                if ref.level not in levels:
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.LEVEL_NOT_ON_SCALE,
                        _("Level %(level)s is not on the scale of %(code)s (levels %(levels)s).")
                        % {
                            "level": ref.level,
                            "code": item.code,
                            "levels": ", ".join(str(v) for v in sorted(levels)),
                        },
                    )
                    continue
                if any(t.item.pk == item.pk for t in targets):
                    problem(
                        record,
                        "competencies",
                        CatalogueErrorCode.COMPETENCY_REPEATED,
                        _("%(code)s is listed twice.") % {"code": item.code},
                    )
                    continue
                targets.append(CompetencyTarget(item=item, level=ref.level))
        # The course's own fields, checked by the model.
        fields = _record_fields(record, new=course is None)
        candidate = Course() if course is None else copy.copy(course)
        for name, value in fields.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean(exclude=["programme"], validate_unique=course is None)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                for error in errors:
                    problem(
                        record,
                        _FIELD_COLUMNS.get(name, name),
                        str(error.code or "invalid"),
                        " ".join(error.messages),
                    )
        if len(problems) > before:
            continue
        planned.append(
            PlannedCourse(
                record=record,
                course=course,
                fields=fields,
                programme=record.programme if record.has("programme") else None,
                prerequisites=prerequisites,
                target_roles=target_roles,
                competencies=targets,
                change="create" if course is None else "update",
            )
        )
    cycle = find_cycle(graph)
    if cycle is not None:
        rows = {r.code: r for r in records}
        at = next((rows[c] for c in cycle if c in rows), None)
        problems.append(
            Problem(
                at.row if at else 1,
                "prerequisites",
                CatalogueErrorCode.PREREQUISITE_CYCLE,
                _("These prerequisites go round in a circle: %(cycle)s.")
                % {"cycle": " → ".join(cycle)},
            )
        )
    for plan in planned:
        if plan.course is not None and not _changes(plan, programmes_to_write):
            plan.change = "unchanged"
    problems.sort(key=lambda p: (p.row, p.column))
    return CataloguePlan(
        courses=planned,
        programmes=programmes_to_write,
        new_programmes=new_programmes,
        problems=problems,
    )


def _changes(plan: PlannedCourse, programmes: Mapping[str, Texts]) -> bool:
    course = plan.course
    assert course is not None
    for name, value in plan.fields.items():
        current = getattr(course, name)
        if isinstance(value, str) and (current or "") != value:
            return True
        if not isinstance(value, str) and current != value:
            return True
    if plan.programme is not None:
        current_programme = course.programme.code if course.programme else ""
        if current_programme != plan.programme or plan.programme in programmes:
            return True
    if plan.prerequisites is not None and {c.code for c in course.prerequisites.all()} != set(
        plan.prerequisites
    ):
        return True
    if plan.target_roles is not None and {r.pk for r in course.target_roles.all()} != {
        r.pk for r in plan.target_roles
    }:
        return True
    return plan.competencies is not None and {
        (link.item_id, link.level) for link in course.competencies.all()
    } != {(t.item.pk, t.level) for t in plan.competencies}


@transaction.atomic
def catalogue_import_apply(*, actor: User | None, plan: CataloguePlan) -> ImportResult:
    """Write a clean plan: all of it or (on any error) nothing. Unchanged courses are left
    alone, so importing the same file twice changes nothing."""
    _require_manager(actor)
    if plan.problems:
        raise ValidationError(
            _("The file has problems; nothing was imported."),
            code=CatalogueErrorCode.IMPORT_PROBLEMS,
        )
    wanted_programmes = {p.programme for p in plan.courses if p.programme}
    programmes = {p.code: p for p in Programme.objects.filter(code__in=wanted_programmes)}
    for code, titles in plan.programmes.items():
        texts = {f"title_{lang}": titles.get(lang, "") for lang in LANGUAGES}
        if code in programmes:
            programmes[code] = programme_update(actor=actor, programme=programmes[code], **texts)
        else:
            programmes[code] = programme_create(actor=actor, code=code, **texts)
    changed = [p for p in plan.courses if p.change != "unchanged"]
    courses: dict[str, Course] = {}
    befores: dict[str, dict[str, Any]] = {}
    for item in changed:
        course = Course() if item.course is None else Course.objects.get(pk=item.course.pk)
        if item.course is not None:
            befores[item.record.code] = _course_snapshot(course)
        for name, value in item.fields.items():
            setattr(course, name, value)
        if item.programme is not None:
            course.programme = programmes.get(item.programme) if item.programme else None
        _save_course(course)
        if item.target_roles is not None:
            course.target_roles.set(item.target_roles)
        if item.competencies is not None:
            _set_competencies(course, item.competencies)
        courses[course.code] = course
    # Prerequisites once every course of the file exists.
    wanted = {c for item in changed for c in item.prerequisites or ()}
    by_code = {c.code: c for c in Course.objects.filter(code__in=wanted)}
    for item in changed:
        if item.prerequisites is not None:
            _set_prerequisites(courses[item.record.code], [by_code[c] for c in item.prerequisites])
    for item in changed:
        course = courses[item.record.code]
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if item.course is None else AuditAction.UPDATE,
            instance=course,
            before=befores.get(course.code),
            after=_course_snapshot(course),
        )
    result = ImportResult(
        created=sum(1 for p in changed if p.course is None),
        updated=sum(1 for p in changed if p.course is not None),
        unchanged=len(plan.courses) - len(changed),
        programmes_created=len(plan.new_programmes),
    )
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="training.course",
        object_repr=(
            f"catalogue: {result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        ),
        after={
            "created": plan.created[:200],
            "updated": plan.updated[:200],
            "unchanged": result.unchanged,
            "programmes_created": plan.new_programmes[:200],
        },
    )
    return result
