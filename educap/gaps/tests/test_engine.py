"""The engine against a brute-force oracle on random hierarchies, profiles and levels,
including moves of people and units; increments must equal a rebuild."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.assessments.consolidation import _log_changes
from educap.assessments.models import CurrentLevel
from educap.core.testing import make_levels, make_unit
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ProficiencyScale,
    Requirement,
    RoleProfile,
)
from educap.gaps.engine import (
    COUNTS,
    gaps_apply_changes,
    gaps_rebuild,
    gaps_refresh,
    staff_meeting,
    unit_rows,
)
from educap.gaps.models import Scope, UnitGap
from educap.org.models import OrgUnit
from educap.org.services import orgunit_move
from educap.people.models import Person, Role

pytestmark = pytest.mark.django_db

ITEMS = 3
ROLES = 3


def oracle_requirements() -> dict[int, dict[int, tuple[int, int]]]:
    """role id -> competency id -> (required level, weight), inheritance resolved."""
    requirements: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for profile in RoleProfile.objects.filter(
        framework__status=FrameworkStatus.PUBLISHED, role__isnull=False
    ):
        chain, current = [], profile
        while current is not None:
            chain.append(current)
            current = current.base
        for link in reversed(chain):  # the closest profile wins
            for req in Requirement.objects.filter(profile=link).select_related("level"):
                requirements[profile.role_id][req.item_id] = (req.level.value, req.weight)
    return requirements


def oracle() -> dict[tuple[int, int, int, str, bool], tuple[int, ...]]:
    """Straight from the definitions, one person at a time."""
    requirements = oracle_requirements()
    levels = {(c.person_id, c.item_id): c for c in CurrentLevel.objects.all()}
    units = {u.pk: u for u in OrgUnit.objects.all()}
    out: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for person in Person.objects.filter(is_active=True, unit__isnull=False):
        own_path = units[person.unit_id].path
        for item_id, (required, weight) in requirements.get(person.role_id, {}).items():
            level = levels.get((person.pk, item_id))
            row = [1, 0, 0, 0, 0, 0, 0, 0, 0]
            if level is not None:
                gap = max(0, required - level.value)
                row = [1, 1, int(gap == 0), int(gap > 0), gap, weight * gap, weight * required]
                paired = level.self_value is not None and level.supervisor_value is not None
                row += [1, level.self_value - level.supervisor_value] if paired else [0, 0]
            targets = [(person.unit_id, False)] + [
                (u.pk, True) for u in units.values() if own_path.startswith(u.path)
            ]
            for unit_id, subtree in targets:
                key = (unit_id, item_id, person.role_id, person.sex, subtree)
                out[key] = [a + b for a, b in zip(out[key], row, strict=True)]
    return {k: tuple(v) for k, v in out.items()}


Key = tuple[int, int, int | None, str, int]


def expected() -> dict[Key, tuple[int, ...]]:
    """The oracle in the stored grain: units with child units by role and sex (OWN,
    SUBTREE, and LEAF_CHILDREN: their child units without children) and over all roles and
    sexes (TOTAL); units without child units nothing (read live: see
    `live_rows_match_the_oracle`)."""
    units = {u.pk: u for u in OrgUnit.objects.all()}
    parents = {u.parent_id for u in units.values()}
    out: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTS))

    def add(key: Key, counts: tuple[int, ...]) -> None:
        out[key] = [a + b for a, b in zip(out[key], counts, strict=True)]

    for (unit_id, item_id, role_id, sex, subtree), counts in oracle().items():
        parent_id = units[unit_id].parent_id
        if unit_id in parents:
            add((unit_id, item_id, role_id, sex, Scope.SUBTREE if subtree else Scope.OWN), counts)
            if subtree:
                add((unit_id, item_id, None, "", Scope.TOTAL), counts)
        elif not subtree and parent_id is not None:
            add((parent_id, item_id, role_id, sex, Scope.LEAF_CHILDREN), counts)
    return {k: tuple(v) for k, v in out.items()}


def stored() -> dict[Key, tuple[int, ...]]:
    out = {}
    for g in UnitGap.objects.all():
        key = (g.unit_id, g.item_id, g.role_id, g.sex, g.scope)
        assert key not in out, key
        out[key] = tuple(getattr(g, c) for c in COUNTS)
    return out


def live_rows_match_the_oracle(framework_id: int) -> None:
    """`unit_rows` (a unit's own staff from the current levels, by role and sex or per
    competency) and `staff_meeting` for every unit equal the oracle's own rows."""
    own = {k[:4]: v for k, v in oracle().items() if not k[4]}
    unit_ids = list(OrgUnit.objects.values_list("pk", flat=True))
    rows = unit_rows(unit_ids=unit_ids, framework_id=framework_id)
    live = {
        (r["unit_id"], r["item_id"], r["role_id"], r["sex"]): tuple(r[c] for c in COUNTS)
        for r in rows
    }
    assert live == own
    per_item: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for (unit_id, item_id, _role, _sex), counts in own.items():
        key = (unit_id, item_id)
        per_item[key] = [a + b for a, b in zip(per_item[key], counts, strict=True)]
    rows = unit_rows(unit_ids=unit_ids, framework_id=framework_id, by_role_sex=False)
    assert all(r["role_id"] is None and r["sex"] == "" for r in rows)
    live_items = {(r["unit_id"], r["item_id"]): tuple(r[c] for c in COUNTS) for r in rows}
    assert live_items == {k: tuple(v) for k, v in per_item.items()}
    # Who meets the competencies of weight 3 or more, per unit x role x competency.
    weights = {
        (role_id, item_id): weight
        for role_id, items in oracle_requirements().items()
        for item_id, (_required, weight) in items.items()
    }
    meeting: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for (unit_id, item_id, role_id, _sex), counts in own.items():
        if weights[(role_id, item_id)] >= 3:
            key = (unit_id, role_id, item_id)
            meeting[key] = [meeting[key][0] + counts[0], meeting[key][1] + counts[2]]
    rows = staff_meeting(unit_ids=unit_ids, framework_id=framework_id, weight=3)
    live_meeting = {
        (r["unit_id"], r["role_id"], r["item_id"]): [r["in_scope"], r["meeting"]] for r in rows
    }
    assert live_meeting == dict(meeting)


def build_world(data) -> dict:
    levels = make_levels()
    by_depth = sorted(levels.values(), key=lambda lv: lv.depth)
    parents = data.draw(st.lists(st.integers(0, 50), min_size=1, max_size=7), label="tree")
    units = [make_unit("U0", by_depth[0])]
    for i, choice in enumerate(parents, start=1):
        parent = units[choice % len(units)]
        units.append(make_unit(f"U{i}", by_depth[min(parent.depth + 1, 3)], parent))
    scale = ProficiencyScale.objects.get(code="default-5")
    scale_levels = {lv.value: lv for lv in scale.levels.all()}
    framework = Framework.objects.create(
        code="F", title="F", scale=scale, status=FrameworkStatus.PUBLISHED
    )
    items = [
        FrameworkItem.objects.create(
            framework=framework, kind="competency", code=f"C{i}", statement=f"C{i}"
        )
        for i in range(ITEMS)
    ]
    roles = [Role.objects.create(code=f"R{i}", name=f"R{i}") for i in range(ROLES)]
    base = RoleProfile.objects.create(framework=framework, code="base", name="base")
    if data.draw(st.booleans(), label="base requirement"):
        Requirement.objects.create(profile=base, item=items[0], level=scale_levels[2], weight=1)
    for role in roles[:-1]:  # the last role has no profile: never in scope
        profile = RoleProfile.objects.create(
            framework=framework,
            code=role.code,
            name=role.name,
            role=role,
            base=base if data.draw(st.booleans(), label="inherits") else None,
        )
        for item in items:
            if data.draw(st.booleans(), label="requires"):
                Requirement.objects.create(
                    profile=profile,
                    item=item,
                    level=scale_levels[data.draw(st.integers(1, 4), label="required")],
                    weight=data.draw(st.integers(1, 4), label="weight"),
                )
    people = []
    for n in range(data.draw(st.integers(0, 12), label="people")):
        people.append(
            Person.objects.create(
                staff_number=f"P{n}",
                given_name="G",
                family_name=f"F{n}",
                sex=data.draw(st.sampled_from("FM"), label="sex"),
                unit=units[data.draw(st.integers(0, len(units) - 1), label="unit")],
                role=roles[data.draw(st.integers(0, ROLES - 1), label="role")],
                is_active=data.draw(st.integers(0, 9), label="active") > 0,
            )
        )
    for person in people:
        for item in items:
            set_level(
                person,
                item,
                data.draw(st.none() | st.integers(0, 4), label="level"),
                data.draw(st.none() | st.integers(0, 4), label="self"),
            )
    return {"units": units, "items": items, "people": people}


def set_level(
    person: Person, item: FrameworkItem, value: int | None, self_value: int | None = None
) -> None:
    CurrentLevel.objects.filter(person=person, item=item).delete()
    if value is not None:
        now = timezone.now()
        CurrentLevel.objects.create(
            person=person,
            item=item,
            value=value,
            source="supervisor",
            rating_id=0,
            rated_at=now,
            valid_until=now + dt.timedelta(days=365),
            self_value=self_value,
            supervisor_value=value if self_value is not None else None,
        )


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rebuild_and_increments_match_the_oracle(db, data):
    # Hypothesis runs many examples in one test database: each rolls its world back.
    with transaction.atomic():
        check_world(data)
        transaction.set_rollback(True)


def check_world(data) -> None:
    world = build_world(data)
    gaps_rebuild()
    assert stored() == expected()
    live_rows_match_the_oracle(world["items"][0].framework_id)

    people, units, items = world["people"], world["units"], world["items"]
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        change = data.draw(
            st.sampled_from(["level", "logged levels", "move person", "move unit"]), label="kind"
        )
        if change == "level" and people:
            person = data.draw(st.sampled_from(people), label="who")
            item = data.draw(st.sampled_from(items), label="what")
            set_level(person, item, data.draw(st.none() | st.integers(0, 4), label="to"))
            gaps_refresh(person_ids=[person.pk])
        elif change == "logged levels" and people:
            # Through the change feed, as the consolidation writes it: deltas only.
            for _ in range(data.draw(st.integers(1, 3), label="how many")):
                person = data.draw(st.sampled_from(people), label="who")
                item = data.draw(st.sampled_from(items), label="what")
                where, params = "AND person_id = %s AND item_id = %s", [person.pk, item.pk]
                _log_changes(where, params, -1)
                set_level(
                    person,
                    item,
                    data.draw(st.none() | st.integers(0, 4), label="to"),
                    data.draw(st.none() | st.integers(0, 4), label="self to"),
                )
                _log_changes(where, params, 1)
            gaps_apply_changes()
        elif change == "move person" and people:
            person = data.draw(st.sampled_from(people), label="who moves")
            old_unit = person.unit_id
            person.unit = data.draw(st.sampled_from(units), label="to unit")
            person.save()
            gaps_refresh(person_ids=[person.pk], unit_ids=[old_unit])
        elif change == "move unit" and len(units) > 2:
            unit = OrgUnit.objects.get(pk=data.draw(st.sampled_from(units[1:]), label="unit").pk)
            target = OrgUnit.objects.get(pk=data.draw(st.sampled_from(units), label="under").pk)
            if target.path.startswith(unit.path) or target.level.depth >= unit.level.depth:
                continue
            old_parent = unit.parent_id
            orgunit_move(actor=None, unit=unit, new_parent=target)
            gaps_refresh(unit_ids=[unit.pk, old_parent])
        assert stored() == expected()
    live_rows_match_the_oracle(world["items"][0].framework_id)
    incremental = stored()
    gaps_rebuild()
    assert stored() == incremental


def test_refreshing_most_of_the_tree_is_a_rebuild(ministry, monkeypatch):
    from educap.gaps import engine

    calls = []
    monkeypatch.setattr(engine, "REBUILD_SHARE", 0.5)
    monkeypatch.setattr(engine, "gaps_rebuild", lambda **kw: calls.append(kw))
    everyone = list(Person.objects.values_list("pk", flat=True))
    engine.gaps_refresh(person_ids=everyone)
    assert calls == [{"materialise": False}]
    calls.clear()
    engine.gaps_refresh(person_ids=everyone[:1])
    assert calls == []
