"""Campaign set-ups for tests, built on the mini ministry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from educap.assessments.models import Campaign
from educap.core.testing import MiniMinistry
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    LevelIndicator,
    ProficiencyScale,
    Requirement,
    RoleProfile,
)
from educap.people.models import Role


def make_published_framework(code: str = "EMIS-T", validity_months: int = 36) -> Framework:
    """Two domains x two competencies; every mini-ministry role has a profile.

    Profiles: all staff need D1.1 at 2; EMIS officers add D1.2 at 3 and D2.1 at 3 (critical);
    head teachers add D2.2 at 3; teachers need only the base.
    """
    scale = ProficiencyScale.objects.get(code="default-5")
    framework = Framework.objects.create(
        code=code,
        version="1.0",
        title=f"{code} framework",
        scale=scale,
        status=FrameworkStatus.PUBLISHED,
        published_at=timezone.now(),
        validity_months=validity_months,
    )
    levels = {level.value: level for level in scale.levels.all()}
    items: dict[str, FrameworkItem] = {}
    for d in (1, 2):
        domain = FrameworkItem.objects.create(
            framework=framework, kind="domain", code=f"D{d}", statement=f"Domain {d}", sequence=d
        )
        for c in (1, 2):
            items[f"D{d}.{c}"] = item = FrameworkItem.objects.create(
                framework=framework,
                parent=domain,
                kind="competency",
                code=f"D{d}.{c}",
                statement=f"Competency {d}.{c}",
                statement_ar=f"الكفاءة {d}.{c}",
                sequence=c,
            )
            LevelIndicator.objects.bulk_create(
                LevelIndicator(item=item, level=level, text=f"D{d}.{c} at level {value}")
                for value, level in levels.items()
            )
    base = RoleProfile.objects.create(framework=framework, code="all-staff", name="All staff")
    Requirement.objects.create(profile=base, item=items["D1.1"], level=levels[2], weight=2)

    def profile(role_code: str, needs: list[tuple[str, int, int]]) -> None:
        role = Role.objects.get(code=role_code)
        p = RoleProfile.objects.create(
            framework=framework, code=role_code, name=role.name, role=role, base=base
        )
        for item_code, value, weight in needs:
            Requirement.objects.create(
                profile=p, item=items[item_code], level=levels[value], weight=weight
            )

    profile("emis_officer", [("D1.2", 3, 2), ("D2.1", 3, 4)])
    profile("head_teacher", [("D2.2", 3, 3)])
    profile("teacher", [])
    return framework


def make_campaign(ministry: MiniMinistry, **fields: Any) -> Campaign:
    """A draft campaign over the whole mini ministry collecting self and supervisor ratings."""
    framework = fields.pop("framework", None) or make_published_framework()
    today = timezone.localdate()
    defaults: dict[str, Any] = {
        "code": "CAMP-1",
        "title": "Skills assessment",
        "framework": framework,
        "opens_on": today - dt.timedelta(days=1),
        "closes_on": today + dt.timedelta(days=30),
    }
    defaults.update(fields)
    campaign = Campaign.objects.create(**defaults)
    campaign.target_units.set([ministry.units["MOE"]])
    return campaign
