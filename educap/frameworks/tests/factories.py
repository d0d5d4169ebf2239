"""A small framework built straight through the ORM, for tests."""

from __future__ import annotations

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


def make_framework(
    code: str = "TEST", version: str = "1.0", status: str = FrameworkStatus.DRAFT
) -> Framework:
    """Two domains with two competencies each, indicators on every level, two profiles."""
    scale = ProficiencyScale.objects.get(code="default-5")
    framework = Framework.objects.create(
        code=code, version=version, title=f"{code} framework", scale=scale, status=status
    )
    levels = list(scale.levels.order_by("value"))
    for d in (1, 2):
        domain = FrameworkItem.objects.create(
            framework=framework, kind="domain", code=f"D{d}", statement=f"Domain {d}", sequence=d
        )
        for c in (1, 2):
            item = FrameworkItem.objects.create(
                framework=framework,
                parent=domain,
                kind="competency",
                code=f"D{d}.{c}",
                statement=f"Competency {d}.{c}",
                statement_ar=f"كفاءة {d}.{c}",
                sequence=c,
            )
            for level in levels:
                LevelIndicator.objects.create(
                    item=item, level=level, text=f"D{d}.{c} at level {level.value}"
                )
    base = RoleProfile.objects.create(framework=framework, code="all-staff", name="All staff")
    role, _ = Role.objects.get_or_create(code="statistician", defaults={"name": "Statistician"})
    stat = RoleProfile.objects.create(
        framework=framework, code="statistician", name="Statistician", role=role, base=base
    )
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    Requirement.objects.create(profile=base, item=item, level=levels[1], weight=1)
    Requirement.objects.create(
        profile=stat,
        item=FrameworkItem.objects.get(framework=framework, code="D2.1"),
        level=levels[4],
        weight=4,
    )
    return framework
