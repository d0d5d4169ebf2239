"""The import service: validate everything, then apply all or nothing."""

from __future__ import annotations

import json
import random
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, make_levels
from educap.org.importing import (
    ChangeKind,
    ImportFormat,
    OrgImportErrorCode,
    orgunit_import_apply,
    orgunit_import_plan,
    orgunit_import_plan_file,
)
from educap.org.io.records import UnitRecord
from educap.org.models import OrgUnit

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code"


def csv_plan(*rows: str, header: str = HEADER):
    return orgunit_import_plan_file(
        data="\n".join([header, *rows]).encode(), file_format=ImportFormat.CSV, source="t.csv"
    )


def dhis2_plan(units: list[dict]):
    data = json.dumps({"organisationUnits": units}).encode()
    return orgunit_import_plan_file(data=data, file_format=ImportFormat.DHIS2, source="ou.json")


def assert_tree_consistent() -> None:
    """Every path is the parent's path plus the unit's key, every depth the parent's plus one."""
    units = {u.pk: u for u in OrgUnit.objects.all()}
    for unit in units.values():
        parent = units.get(unit.parent_id) if unit.parent_id else None
        expected = f"{parent.path if parent else ''}{unit.pk}/"
        assert unit.path == expected, unit.code
        assert unit.depth == (parent.depth + 1 if parent else 0), unit.code
        if parent:
            assert unit.level.depth > parent.level.depth, unit.code


def codes(plan) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in plan.problems]


def test_new_tree_from_csv_gets_paths_depths_and_one_audit_event(db: None) -> None:
    levels = make_levels()
    plan = csv_plan(
        "S1,School one,school,D1",  # children before parents is fine
        "D1,District one,district,G1",
        "G1,Governorate one,governorate,MOE",
        "MOE,Ministry,ministry,",
    )
    assert plan.ok, plan.problems
    assert plan.counts == {"created": 4, "updated": 0, "moved": 0, "unchanged": 0}
    assert OrgUnit.objects.count() == 0  # planning writes nothing

    counts = orgunit_import_apply(actor=None, plan=plan)

    assert counts["created"] == 4
    school = OrgUnit.objects.get(code="S1")
    assert [u.code for u in school.ancestors()] == ["MOE", "G1", "D1", "S1"]
    assert school.depth == 3
    assert school.level == levels["school"]
    assert school.name_en == "School one"
    assert_tree_consistent()
    events = AuditEvent.objects.filter(action=AuditAction.IMPORT)
    assert events.count() == 1
    assert events.get().after["created"] == 4


def test_reimporting_the_same_file_changes_nothing(ministry: MiniMinistry) -> None:
    rows = (
        "N1,New district,district,G1",
        "N1S,New school,school,N1",
        "G2,Governorate G2,governorate,MOE",
    )
    orgunit_import_apply(actor=None, plan=csv_plan(*rows))
    before = list(OrgUnit.objects.values_list("pk", "path", "depth", "updated_at", "name_en"))

    plan = csv_plan(*rows)

    assert plan.counts == {"created": 0, "updated": 0, "moved": 0, "unchanged": 3}
    orgunit_import_apply(actor=None, plan=plan)
    after = list(OrgUnit.objects.values_list("pk", "path", "depth", "updated_at", "name_en"))
    assert after == before


def test_translated_names_and_external_ids_are_stored(ministry: MiniMinistry) -> None:
    plan = csv_plan(
        "G1D1,District G1D1,district,G1,مديرية,District un,,DHIS-1",
        header=HEADER + ",name_ar,name_fr,name_lo,external_id",
    )
    assert plan.counts["updated"] == 1
    fields = {f.field: (f.before, f.after) for f in next(plan.changed()).fields}
    assert fields["name_ar"] == ("", "مديرية")
    assert fields["external_id"] == ("", "DHIS-1")

    orgunit_import_apply(actor=None, plan=plan)

    unit = OrgUnit.objects.get(code="G1D1")
    assert (unit.name_en, unit.name_ar, unit.name_fr, unit.external_id) == (
        "District G1D1",
        "مديرية",
        "District un",
        "DHIS-1",
    )


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("X1,Unit,nolevel,G1", (3, "level", OrgImportErrorCode.UNKNOWN_LEVEL)),
        ("X1,Unit,district,NOPE", (3, "parent_code", OrgImportErrorCode.UNKNOWN_PARENT)),
        ("X1,Unit,governorate,G1", (3, "level", OrgImportErrorCode.LEVEL_ORDER)),
        ("X 1,Unit,district,G1", (3, "code", OrgImportErrorCode.INVALID_CODE)),
        ("X1,,district,G1", (3, "name", OrgImportErrorCode.REQUIRED)),
        ("X1,Unit,district,G1,,,,,extra", (3, "", OrgImportErrorCode.TOO_MANY_CELLS)),
    ],
)
def test_any_bad_row_means_nothing_is_imported(
    ministry: MiniMinistry, bad_row: str, expected: tuple[int, str, str]
) -> None:
    count = OrgUnit.objects.count()
    plan = csv_plan(
        "OK1,Fine district,district,G1",
        bad_row,
        "OK2,Fine school,school,OK1",
        header=HEADER + ",name_ar,name_fr,name_lo,external_id",
    )

    assert expected in codes(plan)
    with pytest.raises(ValidationError) as exc:
        orgunit_import_apply(actor=None, plan=plan)
    assert exc.value.code == OrgImportErrorCode.PLAN_HAS_PROBLEMS
    assert OrgUnit.objects.count() == count
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT).exists()


def test_a_failure_while_writing_rolls_everything_back(ministry: MiniMinistry) -> None:
    count = OrgUnit.objects.count()
    plan = csv_plan("N1,New,district,G1", "G1D1,Moved,district,G2")
    with (
        mock.patch("educap.org.importing.audit_record", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        orgunit_import_apply(actor=None, plan=plan)
    assert OrgUnit.objects.count() == count
    assert OrgUnit.objects.get(code="G1D1").parent == ministry.units["G1"]
    assert_tree_consistent()


def test_every_problem_is_reported_with_row_and_column(ministry: MiniMinistry) -> None:
    ministry.units["G2"].external_id = "EXT-G2"
    ministry.units["G2"].save()
    plan = csv_plan(
        "A,Loop A,district,B",
        "B,Loop B,district,A",
        "G1,Governorate one,governorate,MOE,,,,EXT-G2",
        "C,Closed,nolevel,MOE",
        header=HEADER + ",name_ar,name_fr,name_lo,external_id",
    )
    assert (2, "parent_code", OrgImportErrorCode.CYCLE) in codes(plan)
    assert (3, "parent_code", OrgImportErrorCode.CYCLE) in codes(plan)
    assert (4, "external_id", OrgImportErrorCode.EXTERNAL_ID_CLASH) in codes(plan)
    assert (5, "level", OrgImportErrorCode.UNKNOWN_LEVEL) in codes(plan)
    assert all(p.message for p in plan.problems)


def test_a_cycle_through_existing_units_is_caught(ministry: MiniMinistry) -> None:
    # G1 under its own grandchild: only visible once the database tree is taken into account.
    plan = csv_plan("G1,Governorate,governorate,G1D1S1")
    assert (2, "parent_code", OrgImportErrorCode.CYCLE) in codes(plan)


def test_a_moved_unit_carries_its_subtree(ministry: MiniMinistry) -> None:
    plan = csv_plan("G1D1,District G1D1,district,G2")
    assert plan.counts == {"created": 0, "updated": 0, "moved": 1, "unchanged": 0}
    change = next(plan.changed())
    assert change.kind == ChangeKind.MOVED
    assert ("parent", "G1", "G2") in [(f.field, f.before, f.after) for f in change.fields]

    orgunit_import_apply(actor=None, plan=plan)

    school = OrgUnit.objects.get(code="G1D1S1")
    assert [u.code for u in school.ancestors()] == ["MOE", "G2", "G1D1", "G1D1S1"]
    assert_tree_consistent()


def test_moves_that_swap_a_parent_and_child_are_applied_in_a_safe_order(
    ministry: MiniMinistry,
) -> None:
    # Before: MOE > G1 > G1D1 > G1D1S1. After: MOE > G1D1 (governorate) > G1 (district).
    plan = csv_plan(
        "G1,Former governorate,district,G1D1",
        "G1D1,Promoted district,governorate,MOE",
        "G1D2,District G1D2,district,MOE",
    )
    assert plan.ok, plan.problems
    assert plan.counts["moved"] == 3

    orgunit_import_apply(actor=None, plan=plan)

    assert [u.code for u in OrgUnit.objects.get(code="G1").ancestors()] == ["MOE", "G1D1", "G1"]
    assert [u.code for u in OrgUnit.objects.get(code="G1D1S1").ancestors()] == [
        "MOE",
        "G1D1",
        "G1D1S1",
    ]
    assert_tree_consistent()


def test_changing_a_level_above_its_children_is_refused(ministry: MiniMinistry) -> None:
    plan = csv_plan("G1,Governorate,district,MOE")  # G1D2 stays under it as a district
    assert (2, "level", OrgImportErrorCode.LEVEL_ORDER) in codes(plan)


def test_two_rows_for_the_same_existing_unit_are_refused(ministry: MiniMinistry) -> None:
    ministry.units["G2"].external_id = "EXT-G2"
    ministry.units["G2"].save()
    plan = csv_plan(
        "G2,Governorate,governorate,MOE,",
        "G9,Renamed,governorate,MOE,EXT-G2",
        header=HEADER + ",external_id",
    )
    assert (3, "code", OrgImportErrorCode.DUPLICATE_TARGET) in codes(plan)


def test_dhis2_parents_listed_after_children_give_the_right_tree(db: None) -> None:
    make_levels()
    plan = dhis2_plan(
        [
            {"id": "sch00000001", "name": "School", "level": 4, "parent": {"id": "dis00000001"}},
            {"id": "dis00000001", "name": "District", "level": 3, "parent": {"id": "gov00000001"}},
            {
                "id": "gov00000001",
                "code": "GOV",
                "name": "Governorate",
                "level": 2,
                "parent": {"id": "moe00000001"},
            },
            {
                "id": "moe00000001",
                "code": "MOE",
                "name": "Ministry",
                "level": 1,
                "openingDate": "1990-01-01T00:00:00.000",
            },
        ]
    )
    assert plan.ok, plan.problems

    orgunit_import_apply(actor=None, plan=plan)

    school = OrgUnit.objects.get(external_id="sch00000001")
    assert school.code == "sch00000001"  # no DHIS2 code: the uid is the code
    assert [u.code for u in school.ancestors()] == ["MOE", "GOV", "dis00000001", "sch00000001"]
    assert OrgUnit.objects.get(code="MOE").opened_on.isoformat() == "1990-01-01"
    assert_tree_consistent()


def test_dhis2_levels_follow_depth_when_the_file_has_none(ministry: MiniMinistry) -> None:
    ministry.units["G1"].external_id = "uidG1000001"
    ministry.units["G1"].save()
    plan = dhis2_plan(
        [
            {"id": "uidS0000001", "name": "New school", "parent": {"id": "uidD0000001"}},
            {"id": "uidD0000001", "name": "New district", "parent": {"id": "uidG1000001"}},
        ]
    )
    assert plan.ok, plan.problems
    orgunit_import_apply(actor=None, plan=plan)

    district = OrgUnit.objects.get(external_id="uidD0000001")
    assert district.parent == ministry.units["G1"]  # found by the existing unit's external id
    assert district.level == ministry.levels["district"]
    assert OrgUnit.objects.get(external_id="uidS0000001").level == ministry.levels["school"]
    assert_tree_consistent()


def test_dhis2_dangling_parent_is_reported(ministry: MiniMinistry) -> None:
    plan = dhis2_plan([{"id": "uidX0000001", "name": "Orphan", "parent": {"id": "nowhere0001"}}])
    assert codes(plan) == [(1, "parent", OrgImportErrorCode.DANGLING_PARENT)]


def test_dhis2_matches_existing_units_by_uid_and_updates_their_code(
    ministry: MiniMinistry,
) -> None:
    ministry.units["G2"].external_id = "uidG2000001"
    ministry.units["G2"].save()
    plan = dhis2_plan(
        [
            {
                "id": "uidG2000001",
                "code": "GOV-2",
                "name": "Governorate G2",
                "level": 2,
                "parent": {"id": "uidMOE00001"},
            }
        ]
    )
    # The parent is neither in the file nor known by external id yet.
    assert codes(plan) == [(1, "parent", OrgImportErrorCode.DANGLING_PARENT)]
    ministry.units["MOE"].external_id = "uidMOE00001"
    ministry.units["MOE"].save()
    plan = dhis2_plan(
        [
            {
                "id": "uidG2000001",
                "code": "GOV-2",
                "name": "Governorate G2",
                "level": 2,
                "parent": {"id": "uidMOE00001"},
            }
        ]
    )
    assert plan.ok, plan.problems
    assert plan.counts["updated"] == 1
    orgunit_import_apply(actor=None, plan=plan)
    assert OrgUnit.objects.get(pk=ministry.units["G2"].pk).code == "GOV-2"


def test_dhis2_code_taken_by_another_unit_is_a_code_clash(ministry: MiniMinistry) -> None:
    ministry.units["G2"].external_id = "uidG2000001"
    ministry.units["G2"].save()
    plan = dhis2_plan([{"id": "uidG2000001", "code": "G1", "name": "Governorate", "level": 2}])
    assert (1, "code", OrgImportErrorCode.CODE_CLASH) in codes(plan)


def test_a_plan_made_stale_by_other_changes_is_refused(ministry: MiniMinistry) -> None:
    plan = csv_plan("N1,New district,district,G1")
    OrgUnit.objects.create(code="N1", name="Someone was quicker", level=ministry.levels["district"])
    with pytest.raises(ValidationError) as exc:
        orgunit_import_apply(actor=None, plan=plan)
    assert exc.value.code == OrgImportErrorCode.PLAN_STALE


def test_only_admins_and_officers_covering_the_root_may_apply(ministry: MiniMinistry) -> None:
    plan = csv_plan("N1,New district,district,G1")
    with pytest.raises(PermissionDenied):
        orgunit_import_apply(actor=ministry.users["dist"], plan=plan)
    with pytest.raises(PermissionDenied):
        orgunit_import_apply(actor=ministry.users["gov1"], plan=plan)
    counts = orgunit_import_apply(actor=ministry.users["central"], plan=plan)
    assert counts["created"] == 1
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.actor == ministry.users["central"]


def test_records_can_be_planned_directly(ministry: MiniMinistry) -> None:
    plan = orgunit_import_plan(
        records=[UnitRecord(row=1, code="N1", name="New", level_code="district", parent_code="G2")]
    )
    assert plan.counts["created"] == 1
    empty = orgunit_import_plan(records=[])
    assert codes(empty) == [(0, "", OrgImportErrorCode.FILE_EMPTY)]


def test_closing_before_opening_is_refused(ministry: MiniMinistry) -> None:
    plan = dhis2_plan(
        [
            {
                "id": "uidX0000001",
                "name": "Odd",
                "level": 1,
                "openingDate": "2020-01-02",
                "closedDate": "2020-01-01",
            }
        ]
    )
    assert codes(plan) == [(1, "closedDate", OrgImportErrorCode.DATE_ORDER)]


def test_units_move_under_new_units_and_new_units_under_moved_ones(
    ministry: MiniMinistry,
) -> None:
    plan = csv_plan(
        "NS,New school,school,G1D1",  # new, under a unit that moves
        "G1D1,District G1D1,district,NG",  # existing, under a unit that is new
        "NG,New governorate,governorate,MOE",
    )
    assert plan.counts == {"created": 2, "updated": 0, "moved": 1, "unchanged": 0}

    orgunit_import_apply(actor=None, plan=plan)

    for code in ("NS", "G1D1S1"):
        assert [u.code for u in OrgUnit.objects.get(code=code).ancestors()] == [
            "MOE",
            "NG",
            "G1D1",
            code,
        ]
    assert_tree_consistent()


@pytest.mark.parametrize("seed", range(5))
def test_random_reorganisations_keep_every_path_right(db: None, seed: int) -> None:
    """Rounds of random moves, renames and new units; the tree must match the file each time."""
    rng = random.Random(seed)
    make_levels()
    level_names = ["ministry", "governorate", "district", "school"]
    parents: dict[str, str] = {"MOE": ""}
    levels: dict[str, int] = {"MOE": 0}
    next_id = 0
    for _round in range(4):
        for _new in range(rng.randint(5, 25)):
            depth = rng.randint(1, 3)
            above = [c for c, d in levels.items() if d < depth]
            code = f"U{next_id}"
            next_id += 1
            parents[code], levels[code] = rng.choice(above), depth
        for code in rng.sample(sorted(parents), k=min(8, len(parents) - 1)):
            if code == "MOE":
                continue
            candidates = [c for c, d in levels.items() if d < levels[code]]
            parents[code] = rng.choice(candidates)
        rows = [
            f"{code},Unit {code} {rng.randint(0, 1)},{level_names[levels[code]]},{parents[code]}"
            for code in rng.sample(sorted(parents), k=len(parents))
        ]
        plan = csv_plan(*rows)
        assert plan.ok, plan.problems
        orgunit_import_apply(actor=None, plan=plan)

        assert_tree_consistent()
        actual = dict(OrgUnit.objects.values_list("code", "parent__code"))
        assert actual == {code: parent or None for code, parent in parents.items()}
        assert csv_plan(*rows).counts["unchanged"] == len(rows)
