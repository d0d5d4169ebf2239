"""Test builders (factories, not fixture files) shared by every app's tests."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from educap.accounts.models import Grant, GrantKind, User
from educap.org.models import OrgLevel, OrgUnit
from educap.people.models import Assignment, Person, Role

_counter = itertools.count(1)


def make_levels() -> dict[str, OrgLevel]:
    names = [("ministry", "Ministry"), ("governorate", "Governorate"), ("district", "District")]
    names.append(("school", "School"))
    return {
        code: OrgLevel.objects.get_or_create(code=code, defaults={"name": name, "depth": depth})[0]
        for depth, (code, name) in enumerate(names)
    }


def make_unit(code: str, level: OrgLevel, parent: OrgUnit | None = None, **extra: Any) -> OrgUnit:
    unit = OrgUnit.objects.create(
        code=code, name=extra.pop("name", code), level=level, parent=parent, **extra
    )
    unit.path = f"{parent.path if parent else ''}{unit.pk}/"
    unit.depth = parent.depth + 1 if parent else 0
    unit.save(update_fields=["path", "depth"])
    return unit


def make_role(code: str = "emis_officer", name: str = "EMIS officer", **extra: Any) -> Role:
    return Role.objects.get_or_create(code=code, defaults={"name": name, **extra})[0]


def make_person(
    unit: OrgUnit,
    role: Role | None = None,
    supervisor: Person | None = None,
    sex: str = "F",
    **extra: Any,
) -> Person:
    n = next(_counter)
    role = role or make_role()
    person = Person.objects.create(
        staff_number=extra.pop("staff_number", f"S{n:06d}"),
        given_name=extra.pop("given_name", f"Given{n}"),
        family_name=extra.pop("family_name", f"Family{n}"),
        sex=sex,
        unit=unit,
        role=role,
        supervisor=supervisor,
        **extra,
    )
    Assignment.objects.create(
        person=person,
        role=role,
        unit=unit,
        supervisor=supervisor,
        start_date=dt.date(2020, 1, 1),
    )
    return person


def make_user(
    username: str,
    person: Person | None = None,
    grants: list[tuple[str, OrgUnit | None]] | None = None,
    password: str = "a long test passphrase",
) -> User:
    user = User.objects.create_user(username=username, password=password, person=person)
    for kind, unit in grants or []:
        Grant.objects.create(user=user, kind=kind, unit=unit)
    return user


@dataclass
class MiniMinistry:
    """Ministry -> 2 governorates -> 2 districts each -> 1 school each, staff everywhere."""

    levels: dict[str, OrgLevel]
    units: dict[str, OrgUnit]
    people: dict[str, Person]
    users: dict[str, User] = field(default_factory=dict)


def build_mini_ministry() -> MiniMinistry:
    levels = make_levels()
    units: dict[str, OrgUnit] = {}
    units["MOE"] = make_unit("MOE", levels["ministry"], name="Ministry of Education")
    for g in ("G1", "G2"):
        units[g] = make_unit(g, levels["governorate"], units["MOE"], name=f"Governorate {g}")
        for d in ("D1", "D2"):
            dcode = f"{g}{d}"
            units[dcode] = make_unit(dcode, levels["district"], units[g], name=f"District {dcode}")
            units[f"{dcode}S1"] = make_unit(
                f"{dcode}S1", levels["school"], units[dcode], name=f"School {dcode}S1"
            )
    officer = make_role("emis_officer", "EMIS officer")
    head = make_role("head_teacher", "Head teacher", is_supervisory=True)
    teacher = make_role("teacher", "Teacher")
    people: dict[str, Person] = {}
    people["central"] = make_person(units["MOE"], officer)
    people["g1_officer"] = make_person(units["G1"], officer)
    people["g1d1_officer"] = make_person(units["G1D1"], officer, people["g1_officer"], sex="M")
    people["g1d1_head"] = make_person(units["G1D1S1"], head, people["g1d1_officer"])
    people["g1d1_teacher"] = make_person(units["G1D1S1"], teacher, people["g1d1_head"], sex="M")
    people["g1d2_teacher"] = make_person(units["G1D2S1"], teacher)
    people["g2d1_head"] = make_person(units["G2D1S1"], head)
    people["g2d1_teacher"] = make_person(units["G2D1S1"], teacher, people["g2d1_head"])
    m = MiniMinistry(levels=levels, units=units, people=people)
    m.users = {
        "admin": make_user("admin", grants=[(GrantKind.SYSTEM_ADMIN, None)]),
        "central": make_user(
            "central", people["central"], [(GrantKind.CENTRAL_OFFICER, units["MOE"])]
        ),
        "gov1": make_user("gov1", people["g1_officer"], [(GrantKind.UNIT_MANAGER, units["G1"])]),
        "dist": make_user(
            "dist", people["g1d1_officer"], [(GrantKind.UNIT_MANAGER, units["G1D1"])]
        ),
        "head": make_user(
            "head", people["g1d1_head"], [(GrantKind.SUPERVISOR, None), (GrantKind.STAFF, None)]
        ),
        "teacher": make_user("teacher", people["g1d1_teacher"], [(GrantKind.STAFF, None)]),
        "trainer": make_user("trainer", None, [(GrantKind.TRAINER, None)]),
        "partner": make_user("partner", None, [(GrantKind.PARTNER_VIEWER, units["G2"])]),
    }
    return m
