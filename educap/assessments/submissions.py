"""Offline assessments: a campaign as an XLSForm, and the import of its submissions.

`campaign_form_spec` reads what a form needs (people, units, competencies, survey) into an
`io.xlsform.FormSpec`. `submissions_import` reads an ODK Central or KoboToolbox export
(`io.odk`), checks every row against the campaign with in-memory lookups loaded once
(no query per row), and stores all or nothing — or, with `skip_invalid`, the valid rows.

Storing is set-based: on PostgreSQL submissions and ratings go in with COPY, on SQLite
with `bulk_create` in batches. A submission already imported with the same answers is
skipped ("unchanged"); with other answers it is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from educap.assessments.consolidation import current_levels_refresh
from educap.assessments.io import xlsform
from educap.assessments.io.odk import (
    FormLayout,
    Problem,
    QuestionLayout,
    SubmissionErrorCode,
    SubmissionRow,
    read_submissions,
)
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    QuestionKind,
    RaterAssignment,
    Rating,
    Source,
    Submission,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from educap.assessments.services import AssessmentErrorCode, campaign_manage_allowed
from educap.assessments.tasks import refresh_current_levels
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.frameworks.models import FrameworkItem, ItemKind, RoleProfile, ScaleLevel
from educap.frameworks.selectors import profile_requirements
from educap.org.models import OrgUnit
from educap.people.models import Person

if TYPE_CHECKING:
    from educap.accounts.models import User

LANGS = [code for code, _name in xlsform.LANGUAGES]
FORM_KINDS = (AssignmentKind.SELF, AssignmentKind.SUPERVISOR, AssignmentKind.SURVEY)
logger = logging.getLogger(__name__)

BATCH = 5000
# Imports rating more people than this refresh their current levels in the background.
INLINE_REFRESH_LIMIT = 5000


def _texts(obj: Any, name: str) -> xlsform.Texts:
    return {lang: getattr(obj, f"{name}_{lang}", None) or "" for lang in LANGS}


def _translated(make: Callable[[], str]) -> xlsform.Texts:
    texts = {}
    for lang in LANGS:
        with translation.override(lang):
            texts[lang] = str(make())
    return texts


def _form_sources(campaign: Campaign) -> list[tuple[str, Callable[[], str]]]:
    sources: list[tuple[str, Callable[[], str]]] = []
    if campaign.collect_self:
        sources.append((Source.SELF, lambda: _("Self rating (the person answers)")))
    if campaign.collect_supervisor:
        sources.append((Source.SUPERVISOR, lambda: _("Supervisor rating")))
    if campaign.collect_survey and not campaign.collect_self:
        sources.append((xlsform.SOURCE_SURVEY_ONLY, lambda: _("Survey only")))
    return sources


# --- the form --------------------------------------------------------------------------


def campaign_form_spec(
    *, campaign: Campaign, unit: OrgUnit | None = None, version: str | None = None
) -> xlsform.FormSpec:
    """Everything the XLSForm of `campaign` needs; people limited to `unit`'s subtree."""
    framework = campaign.framework
    assignments = RaterAssignment.objects.filter(campaign=campaign, kind__in=FORM_KINDS).exclude(
        status=AssignmentStatus.WITHDRAWN
    )
    if unit is not None:
        assignments = assignments.filter(unit__path__startswith=unit.path)
    people: dict[str, tuple[str, int | None, str]] = {}
    rows = assignments.order_by("ratee__family_name", "ratee__given_name", "ratee_id").values_list(
        "ratee__staff_number",
        "ratee__given_name",
        "ratee__family_name",
        "unit_id",
        "profile__code",
    )
    for staff, given, family, unit_id, profile_code in rows.iterator(chunk_size=BATCH):
        known = people.get(staff)
        if known is None or (not known[2] and profile_code):
            name = f"{family}, {given} ({staff})".strip()
            people[staff] = (name, unit_id, profile_code or "")

    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in={p[1] for p in people.values()})}
    ancestor_ids = {int(i) for u in units.values() for i in u.path.split("/") if i}
    units.update({u.pk: u for u in OrgUnit.objects.filter(pk__in=ancestor_ids - set(units))})

    def office_label(u: OrgUnit) -> xlsform.Texts:
        names = _texts(u, "name")
        out = {}
        for lang in LANGS:
            with translation.override(lang):
                out[lang] = _("%(name)s (office)") % {"name": names[lang] or u.name}
        return out

    governorates: dict[str, xlsform.UnitChoice] = {}
    districts: dict[str, xlsform.UnitChoice] = {}
    offices: dict[str, xlsform.UnitChoice] = {}
    persons = []
    for staff, (name, person_unit, profile_code) in people.items():
        if person_unit is None or person_unit not in units:
            continue
        here = units[person_unit]
        chain = [units[int(i)] for i in here.path.split("/") if i and int(i) in units]
        # Units above district level stand in as their own district and office.
        gov = chain[1] if len(chain) > 1 else here
        district = chain[2] if len(chain) > 2 else here
        governorates.setdefault(gov.code, xlsform.UnitChoice(gov.code, _texts(gov, "name"), ""))
        label = _texts(district, "name") if len(chain) > 2 else office_label(here)
        districts.setdefault(district.code, xlsform.UnitChoice(district.code, label, gov.code))
        label = _texts(here, "name") if len(chain) > 3 else office_label(here)
        offices.setdefault(here.code, xlsform.UnitChoice(here.code, label, district.code))
        persons.append(xlsform.PersonChoice(staff, name, here.code, profile_code))

    profile_items: dict[str, set[int]] = {}
    for profile in RoleProfile.objects.filter(
        framework=framework, code__in={p.profile for p in persons if p.profile}
    ).select_related("base"):
        profile_items[profile.code] = set(profile_requirements(profile=profile))
    items = list(
        FrameworkItem.objects.filter(framework=framework, kind=ItemKind.COMPETENCY).select_related(
            "parent"
        )
    )
    items.sort(
        key=lambda i: (
            i.parent.sequence if i.parent else -1,
            i.parent_id or 0,
            i.sequence,
            i.pk,
        )
    )
    grouped: dict[int | None, list[xlsform.CompetencySpec]] = defaultdict(list)
    parents: dict[int | None, FrameworkItem | None] = {}
    for item in items:
        needed = frozenset(code for code, ids in profile_items.items() if item.pk in ids)
        if not needed:
            continue
        parents[item.parent_id] = item.parent
        grouped[item.parent_id].append(
            xlsform.CompetencySpec(item.code, _texts(item, "statement"), needed)
        )
    domains = [
        xlsform.DomainSpec(
            parent.code if parent else "competencies",
            _texts(parent, "statement") if parent else _translated(lambda: _("Competencies")),
            tuple(grouped[parent_id]),
        )
        for parent_id, parent in parents.items()
    ]
    levels = [
        xlsform.ChoiceSpec(
            str(level.value),
            {
                lang: f"{level.value} – {text}" if text else ""
                for lang, text in _texts(level, "name").items()
            },
        )
        for level in ScaleLevel.objects.filter(scale_id=framework.scale_id).order_by("value")
    ]
    sections: list[xlsform.SectionSpec] = []
    if campaign.collect_survey and campaign.survey is not None:
        for section in campaign.survey.sections.prefetch_related("questions__choices"):
            questions = tuple(
                xlsform.QuestionSpec(
                    code=q.code,
                    kind=q.kind,
                    text=_texts(q, "text"),
                    hint=_texts(q, "help_text"),
                    required=q.required,
                    min_value="" if q.min_value is None else str(q.min_value.normalize()),
                    max_value="" if q.max_value is None else str(q.max_value.normalize()),
                    choices=tuple(
                        xlsform.ChoiceSpec(c.code, _texts(c, "label")) for c in q.choices.all()
                    ),
                )
                for q in section.questions.all()
            )
            sections.append(xlsform.SectionSpec(section.code, _texts(section, "title"), questions))
    likert_labels: list[Callable[[], str]] = [
        lambda: _("1 – Strongly disagree"),
        lambda: _("2 – Disagree"),
        lambda: _("3 – Neither agree nor disagree"),
        lambda: _("4 – Agree"),
        lambda: _("5 – Strongly agree"),
    ]
    ui = {
        "governorate": _translated(lambda: _("Governorate")),
        "district": _translated(lambda: _("District")),
        "office": _translated(lambda: _("Office or school")),
        "person": _translated(lambda: _("Person rated")),
        "source": _translated(lambda: _("Who is answering?")),
        "rater": _translated(lambda: _("Supervisor's staff number")),
        "rater_hint": _translated(
            lambda: _("Leave empty when you are the person's supervisor on record.")
        ),
        "competencies": _translated(lambda: _("Competencies")),
    }
    return xlsform.FormSpec(
        form_id=campaign.code,
        version=version or f"{framework.version}-{timezone.now():%Y%m%d%H%M}",
        title=_texts(campaign, "title"),
        ui=ui,
        sources=[
            xlsform.ChoiceSpec(code, _translated(make)) for code, make in _form_sources(campaign)
        ],
        levels=levels,
        governorates=list(governorates.values()),
        districts=list(districts.values()),
        offices=list(offices.values()),
        persons=persons,
        domains=domains,
        sections=sections,
        likert=[
            xlsform.ChoiceSpec(str(i + 1), _translated(make))
            for i, make in enumerate(likert_labels)
        ],
    )


def campaign_xlsform(
    *, user: User | None, campaign: Campaign, unit: OrgUnit | None = None
) -> bytes:
    if not campaign_manage_allowed(user=user):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    return xlsform.workbook_bytes(campaign_form_spec(campaign=campaign, unit=unit))


# --- import ----------------------------------------------------------------------------


@dataclass
class PersonEntry:
    person_id: int
    profile_id: int | None
    # kind -> (assignment id, rater id)
    assignments: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class CampaignLookups:
    """Everything a row is checked against, loaded once per import."""

    layout: FormLayout
    item_of_field: dict[str, int]
    fields: list[str]  # competency fields in a fixed order (ratings are buffered by index)
    field_index: dict[str, int]
    people: dict[str, PersonEntry]
    profile_items: dict[int, frozenset[int]]
    existing: dict[str, str]  # instance id -> digest
    answered_surveys: set[int]  # survey assignment ids that already have a response
    sources: set[str]
    question_ids: dict[str, int]
    choice_ids: dict[tuple[str, str], int]


def campaign_lookups(*, campaign: Campaign) -> CampaignLookups:
    framework = campaign.framework
    items = FrameworkItem.objects.filter(framework=framework, kind=ItemKind.COMPETENCY)
    item_of_field = {
        xlsform.competency_field(code): pk for pk, code in items.values_list("pk", "code")
    }
    levels = frozenset(
        ScaleLevel.objects.filter(scale_id=framework.scale_id).values_list("value", flat=True)
    )
    questions: dict[str, QuestionLayout] = {}
    question_ids: dict[str, int] = {}
    choice_ids: dict[tuple[str, str], int] = {}
    if campaign.collect_survey and campaign.survey_id:
        for q in SurveyQuestion.objects.filter(
            section__survey_id=campaign.survey_id
        ).prefetch_related("choices"):
            name = xlsform.question_field(q.code)
            codes = {c.code: c.pk for c in q.choices.all()}
            if q.kind == QuestionKind.LIKERT:
                choices = frozenset(str(i) for i in range(1, 6))
            else:
                choices = frozenset(codes)
            questions[name] = QuestionLayout(q.kind, choices, q.min_value, q.max_value)
            question_ids[name] = q.pk
            choice_ids.update({(name, code): pk for code, pk in codes.items()})
    people: dict[str, PersonEntry] = {}
    profile_ids: set[int] = set()
    rows = (
        RaterAssignment.objects.filter(campaign=campaign, kind__in=FORM_KINDS)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .values_list("pk", "kind", "ratee_id", "ratee__staff_number", "rater_id", "profile_id")
    )
    for pk, kind, ratee_id, staff, rater_id, profile_id in rows.iterator(chunk_size=BATCH):
        entry = people.get(staff)
        if entry is None:
            entry = people[staff] = PersonEntry(ratee_id, profile_id)
        if entry.profile_id is None:
            entry.profile_id = profile_id
        entry.assignments.setdefault(kind, (pk, rater_id))
        if profile_id:
            profile_ids.add(profile_id)
    profile_items = {
        profile.pk: frozenset(profile_requirements(profile=profile))
        for profile in RoleProfile.objects.filter(pk__in=profile_ids).select_related("base")
    }
    existing = dict(
        Submission.objects.filter(campaign=campaign).values_list("instance_id", "digest").iterator()
    )
    answered = set(
        SurveyResponse.objects.filter(assignment__campaign=campaign).values_list(
            "assignment_id", flat=True
        )
    )
    fields = sorted(item_of_field)
    return CampaignLookups(
        layout=FormLayout(frozenset(item_of_field), levels, questions),
        item_of_field=item_of_field,
        fields=fields,
        field_index={name: i for i, name in enumerate(fields)},
        people=people,
        profile_items=profile_items,
        existing=existing,
        answered_surveys=answered,
        sources={code for code, _make in _form_sources(campaign)},
        question_ids=question_ids,
        choice_ids=choice_ids,
    )


@dataclass
class ValidRow:
    """A checked submission, kept compact until it is stored (100,000 of them fit easily)."""

    row: int
    instance_id: str
    digest: str
    person_id: int
    source: str
    rater_id: int | None
    rater_staff: str  # to resolve after the pass when `rater_id` is None
    submitted_at: dt.datetime
    rating_assignment_id: int | None
    survey_assignment_id: int | None
    values: tuple[int | None, ...]  # level per competency field, in `lookups.fields` order
    answers: dict[str, Any]


@dataclass
class ImportResult:
    file_name: str
    rows: int = 0
    new: int = 0
    unchanged: int = 0
    rejected: int = 0
    ratings: int = 0
    survey_answers: int = 0
    stored: bool = False
    # People whose current levels the task worker refreshes after a big import.
    levels_deferred: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def file_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.row == 0]

    @property
    def rejected_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.row}


def _check_row(
    parsed: SubmissionRow,
    lookups: CampaignLookups,
    seen: dict[str, int],
    surveyed: set[int],
    unknown_people: list[tuple[int, str, str, str]],
    column_of: dict[str, str],
) -> ValidRow | None:
    """Database-level checks of one parsed row; adds problems to `parsed`."""
    field_index = lookups.field_index

    def bad(column: str, code: str, message: str) -> None:
        parsed.problem(column, code, message)

    if parsed.instance_id:
        if parsed.instance_id in seen:
            bad(
                column_of["id"],
                SubmissionErrorCode.DUPLICATE_IN_FILE,
                _("Submission %(id)s also appears in row %(row)s.")
                % {"id": parsed.instance_id, "row": seen[parsed.instance_id]},
            )
        else:
            seen[parsed.instance_id] = parsed.row
    entry = lookups.people.get(parsed.person) if parsed.person else None
    if parsed.person and entry is None:
        unknown_people.append((parsed.row, parsed.instance_id, column_of["person"], parsed.person))
    source = parsed.source
    if source not in lookups.sources:
        bad(
            column_of["source"],
            SubmissionErrorCode.BAD_SOURCE,
            _("“%(value)s” is not a source this campaign collects.") % {"value": source},
        )
    rating_assignment: tuple[int, int] | None = None
    survey_assignment: tuple[int, int] | None = None
    rater_id: int | None = None
    if entry is not None and source in lookups.sources:
        if source in (Source.SELF, Source.SUPERVISOR):
            rating_assignment = entry.assignments.get(source)
            if rating_assignment is None:
                bad(
                    column_of["source"],
                    SubmissionErrorCode.PERSON_NOT_IN_CAMPAIGN,
                    _("%(person)s has no %(source)s rating to give in this campaign.")
                    % {"person": parsed.person, "source": source},
                )
            elif source == Source.SELF:
                rater_id = entry.person_id
            elif not parsed.rater:
                rater_id = rating_assignment[1]
            elif parsed.rater in lookups.people:
                rater_id = lookups.people[parsed.rater].person_id
        if parsed.answers:
            survey_assignment = entry.assignments.get(AssignmentKind.SURVEY)
            first = next(iter(parsed.answers))
            column = parsed.columns.get(first, first)
            if source == Source.SUPERVISOR or survey_assignment is None:
                bad(
                    column,
                    SubmissionErrorCode.SURVEY_NOT_EXPECTED,
                    _("%(person)s has no survey to answer in this submission.")
                    % {"person": parsed.person},
                )
                survey_assignment = None
            elif (
                survey_assignment[0] in lookups.answered_surveys or survey_assignment[0] in surveyed
            ):
                bad(
                    column,
                    SubmissionErrorCode.SURVEY_ALREADY_ANSWERED,
                    _("%(person)s has already answered the survey.") % {"person": parsed.person},
                )
        if parsed.levels and source == xlsform.SOURCE_SURVEY_ONLY:
            bad(
                column_of["source"],
                SubmissionErrorCode.BAD_SOURCE,
                _("A survey-only submission cannot rate competencies."),
            )
        allowed = lookups.profile_items.get(entry.profile_id or 0, frozenset())
        for name in parsed.levels:
            if lookups.item_of_field[name] not in allowed:
                bad(
                    parsed.columns.get(name, name),
                    SubmissionErrorCode.NOT_IN_PROFILE,
                    _("%(person)s's role profile does not include this competency.")
                    % {"person": parsed.person},
                )
    if parsed.problems or entry is None or parsed.submitted_at is None:
        return None
    if survey_assignment is not None:
        surveyed.add(survey_assignment[0])
    values: list[int | None] = [None] * len(lookups.fields)
    for name, level in parsed.levels.items():
        values[field_index[name]] = level
    return ValidRow(
        row=parsed.row,
        instance_id=parsed.instance_id,
        digest=parsed.digest(),
        person_id=entry.person_id,
        source=Source.SELF if source == xlsform.SOURCE_SURVEY_ONLY else source,
        rater_id=rater_id,
        rater_staff=parsed.rater if source == Source.SUPERVISOR else "",
        submitted_at=parsed.submitted_at,
        rating_assignment_id=rating_assignment[0] if rating_assignment else None,
        survey_assignment_id=survey_assignment[0] if survey_assignment else None,
        values=tuple(values),
        answers=parsed.answers,
    )


def submissions_import(
    *,
    actor: User | None,
    campaign: Campaign,
    source: Path | IO[bytes],
    file_name: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check an ODK Central / Kobo export and store it (all or nothing unless skip_invalid)."""
    if not campaign_manage_allowed(user=actor):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    if campaign.status == CampaignStatus.DRAFT:
        raise ValidationError(
            _("Campaign %(code)s has not been launched: nobody can be rated yet.")
            % {"code": campaign.code},
            code=AssessmentErrorCode.NOT_OPEN,
        )
    lookups = campaign_lookups(campaign=campaign)
    result = ImportResult(file_name=file_name)
    seen: dict[str, int] = {}
    surveyed: set[int] = set()
    unknown_people: list[tuple[int, str, str, str]] = []
    valid: list[ValidRow] = []
    column_of: dict[str, str] = {}
    for item in read_submissions(source, file_name, lookups.layout):
        if isinstance(item, Problem):
            result.problems.append(item)
            continue
        parsed = item
        result.rows += 1
        if progress is not None and result.rows % 1000 == 0:
            progress(1000)
        if not column_of:
            column_of = _column_names(parsed)
        previous = lookups.existing.get(parsed.instance_id) if parsed.instance_id else None
        if previous is not None and not parsed.problems:
            if previous == parsed.digest() and parsed.instance_id not in seen:
                seen[parsed.instance_id] = parsed.row
                result.unchanged += 1
                continue
            if previous != parsed.digest():
                parsed.problem(
                    column_of["id"],
                    SubmissionErrorCode.DUPLICATE_CHANGED,
                    _("Submission %(id)s was imported before with other answers.")
                    % {"id": parsed.instance_id},
                )
        row = _check_row(parsed, lookups, seen, surveyed, unknown_people, column_of)
        result.problems.extend(parsed.problems)
        if row is not None:
            valid.append(row)
    if progress is not None:
        progress(result.rows % 1000)
    _resolve_unknown_people(unknown_people, result)
    valid = _resolve_raters(valid, result, column_of)
    result.problems.sort(key=lambda p: p.row)
    rejected = result.rejected_rows
    valid = [v for v in valid if v.row not in rejected]
    result.rejected = len(rejected)
    result.new = len(valid)
    result.ratings = sum(1 for v in valid for value in v.values if value is not None)
    result.survey_answers = sum(
        len(a) if isinstance(a, tuple) else 1 for v in valid for a in v.answers.values()
    )
    if dry_run or result.file_problems or (result.problems and not skip_invalid):
        return result
    _store(actor=actor, campaign=campaign, lookups=lookups, rows=valid, result=result)
    result.stored = True
    return result


def _column_names(parsed: SubmissionRow) -> dict[str, str]:
    """The headers of the fixed columns, as the file spells them."""
    defaults = {"id": "instanceID", "person": xlsform.PERSON, "source": xlsform.SOURCE}
    defaults["rater"] = xlsform.RATER
    return {key: parsed.columns.get(key, name) for key, name in defaults.items()}


def _resolve_unknown_people(unknown: list[tuple[int, str, str, str]], result: ImportResult) -> None:
    """Staff numbers not rated in the campaign: unknown altogether, or simply not targeted."""
    staff = {s for *_rest, s in unknown}
    existing = _existing_staff(staff)
    for row, instance_id, column, number in unknown:
        if number in existing:
            code = SubmissionErrorCode.PERSON_NOT_IN_CAMPAIGN
            message = _("%(staff)s is not rated in this campaign.") % {"staff": number}
        else:
            code = SubmissionErrorCode.UNKNOWN_PERSON
            message = _("No person has staff number %(staff)s.") % {"staff": number}
        result.problems.append(Problem(row, column, code, message, instance_id))


def _existing_staff(staff: Iterable[str]) -> set[str]:
    numbers = sorted(staff)
    found: set[str] = set()
    for start in range(0, len(numbers), BATCH):
        found.update(
            Person.objects.filter(staff_number__in=numbers[start : start + BATCH]).values_list(
                "staff_number", flat=True
            )
        )
    return found


def _resolve_raters(
    rows: list[ValidRow], result: ImportResult, column_of: dict[str, str]
) -> list[ValidRow]:
    pending = {r.rater_staff for r in rows if r.rater_id is None and r.rater_staff}
    ids: dict[str, int] = {}
    numbers = sorted(pending)
    for start in range(0, len(numbers), BATCH):
        ids.update(
            Person.objects.filter(staff_number__in=numbers[start : start + BATCH]).values_list(
                "staff_number", "pk"
            )
        )
    kept = []
    for r in rows:
        if r.rater_id is None and r.rater_staff:
            if r.rater_staff not in ids:
                result.problems.append(
                    Problem(
                        r.row,
                        column_of.get("rater", xlsform.RATER),
                        SubmissionErrorCode.UNKNOWN_RATER,
                        _("No person has staff number %(staff)s.") % {"staff": r.rater_staff},
                        r.instance_id,
                    )
                )
                continue
            r.rater_id = ids[r.rater_staff]
        kept.append(r)
    return kept


# --- storing ---------------------------------------------------------------------------


@transaction.atomic
def _store(
    *,
    actor: User | None,
    campaign: Campaign,
    lookups: CampaignLookups,
    rows: list[ValidRow],
    result: ImportResult,
) -> None:
    now = timezone.now()
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        logger.info("import %s: %s in %.1f s", result.file_name, step, time.perf_counter() - clock)
        clock = time.perf_counter()

    submission_ids = _store_submissions(campaign, rows, now, result.file_name)
    lap("submissions stored")
    _store_ratings(campaign, lookups, rows, submission_ids)
    lap("ratings stored")
    _store_survey(lookups, rows, submission_ids, now)
    lap("survey answers stored")
    assignment_ids = sorted(
        {r.rating_assignment_id for r in rows if r.rating_assignment_id}
        | {r.survey_assignment_id for r in rows if r.survey_assignment_id}
    )
    for start in range(0, len(assignment_ids), BATCH):
        RaterAssignment.objects.filter(pk__in=assignment_ids[start : start + BATCH]).exclude(
            status=AssignmentStatus.SUBMITTED
        ).update(status=AssignmentStatus.SUBMITTED, submitted_at=now)
    lap("assignments marked submitted")
    rated = sorted({r.person_id for r in rows if any(v is not None for v in r.values)})
    if len(rated) > INLINE_REFRESH_LIMIT:
        # A national upload: the worker derives the current levels after the commit, so
        # the import holds its transaction only as long as storing the evidence takes.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Rating._meta.db_table}")
        transaction.on_commit(lambda: refresh_current_levels.enqueue(rated))
        result.levels_deferred = len(rated)
    else:
        current_levels_refresh(person_ids=rated)
    lap("current levels refreshed or queued")
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        instance=campaign,
        after={
            "file": result.file_name,
            "submissions_new": result.new,
            "submissions_unchanged": result.unchanged,
            "submissions_rejected": result.rejected,
            "ratings": result.ratings,
            "survey_answers": result.survey_answers,
        },
    )


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _store_submissions(
    campaign: Campaign, rows: list[ValidRow], now: dt.datetime, file_name: str
) -> dict[str, int]:
    table = Submission._meta.db_table
    if connection.vendor == "postgresql":
        columns = (
            "campaign_id, instance_id, person_id, rater_id, source, digest, submitted_at, "
            "imported_at, file_name"
        )
        name = _copy_text(file_name[:255])
        stamp = now.isoformat()
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table} ({columns}) FROM STDIN"
            ) as copy,
        ):
            buffer: list[str] = []
            for r in rows:
                rater = "\\N" if r.rater_id is None else str(r.rater_id)
                buffer.append(
                    f"{campaign.pk}\t{_copy_text(r.instance_id)}\t{r.person_id}\t{rater}\t"
                    f"{r.source}\t{r.digest}\t{r.submitted_at.isoformat()}\t{stamp}\t{name}\n"
                )
                if len(buffer) >= BATCH:
                    copy.write("".join(buffer))
                    buffer = []
            copy.write("".join(buffer))
        return dict(
            Submission.objects.filter(campaign=campaign, imported_at=now).values_list(
                "instance_id", "pk"
            )
        )
    ids: dict[str, int] = {}
    for start in range(0, len(rows), BATCH):
        created = Submission.objects.bulk_create(
            Submission(
                campaign=campaign,
                instance_id=r.instance_id,
                person_id=r.person_id,
                rater_id=r.rater_id,
                source=r.source,
                digest=r.digest,
                submitted_at=r.submitted_at,
                file_name=file_name[:255],
            )
            for r in rows[start : start + BATCH]
        )
        ids.update((s.instance_id, s.pk) for s in created)
    return ids


def _rating_lines(
    campaign: Campaign,
    lookups: CampaignLookups,
    rows: list[ValidRow],
    submission_ids: dict[str, int],
) -> Iterator[str]:
    """COPY text of the ratings, in chunks of about a megabyte."""
    items = [lookups.item_of_field[name] for name in lookups.fields]
    levels = sorted(lookups.layout.levels)
    # "item\tvalue\n" for every item and level, built once.
    tails = [{level: f"{item}\t{level}\n" for level in levels} for item in items]
    chunk: list[str] = []
    for r in rows:
        rater = "\\N" if r.rater_id is None else str(r.rater_id)
        assignment = "\\N" if r.rating_assignment_id is None else str(r.rating_assignment_id)
        head = (
            f"{r.person_id}\t{rater}\t{campaign.pk}\t{assignment}\t"
            f"{submission_ids[r.instance_id]}\t{r.source}\t{r.submitted_at.isoformat()}\t\t\t"
        )
        chunk.extend(head + tails[i][v] for i, v in enumerate(r.values) if v is not None)
        if len(chunk) >= 20000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


RATING_COPY_COLUMNS = (
    "person_id, rater_id, campaign_id, assignment_id, submission_id, source, rated_at, "
    "comment, evidence, item_id, value"
)


def _store_ratings(
    campaign: Campaign,
    lookups: CampaignLookups,
    rows: list[ValidRow],
    submission_ids: dict[str, int],
) -> None:
    if connection.vendor == "postgresql":
        table = Rating._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table} ({RATING_COPY_COLUMNS}) FROM STDIN"
            ) as copy,
        ):
            for text in _rating_lines(campaign, lookups, rows, submission_ids):
                copy.write(text)
        return
    items = [lookups.item_of_field[name] for name in lookups.fields]
    batch: list[Rating] = []
    for r in rows:
        batch.extend(
            Rating(
                person_id=r.person_id,
                item_id=items[i],
                source=r.source,
                value=v,
                rater_id=r.rater_id,
                campaign_id=campaign.pk,
                assignment_id=r.rating_assignment_id,
                submission_id=submission_ids[r.instance_id],
                rated_at=r.submitted_at,
            )
            for i, v in enumerate(r.values)
            if v is not None
        )
        if len(batch) >= BATCH:
            Rating.objects.bulk_create(batch)
            batch = []
    Rating.objects.bulk_create(batch)


def _store_survey(
    lookups: CampaignLookups, rows: list[ValidRow], submission_ids: dict[str, int], now: dt.datetime
) -> None:
    with_survey = [
        (r.survey_assignment_id, r) for r in rows if r.survey_assignment_id and r.answers
    ]
    for start in range(0, len(with_survey), BATCH):
        chunk = with_survey[start : start + BATCH]
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                assignment_id=assignment_id,
                submission_id=submission_ids[r.instance_id],
                submitted_at=r.submitted_at,
            )
            for assignment_id, r in chunk
        )
        # Read the ids back: bulk_create does not return them on every database.
        by_assignment = dict(
            SurveyResponse.objects.filter(
                assignment_id__in=[assignment_id for assignment_id, _r in chunk]
            ).values_list("assignment_id", "pk")
        )
        answers: list[SurveyAnswer] = []
        for assignment_id, r in chunk:
            response_id = by_assignment[assignment_id]
            for name, value in r.answers.items():
                question_id = lookups.question_ids[name]
                picks = value if isinstance(value, tuple) else (value,)
                for pick in picks:
                    answer = SurveyAnswer(response_id=response_id, question_id=question_id)
                    choice_id = lookups.choice_ids.get((name, str(pick)))
                    if choice_id is not None:
                        answer.choice_id = choice_id
                    elif isinstance(pick, Decimal):
                        answer.number = pick
                    elif lookups.layout.questions[name].kind == QuestionKind.LIKERT:
                        answer.number = Decimal(pick)
                    else:
                        answer.text = str(pick)
                    answers.append(answer)
        SurveyAnswer.objects.bulk_create(answers, batch_size=BATCH)


def write_rejections(result: ImportResult, out: IO[str]) -> None:
    from educap.assessments.io.odk import write_report

    write_report(result.problems, out)


def rejection_report_text(result: ImportResult) -> str:
    out = io.StringIO()
    write_rejections(result, out)
    return out.getvalue()


__all__ = [
    "CampaignLookups",
    "ImportResult",
    "campaign_form_spec",
    "campaign_lookups",
    "campaign_xlsform",
    "rejection_report_text",
    "submissions_import",
    "write_rejections",
]
