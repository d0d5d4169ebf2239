"""Demo CPD for the demo ministry (see educap/core/demo.py).

Requirements per role for this year and last year (most roles in hours, a few in credits or
both, some roles with none), and external learning for about half of the staff: approved,
rejected and — mostly in the last weeks — awaiting approval. The demo personas get a story:
the staff persona has approved learning and a webinar awaiting approval, and the supervisor
persona has a few team members' records (with evidence files) to decide.

Deterministic for a seed and a day (dates are relative to `today`, so this year always has
data); written with a handful of bulk inserts whatever the number of staff. Running it again
sets the requirements again and adds no record.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from educap.accounts.models import User
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.people.models import Person, Role
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus

BATCH = 5000
# Share of active staff with external learning in a year.
SAMPLE_SHARE = 0.55
PERSONA_TEAM_PENDING = 3

# role code -> (hours, credits) required per year; roles not listed have no requirement.
REQUIREMENTS: dict[str, tuple[int | None, int | None]] = {
    "teacher": (20, None),
    "head_teacher": (30, None),
    "emis_officer": (30, 2),
    "data_clerk": (15, None),
    "statistician": (None, 4),
    "planner": (25, None),
    "ict_support": (20, None),
    "finance_officer": (20, None),
    "hr_officer": (20, None),
    "m_and_e_officer": (25, 2),
    "district_education_officer": (30, None),
    "governorate_director": (30, None),
}

# kind -> (weight, hour range, chance of credits)
KINDS: dict[str, tuple[int, tuple[int, int], float]] = {
    CpdKind.COURSE: (35, (6, 40), 0.3),
    CpdKind.WEBINAR: (30, (1, 3), 0.0),
    CpdKind.CONFERENCE: (15, (8, 24), 0.2),
    CpdKind.ACADEMIC: (5, (40, 120), 1.0),
    CpdKind.OTHER: (15, (2, 10), 0.0),
}
TITLES: dict[str, tuple[str, ...]] = {
    CpdKind.COURSE: (
        "Data visualisation with spreadsheets",
        "Introduction to education statistics",
        "Project management essentials",
        "School leadership and management",
        "Inclusive classroom practice",
        "Public financial management",
    ),
    CpdKind.WEBINAR: (
        "UIS data release: what is new",
        "Using EMIS data for school improvement",
        "Digital safety for school staff",
        "Gender-disaggregated reporting",
    ),
    CpdKind.CONFERENCE: (
        "Regional EMIS conference",
        "National education forum",
        "Teacher development symposium",
    ),
    CpdKind.ACADEMIC: (
        "Diploma in educational planning",
        "Master's module: education policy analysis",
    ),
    CpdKind.OTHER: (
        "Study visit to a neighbouring district",
        "Peer-learning circle on data quality",
        "Self-study: SDG 4 indicators",
    ),
}
PROVIDERS = (
    "UNESCO IIEP",
    "UNICEF",
    "National University",
    "Teacher Training Institute",
    "Coursera",
    "Ministry partners",
)
REJECTION_NOTES = (
    "The certificate does not show the dates.",
    "Please attach the attendance certificate.",
    "Hours do not match the programme.",
)


def _demo_pdf(title: str) -> bytes:
    """A one-page PDF certificate (valid structure, built by hand: no renderer needed)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")[:80]
    stream = (
        f"BT /F1 18 Tf 72 720 Td (Certificate of attendance) Tj 0 -32 Td /F1 12 Tf ({text}) Tj ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _hours(rnd: random.Random, kind: str) -> Decimal:
    low, high = KINDS[kind][1]
    return Decimal(rnd.randint(low * 2, high * 2)) / 2


def _record(
    rnd: random.Random,
    person_id: int,
    year: int,
    today: dt.date,
    *,
    status: str | None = None,
    recent: bool = False,
) -> CpdRecord | None:
    """One external record completed in `year` (before today; with `recent`, in the last
    three weeks), with a plausible outcome."""
    start = dt.date(year, 1, 1)
    if recent:
        start = max(start, today - dt.timedelta(days=21))
    end = min(dt.date(year, 12, 31), today - dt.timedelta(days=1))
    if end < start:
        return None
    kinds = list(KINDS)
    kind = rnd.choices(kinds, [KINDS[k][0] for k in kinds])[0]
    hours = _hours(rnd, kind)
    credits = Decimal(0)
    if rnd.random() < KINDS[kind][2]:
        credits = max(Decimal(1), (hours / 15).quantize(Decimal(1)))
    completed = start + dt.timedelta(days=rnd.randint(0, (end - start).days))
    age = (today - completed).days
    if status is None:
        draw = rnd.random()
        if age <= 30:
            status = CpdStatus.PENDING if draw < 0.6 else CpdStatus.APPROVED
        elif year < today.year:
            status = CpdStatus.REJECTED if draw < 0.08 else CpdStatus.APPROVED
        else:
            status = (
                CpdStatus.REJECTED
                if draw < 0.07
                else CpdStatus.PENDING
                if draw < 0.15
                else CpdStatus.APPROVED
            )
    decided = None
    if status != CpdStatus.PENDING:
        moment = dt.datetime.combine(completed + dt.timedelta(days=rnd.randint(2, 20)), dt.time(10))
        decided = min(timezone.make_aware(moment), timezone.now())
    return CpdRecord(
        person_id=person_id,
        kind=kind,
        title=rnd.choice(TITLES[kind]),
        provider=rnd.choice(PROVIDERS),
        completed_on=completed,
        hours=hours,
        credits=credits,
        status=status,
        decided_at=decided,
        decision_note=rnd.choice(REJECTION_NOTES) if status == CpdStatus.REJECTED else "",
    )


def _requirements_set(years: tuple[int, ...]) -> int:
    roles = dict(Role.objects.filter(code__in=REQUIREMENTS).values_list("code", "pk"))
    rows = [
        CpdRequirement(
            role_id=role_id,
            year=year,
            hours=None if REQUIREMENTS[code][0] is None else Decimal(REQUIREMENTS[code][0] or 0),
            credits=None if REQUIREMENTS[code][1] is None else Decimal(REQUIREMENTS[code][1] or 0),
        )
        for code, role_id in sorted(roles.items())
        for year in years
    ]
    CpdRequirement.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["role", "year"],
        update_fields=["hours", "credits"],
    )
    return len(rows)


def _persona_records(rnd: random.Random, today: dt.date, seed: int) -> list[CpdRecord]:
    """The staff persona's year and the supervisor persona's decisions to make."""
    people = dict(
        User.objects.filter(username__in=("staff", "supervisor"), person__isnull=False).values_list(
            "username", "person_id"
        )
    )
    records: list[CpdRecord] = []
    year = today.year
    staff_id, head_id = people.get("staff"), people.get("supervisor")
    if staff_id is not None:
        done = _record(rnd, staff_id, year, today, status=CpdStatus.APPROVED)
        waiting = _record(rnd, staff_id, year, today, status=CpdStatus.PENDING, recent=True)
        if waiting is not None:
            waiting.kind, waiting.title = CpdKind.WEBINAR, TITLES[CpdKind.WEBINAR][1]
            waiting.hours, waiting.credits = Decimal(2), Decimal(0)
        records += [r for r in (done, waiting) if r is not None]
    if head_id is not None:
        team = (
            Person.objects.filter(supervisor_id=head_id, is_active=True)
            .exclude(pk__in=[staff_id] if staff_id else [])  # already has one waiting
            .order_by("pk")
        )
        for person_id in team.values_list("pk", flat=True)[:PERSONA_TEAM_PENDING]:
            record = _record(rnd, person_id, year, today, status=CpdStatus.PENDING, recent=True)
            if record is not None:
                records.append(record)
    for n, record in enumerate(r for r in records if r.status == CpdStatus.PENDING):
        name = default_storage.save(
            f"training/cpd/demo-{seed}-{n}.pdf", ContentFile(_demo_pdf(record.title))
        )
        record.evidence.name = name
    return records


@transaction.atomic
def demo_cpd_load(*, seed: int = 1, today: dt.date | None = None) -> int:
    """Set the demo requirements and create the demo CPD records; returns how many records
    were created (0 when external records already exist)."""
    today = today or timezone.localdate()
    rnd = random.Random(f"educap-demo:{seed}:cpd")  # noqa: S311
    years = (today.year - 1, today.year)
    requirements = _requirements_set(years)
    external = CpdRecord.objects.filter(enrolment__isnull=True, statement_id__isnull=True)
    if external.exclude(kind=CpdKind.INTERNAL).exists():
        return 0
    records = _persona_records(rnd, today, seed)
    taken = {r.person_id for r in records}
    people = Person.objects.filter(is_active=True, role__isnull=False).order_by("pk")
    for person_id in people.values_list("pk", flat=True).iterator(chunk_size=BATCH):
        for year in years:
            if rnd.random() >= SAMPLE_SHARE or (person_id in taken and year == today.year):
                continue
            for _ in range(rnd.choice((1, 1, 2, 2, 3, 4))):
                record = _record(rnd, person_id, year, today)
                if record is not None:
                    records.append(record)
    CpdRecord.objects.bulk_create(records, batch_size=BATCH)
    audit_record(
        actor=None,
        action=AuditAction.IMPORT,
        object_type=CpdRecord._meta.label_lower,
        object_repr=f"demo CPD: {len(records)} records, {requirements} requirements",
    )
    return len(records)


def demo_cpd_wipe() -> int:
    """Delete the external CPD records this module writes (its titles and providers, not
    linked to an enrolment or an xAPI statement). Returns how many."""
    titles = {title for kind_titles in TITLES.values() for title in kind_titles}
    records = CpdRecord.objects.filter(
        enrolment__isnull=True,
        statement_id__isnull=True,
        title__in=titles,
        provider__in=PROVIDERS,
    )
    return records.delete()[0]
