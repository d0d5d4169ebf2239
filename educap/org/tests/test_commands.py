"""import_orgunits and export_orgunits management commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, make_levels
from educap.org.io.units_csv import parse_units_csv
from educap.org.models import OrgUnit

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_lists_parents_before_children_with_protected_cells(
    ministry: MiniMinistry,
) -> None:
    unit = ministry.units["G2D2S1"]
    unit.name_en = "=cmd|' /C calc'!A0"
    unit.external_id = "uid-1"
    unit.save()

    out, err = run("export_orgunits", "--format", "csv")

    lines = out.splitlines()
    assert lines[0] == "code,name,level,parent_code,external_id"
    assert lines[1] == "MOE,Ministry of Education,ministry,,"
    assert len(lines) == 1 + OrgUnit.objects.count()
    assert "G2D2S1,'=cmd|' /C calc'!A0,school,G2D2,uid-1" in lines
    seen: set[str] = set()
    for line in lines[1:]:
        code, _name, _level, parent, _ext = line.split(",")
        assert parent == "" or parent in seen
        seen.add(code)
    assert "Exported 11 units" in err


def test_export_then_import_round_trip_changes_nothing(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    target = tmp_path / "units.csv"
    run("export_orgunits", "-o", str(target))
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets then read UTF-8
    before = list(OrgUnit.objects.values_list("pk", "path", "updated_at"))

    out, _err = run("import_orgunits", str(target), "--format", "csv")

    assert "created: 0, updated: 0, unchanged: 11, moved: 0" in out
    assert list(OrgUnit.objects.values_list("pk", "path", "updated_at")) == before


def test_import_csv_then_dhis2_sample_files(db: None) -> None:
    make_levels()
    out, _err = run("import_orgunits", str(DATA / "units.csv"), "--format", "csv")
    assert "created: 4, updated: 0, unchanged: 0, moved: 0" in out
    assert OrgUnit.objects.get(code="SCH-001").name_ar == "مدرسة النور"

    # The DHIS2 file describes the same units; it finds the school by its uid.
    out, _err = run("import_orgunits", str(DATA / "dhis2_orgunits.json"), "--format", "dhis2")
    # MOE and GOV-N are found by code and gain their uids; the district is new (its code is
    # its uid) and the school, found by its uid, moves under it.
    assert "created: 1, updated: 2, unchanged: 0, moved: 1" in out
    school = OrgUnit.objects.get(code="SCH-001")
    assert [u.code for u in school.ancestors()] == ["MOE", "GOV-N", "Dst0000001a", "SCH-001"]
    out, _err = run("import_orgunits", str(DATA / "dhis2_orgunits.json"), "--format", "dhis2")
    assert "created: 0, updated: 0, unchanged: 4, moved: 0" in out


def test_problems_are_printed_by_row_and_column_and_nothing_is_written(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "code,name,level,parent_code\nN1,New,district,G1\nN2,,district,G1\nN3,Three,nope,G1\n"
    )
    count = OrgUnit.objects.count()
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_orgunits", str(source), stdout=io.StringIO(), stderr=err)
    assert "row 3, column name: The unit has no name." in err.getvalue()
    assert "row 4, column level: No organisational level has the code nope." in err.getvalue()
    assert OrgUnit.objects.count() == count


def test_dry_run_writes_nothing(ministry: MiniMinistry, tmp_path: Path) -> None:
    source = tmp_path / "new.csv"
    source.write_text("code,name,level,parent_code\nN1,New,district,G1\nG1D1,Moved,district,G2\n")
    count = OrgUnit.objects.count()

    out, _err = run("import_orgunits", str(source), "--dry-run")

    assert "created: 1, updated: 0, unchanged: 0, moved: 1" in out
    assert "Dry run" in out
    assert OrgUnit.objects.count() == count
    assert OrgUnit.objects.get(code="G1D1").parent == ministry.units["G1"]
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT).exists()


def test_files_over_the_size_limit_are_refused(
    ministry: MiniMinistry, tmp_path: Path, settings
) -> None:
    settings.EDUCAP_MAX_UPLOAD_MB = 1
    source = tmp_path / "big.csv"
    source.write_bytes(b"code,name,level,parent_code\n" + b"x" * (1024 * 1024))
    with pytest.raises(CommandError, match="limit"):
        run("import_orgunits", str(source))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_orgunits", str(tmp_path / "missing.csv"))


def test_exported_names_fall_back_to_a_translation(ministry: MiniMinistry) -> None:
    OrgUnit.objects.filter(code="G2").update(name_en=None, name_ar="محافظة")
    out, _err = run("export_orgunits")
    records = {r.code: r for r in parse_units_csv(out).records}
    assert records["G2"].name == "محافظة"
