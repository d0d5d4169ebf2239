"""Demo campaigns for the demo ministry (see educap/core/demo.py).

Two campaigns against the shipped EMIS framework, over the whole ministry:

- `MASS-DEMO`, closed a few months ago: self, supervisor and knowledge-test ratings for most
  staff (and the MASS survey when it is installed), with levels that differ by role, domain
  and governorate so that gap reports show patterns;
- `EMIS-2026-Q4`, open now: launched through the service, about a third of the work
  submitted, some started with drafts, the rest invited. The demo personas have work to do
  in it: the staff persona's self rating is not submitted, the supervisor persona has team
  members left to rate.

Everything is written in bulk (a few dozen queries and one `bulk_create` per table,
whatever the number of staff); current levels are rebuilt once at the end. Dates are
relative to today so that the evidence stays valid and the open campaign stays open.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    CurrentLevel,
    DraftRating,
    QuestionKind,
    RaterAssignment,
    Rating,
    Source,
    Submission,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    TestAttempt,
)
from educap.assessments.services import campaign_create, campaign_launch
from educap.core.demo import _fast_sqlite, _indexes_built_after, _insert, _next_pk
from educap.frameworks.models import Framework, FrameworkItem, RoleProfile, ScaleLevel
from educap.frameworks.selectors import profile_requirements
from educap.people.models import Person

CLOSED_CODE = "MASS-DEMO"
OPEN_CODE = "EMIS-2026-Q4"
DEMO_CAMPAIGNS = (CLOSED_CODE, OPEN_CODE)
BATCH = 5000
TOP = 4  # highest value of the default scale

# Share of people with each kind of evidence in the closed campaign.
CLOSED_SHARE = {
    AssignmentKind.SELF: 0.85,
    AssignmentKind.SUPERVISOR: 0.75,
    AssignmentKind.TEST: 0.60,
    AssignmentKind.SURVEY: 0.55,
}
OPEN_SUBMITTED, OPEN_STARTED = 0.35, 0.15

# Where each role tends to stand against its requirements, per domain (competency code
# prefix); everything else is 0. Negative: below what the post requires.
ROLE_DOMAIN_SHIFT: dict[str, dict[str, float]] = {
    "teacher": {"DC": -0.6, "DQ": -0.7, "DP": -0.5, "RD": -0.3},
    "data_clerk": {"DQ": -0.4, "SA": -0.8, "DP": -0.6, "IC": 0.2},
    "head_teacher": {"SM": 0.3, "LM": 0.1, "PF": -0.7, "DQ": -0.5, "ME": -0.4},
    "emis_officer": {"DC": 0.4, "DQ": 0.2, "SA": -0.4, "IC": 0.1},
    "statistician": {"SA": 0.5, "RD": -0.3, "EP": -0.3},
    "planner": {"EP": 0.4, "SA": -0.4, "PF": -0.2},
    "ict_support": {"IC": 0.6, "DP": 0.2, "RD": -0.4},
    "finance_officer": {"PF": 0.5, "DQ": -0.3},
    "hr_officer": {"AP": 0.4, "DP": -0.4},
    "m_and_e_officer": {"ME": 0.4, "SA": -0.2},
    "district_education_officer": {"LM": 0.2, "EP": -0.5, "PF": -0.4},
    "governorate_director": {"LM": 0.3, "EP": -0.2},
    "central_director": {"LM": 0.4},
}
# Governorates in code order: some are ahead, some behind (wraps for bigger countries).
GOVERNORATE_SHIFT = (0.1, 0.35, -0.55, 0.2, -0.3, -0.05, 0.25, -0.45)


@dataclass(frozen=True)
class DemoAssessmentsSummary:
    campaigns: int
    assignments: int
    ratings: int
    current_levels: int
    survey: bool


@dataclass
class _Person:
    pk: int
    unit_id: int | None
    role_id: int | None
    role_code: str
    supervisor_id: int | None
    governorate: int  # index of the person's governorate, -1 at the ministry
    ability: float


class _Levels:
    """The demo's model of how good people are, and how each source reports it."""

    def __init__(self, rnd: random.Random, items: dict[int, FrameworkItem]) -> None:
        self.rnd = rnd
        self.domain = {pk: item.code.split(".")[0] for pk, item in items.items()}

    def true(self, person: _Person, item_id: int, required: int) -> float:
        shift = ROLE_DOMAIN_SHIFT.get(person.role_code, {}).get(self.domain[item_id], 0.0)
        area = GOVERNORATE_SHIFT[person.governorate % len(GOVERNORATE_SHIFT)]
        area = 0.0 if person.governorate < 0 else area
        return required - 0.3 + person.ability + shift + area

    def reported(self, true: float, source: str, bonus: float = 0.0) -> int:
        gauss = self.rnd.gauss
        if source == Source.SELF:  # people rate themselves a little higher
            value = true + 0.45 + gauss(0, 0.55)
        elif source == Source.SUPERVISOR:
            value = true + gauss(0, 0.5)
        else:  # knowledge test: noisier
            value = true - 0.1 + gauss(0, 0.7)
        return max(0, min(TOP, round(value + bonus)))


def demo_assessments_load(
    *, framework: Framework, seed: int = 1, today: dt.date | None = None
) -> DemoAssessmentsSummary:
    """Create the two demo campaigns (skipped when either exists) and rebuild current levels."""
    if Campaign.objects.filter(code__in=DEMO_CAMPAIGNS).exists():
        return DemoAssessmentsSummary(0, 0, 0, CurrentLevel.objects.count(), False)
    today = today or timezone.localdate()
    # Demo data, not secrets: a seeded PRNG keeps the demo the same for a seed.
    rnd = random.Random(f"educap-demo:{seed}:assessments")  # noqa: S311
    written = [RaterAssignment, Rating, DraftRating, SurveyResponse, SurveyAnswer]
    with _fast_sqlite(), transaction.atomic():
        survey = _mass_survey()
        context = _Context.build(framework, rnd)
        with _indexes_built_after(written):
            closed = _closed_campaign(context, survey, today)
            opened = _open_campaign(context, today)
        levels = current_levels_rebuild()
    return DemoAssessmentsSummary(
        campaigns=2,
        assignments=closed[0] + opened[0],
        ratings=closed[1] + opened[1],
        current_levels=levels,
        survey=survey is not None,
    )


def demo_assessments_wipe() -> None:
    """Delete the demo campaigns with all their assignments, answers and ratings."""
    campaigns = Campaign.objects.filter(code__in=DEMO_CAMPAIGNS)
    if not campaigns.exists():
        return
    assignments = RaterAssignment.objects.filter(campaign__in=campaigns)
    Rating.objects.filter(campaign__in=campaigns).delete()
    SurveyAnswer.objects.filter(response__assignment__in=assignments).delete()
    SurveyResponse.objects.filter(assignment__in=assignments).delete()
    TestAttempt.objects.filter(assignment__in=assignments).delete()
    DraftRating.objects.filter(assignment__in=assignments).delete()
    Submission.objects.filter(campaign__in=campaigns).delete()
    assignments.delete()
    for campaign in campaigns:
        campaign.target_units.clear()
        campaign.target_roles.clear()
        campaign.target_people.clear()
    campaigns.delete()
    current_levels_rebuild()


def _mass_survey() -> Survey | None:
    """The MASS survey, when this installation has its installer."""
    try:
        from educap.assessments.surveys import install_mass_survey  # type: ignore[attr-defined]
    except ImportError:
        return None
    survey: Survey = install_mass_survey()
    return survey


# --- shared context --------------------------------------------------------------------


@dataclass
class _Context:
    framework: Framework
    rnd: random.Random
    people: dict[int, _Person]
    # profile id -> [(competency id, required level value)]
    needs: dict[int, list[tuple[int, int]]]
    profile_of_role: dict[int, int]
    scale_levels: dict[int, int]  # value -> ScaleLevel pk
    model: _Levels
    personas: dict[str, int]  # demo username -> person id

    @classmethod
    def build(cls, framework: Framework, rnd: random.Random) -> _Context:
        profiles = list(RoleProfile.objects.filter(framework=framework).select_related("base"))
        needs = {
            p.pk: sorted(
                (item, r.level.value) for item, r in profile_requirements(profile=p).items()
            )
            for p in profiles
        }
        items = FrameworkItem.objects.in_bulk({i for rows in needs.values() for i, _ in rows})
        governorates: dict[str, int] = {}
        people: dict[int, _Person] = {}
        rows = Person.objects.filter(is_active=True).values_list(
            "pk", "unit_id", "unit__path", "role_id", "role__code", "supervisor_id"
        )
        for pk, unit_id, path, role_id, role_code, supervisor_id in rows.order_by("pk"):
            parts = (path or "").split("/")
            governorate = -1
            if len(parts) > 2 and parts[1]:
                governorate = governorates.setdefault(parts[1], len(governorates))
            people[pk] = _Person(
                pk,
                unit_id,
                role_id,
                role_code or "",
                supervisor_id,
                governorate,
                rnd.gauss(0, 0.55),
            )
        from educap.core.demo import DEMO_USERNAMES, _demo_users

        personas = {
            name: person_id
            for name, person_id in _demo_users().values_list("username", "person_id")
            if person_id is not None and name in DEMO_USERNAMES
        }
        return cls(
            framework=framework,
            rnd=rnd,
            people=people,
            needs=needs,
            profile_of_role={p.role_id: p.pk for p in profiles if p.role_id is not None},
            scale_levels=dict(
                ScaleLevel.objects.filter(scale_id=framework.scale_id).values_list("value", "pk")
            ),
            model=_Levels(rnd, items),
            personas=personas,
        )


def _moment(rnd: random.Random, start: dt.date, end: dt.date) -> dt.datetime:
    """A working-hours moment between two days (inclusive), in the current time zone."""
    day = start + dt.timedelta(days=rnd.randint(0, max(0, (end - start).days)))
    naive = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=rnd.randrange(9 * 60))
    return timezone.make_aware(naive)


def _batched(rows: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the closed campaign ---------------------------------------------------------------


def _closed_campaign(context: _Context, survey: Survey | None, today: dt.date) -> tuple[int, int]:
    """MASS-DEMO: closed, most evidence in. Returns (assignments, ratings)."""
    from educap.org.models import OrgUnit

    opens_on, closes_on = today - dt.timedelta(days=150), today - dt.timedelta(days=95)
    campaign = campaign_create(
        actor=None,
        code=CLOSED_CODE,
        title_en="Management and administration skills assessment (baseline)",
        title_ar="تقييم مهارات الإدارة والتسيير (خط الأساس)",
        title_fr="Évaluation des compétences de gestion et d'administration (situation de départ)",
        title_lo="ການປະເມີນທັກສະການຄຸ້ມຄອງ ແລະ ບໍລິຫານ (ພື້ນຖານ)",
        description_en="Baseline assessment of all staff: self rating, supervisor rating, "
        "knowledge test and the Management and Administration Skills Survey.",
        framework=context.framework,
        opens_on=opens_on,
        closes_on=closes_on,
        collect_self=True,
        collect_supervisor=True,
        collect_test=True,
        collect_survey=survey is not None,
        survey=survey,
        target_units=OrgUnit.objects.filter(parent__isnull=True),
    )
    rnd, model = context.rnd, context.model
    adapt = connection.ops.adapt_datetimefield_value
    # Primary keys allotted up front, so ratings can point at their assignment.
    first_pk = next_pk = _next_pk(RaterAssignment)
    assignments: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    n_ratings = 0
    kinds = [AssignmentKind.SELF, AssignmentKind.SUPERVISOR, AssignmentKind.TEST]
    if survey is not None:
        kinds.append(AssignmentKind.SURVEY)
    surveyed: list[tuple[int, Any]] = []  # (assignment id, submitted at) of submitted surveys
    for person in context.people.values():
        profile_id = context.profile_of_role.get(person.role_id or 0)
        needs = context.needs.get(profile_id or 0, [])
        true = {item: model.true(person, item, required) for item, required in needs}
        self_at = _moment(rnd, opens_on, closes_on - dt.timedelta(days=10))
        for kind in kinds:
            if kind != AssignmentKind.SURVEY and profile_id is None:
                continue
            rater = person.pk
            if kind == AssignmentKind.SUPERVISOR:
                if person.supervisor_id is None:
                    continue
                rater = person.supervisor_id
            submitted = rnd.random() < CLOSED_SHARE[kind]
            at = self_at if kind == AssignmentKind.SELF else _moment(rnd, opens_on, closes_on)
            if kind == AssignmentKind.SUPERVISOR:
                at = self_at + dt.timedelta(days=rnd.randint(1, 9), hours=rnd.randint(0, 5))
            status = AssignmentStatus.SUBMITTED if submitted else AssignmentStatus.INVITED
            if not submitted and rnd.random() < 0.35:
                status = AssignmentStatus.STARTED
            pk = next_pk
            next_pk += 1
            at_db = adapt(at)
            started = adapt(at - dt.timedelta(minutes=25)) if status != "invited" else None
            assignments.append(
                (
                    pk,
                    campaign.pk,
                    str(kind),
                    person.pk,
                    rater,
                    person.unit_id,
                    person.role_id,
                    profile_id,
                    str(status),
                    started,
                    at_db if submitted else None,
                )
            )
            if not submitted:
                continue
            if kind == AssignmentKind.SURVEY:
                surveyed.append((pk, at_db))
                continue
            source = {"self": Source.SELF, "supervisor": Source.SUPERVISOR}.get(kind, Source.TEST)
            rater_id = None if source == Source.TEST else rater
            ratings.extend(
                (
                    person.pk,
                    item,
                    str(source),
                    model.reported(true[item], source),
                    rater_id,
                    campaign.pk,
                    pk,
                    at_db,
                )
                for item, _required in needs
            )
        if len(ratings) >= BATCH:
            _flush(assignments, ratings)
            n_ratings += len(ratings)
            assignments, ratings = [], []
    n_assignments = next_pk - first_pk
    _flush(assignments, ratings)
    n_ratings += len(ratings)
    if survey is not None:
        _survey_responses(context, survey, surveyed)
    _reset_sequences()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.CLOSED,
        launched_at=timezone.make_aware(dt.datetime.combine(opens_on, dt.time(7))),
        closed_at=timezone.make_aware(dt.datetime.combine(closes_on, dt.time(23))),
    )
    return n_assignments, n_ratings


ASSIGNMENT_COLUMNS = [
    "id",
    "campaign",
    "kind",
    "ratee",
    "rater",
    "unit",
    "role",
    "profile",
    "status",
    "started_at",
    "submitted_at",
]
RATING_COLUMNS = [
    "person",
    "item",
    "source",
    "value",
    "rater",
    "campaign",
    "assignment",
    "rated_at",
]


def _flush(assignments: list[tuple[Any, ...]], ratings: list[tuple[Any, ...]]) -> None:
    if assignments:
        _insert(RaterAssignment, ASSIGNMENT_COLUMNS, assignments)
    if ratings:
        _insert(Rating, RATING_COLUMNS, ratings)


def _reset_sequences() -> None:
    """After rows written with their own primary keys (PostgreSQL sequences lag behind)."""
    models_ = [RaterAssignment, SurveyResponse]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models_):
            cursor.execute(sql)


def _survey_responses(context: _Context, survey: Survey, submitted: list[tuple[int, Any]]) -> None:
    """Plausible answers to every question that is not free text."""
    from educap.assessments.models import SurveyQuestion

    rnd = context.rnd
    questions = [
        (question, list(question.choices.all()))
        for question in SurveyQuestion.objects.filter(section__survey=survey).prefetch_related(
            "choices"
        )
    ]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    next_pk = _next_pk(SurveyResponse)
    responses: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    for assignment_id, submitted_at in submitted:
        response = next_pk
        next_pk += 1
        responses.append((response, assignment_id, submitted_at, now))
        for question, choices in questions:
            if question.kind == QuestionKind.TEXT or (not question.required and rnd.random() < 0.1):
                continue
            if question.kind == QuestionKind.MULTIPLE and choices:
                picked = rnd.sample(choices, k=min(len(choices), rnd.randint(1, 3)))
                answers.extend((response, question.pk, c.pk, None, "") for c in picked)
            elif choices:
                # Later options (usually "more", "agree") a little more often.
                weights = [2 + i for i in range(len(choices))]
                choice = rnd.choices(choices, weights)[0]
                answers.append((response, question.pk, choice.pk, None, ""))
            else:
                low = int(question.min_value if question.min_value is not None else 1)
                high = int(question.max_value if question.max_value is not None else 5)
                if question.kind == QuestionKind.LIKERT:
                    low, high = 1, 5
                high = max(low, min(high, low + 40))
                value = round(rnd.triangular(low, high, low + (high - low) * 0.6))
                answers.append((response, question.pk, None, value, ""))
        if len(answers) >= BATCH:
            _insert(SurveyResponse, ["id", "assignment", "submitted_at", "updated_at"], responses)
            _insert(SurveyAnswer, ["response", "question", "choice", "number", "text"], answers)
            responses, answers = [], []
    _insert(SurveyResponse, ["id", "assignment", "submitted_at", "updated_at"], responses)
    _insert(SurveyAnswer, ["response", "question", "choice", "number", "text"], answers)


# --- the open campaign -----------------------------------------------------------------


def _open_campaign(context: _Context, today: dt.date) -> tuple[int, int]:
    """EMIS-2026-Q4: open, about a third done. Returns (assignments, ratings)."""
    from educap.org.models import OrgUnit

    opens_on, closes_on = today - dt.timedelta(days=14), today + dt.timedelta(days=30)
    campaign = campaign_create(
        actor=None,
        code=OPEN_CODE,
        title_en="EMIS staff competency assessment, 2026 Q4",
        title_ar="تقييم كفاءات العاملين في نظام معلومات إدارة التعليم، الربع الرابع 2026",
        title_fr="Évaluation des compétences du personnel du SIGE, T4 2026",
        title_lo="ການປະເມີນສະມັດຕະພາບພະນັກງານ EMIS, ໄຕມາດທີ 4 ປີ 2026",
        description_en="Self and supervisor ratings against the EMIS staff competency "
        "framework, six months after the baseline.",
        framework=context.framework,
        opens_on=opens_on,
        closes_on=closes_on,
        collect_self=True,
        collect_supervisor=True,
        supervisor_sees_self=True,
        target_units=OrgUnit.objects.filter(parent__isnull=True),
    )
    campaign_launch(actor=None, campaign=campaign)
    rnd, model = context.rnd, context.model
    staff_persona = context.personas.get("staff")
    boss_persona = context.personas.get("supervisor")
    assignments = list(
        RaterAssignment.objects.filter(campaign=campaign)
        .order_by("pk")
        .only("pk", "kind", "ratee_id", "rater_id", "profile_id", "status")
    )
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    self_done: set[int] = set()
    boss_left = 0
    ratings: list[tuple[Any, ...]] = []
    drafts: list[tuple[Any, ...]] = []
    changed: list[tuple[Any, ...]] = []
    for a in sorted(assignments, key=lambda a: (a.kind != AssignmentKind.SELF, a.pk)):
        draw = rnd.random()
        if a.kind == AssignmentKind.SUPERVISOR and a.ratee_id in self_done:
            draw *= 0.8  # supervisors tend to follow their team's self ratings
        status = AssignmentStatus.INVITED
        if draw < OPEN_SUBMITTED:
            status = AssignmentStatus.SUBMITTED
        elif draw < OPEN_SUBMITTED + OPEN_STARTED:
            status = AssignmentStatus.STARTED
        # The tour: the staff persona still has to rate themselves; the supervisor persona
        # has team members left to rate, while the others are done.
        if a.ratee_id == staff_persona and a.kind == AssignmentKind.SELF:
            status = AssignmentStatus.INVITED
        if a.rater_id == boss_persona and a.kind == AssignmentKind.SUPERVISOR:
            status = AssignmentStatus.SUBMITTED if boss_left >= 2 else AssignmentStatus.INVITED
            if a.ratee_id == staff_persona:
                status = AssignmentStatus.INVITED
            boss_left += status == AssignmentStatus.INVITED
        if status == AssignmentStatus.INVITED:
            continue
        person = context.people[a.ratee_id]
        needs = context.needs.get(a.profile_id or 0, [])
        at = _moment(rnd, opens_on, today)
        at_db = adapt(at)
        started_at = adapt(at - dt.timedelta(minutes=rnd.randint(5, 90)))
        source = Source.SELF if a.kind == AssignmentKind.SELF else Source.SUPERVISOR
        if status == AssignmentStatus.STARTED:
            changed.append((str(status), started_at, None, a.pk))
            for item, required in needs[: max(1, len(needs) // 2)]:
                value = model.reported(model.true(person, item, required), source, bonus=0.2)
                drafts.append((a.pk, item, context.scale_levels[value], "", "", now))
            continue
        changed.append((str(status), started_at, at_db, a.pk))
        if a.kind == AssignmentKind.SELF:
            self_done.add(a.ratee_id)
        ratings.extend(
            (
                a.ratee_id,
                item,
                str(source),
                # Six months of training since the baseline: a little better on average.
                model.reported(model.true(person, item, required), source, bonus=0.2),
                a.rater_id,
                campaign.pk,
                a.pk,
                at_db,
            )
            for item, required in needs
        )
    table = connection.ops.quote_name(RaterAssignment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, started_at = %s, submitted_at = %s "  # noqa: S608
            "WHERE id = %s",
            changed,
        )
    for batch in _batched(ratings):
        _insert(Rating, RATING_COLUMNS, batch)
    for batch in _batched(drafts):
        _insert(
            DraftRating, ["assignment", "item", "level", "comment", "evidence", "updated_at"], batch
        )
    return len(assignments), len(ratings)
