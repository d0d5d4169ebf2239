"""import_staff and export_staff management commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry
from educap.people.io.staff import parse_csv, parse_xlsx, write_xlsx
from educap.people.models import Assignment, Person

pytestmark = pytest.mark.django_db

GOOD = (
    "staff_number,given_name,family_name,sex,unit_code,role_code,supervisor_staff_number\n"
    "C1,Amal,Haddad,F,G1D1S1,teacher,C2\n"
    "C2,Omar,Nasser,M,G1D1S1,head_teacher,\n"
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_staff_applies_the_file_and_reimport_changes_nothing(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD, encoding="utf-8")
    out, _ = run("import_staff", str(path))
    assert "2 created" in out
    assert Person.objects.get(staff_number="C1").supervisor.staff_number == "C2"
    posts = Assignment.objects.count()

    out, _ = run("import_staff", str(path))
    assert "0 created, 0 updated, 0 changed post, 2 unchanged" in out
    assert Assignment.objects.count() == posts
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, actor=None).count() == 2


def test_dry_run_writes_nothing(ministry: MiniMinistry, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD, encoding="utf-8")
    out, _ = run("import_staff", str(path), "--dry-run")
    assert "Dry run" in out
    assert "2 created" in out
    assert not Person.objects.filter(staff_number__in=["C1", "C2"]).exists()


def test_problems_are_printed_with_row_and_column_and_nothing_is_imported(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD + "C3,Lina,Saleh,X,NOWHERE,teacher,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_staff", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 4, column sex: X is not a sex" in err.getvalue()
    assert not Person.objects.filter(staff_number="C1").exists()

    path.write_text(GOOD + "C3,Lina,Saleh,F,NOWHERE,teacher,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_staff", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 4, column unit_code: No unit has the code NOWHERE." in err.getvalue()


def test_import_staff_reads_xlsx_and_refuses_other_files(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    records = parse_csv(GOOD.encode()).records
    path = tmp_path / "staff.xlsx"
    with path.open("wb") as out:
        write_xlsx(records, out)
    out_text, _ = run("import_staff", str(path))
    assert "2 created" in out_text
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        run("import_staff", str(tmp_path / "staff.txt"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_staff", str(tmp_path / "missing.csv"))


def test_export_staff_writes_csv_to_stdout(ministry: MiniMinistry) -> None:
    out, _ = run("export_staff")
    parsed = parse_csv(out.encode())
    assert parsed.problems == []
    assert len(parsed.records) == Person.objects.count()
    teacher = ministry.people["g1d1_teacher"]
    row = next(r for r in parsed.records if r.staff_number == teacher.staff_number)
    assert (row.unit_code, row.role_code, row.supervisor_staff_number) == (
        "G1D1S1",
        "teacher",
        ministry.people["g1d1_head"].staff_number,
    )


def test_export_staff_limits_to_a_unit_and_writes_xlsx_to_a_file(
    ministry: MiniMinistry, tmp_path: Path
) -> None:
    path = tmp_path / "g2.xlsx"
    run("export_staff", "--format", "xlsx", "-o", str(path), "--unit", "G2")
    parsed = parse_xlsx(path.read_bytes())
    assert {r.unit_code for r in parsed.records} == {"G2D1S1"}
    with pytest.raises(CommandError, match="-o"):
        run("export_staff", "--format", "xlsx")
    with pytest.raises(CommandError, match="NOWHERE"):
        run("export_staff", "--unit", "NOWHERE")


def test_an_export_imported_again_changes_nothing(ministry: MiniMinistry, tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    run("export_staff", "-o", str(path))
    before = list(Person.objects.order_by("pk").values_list("pk", "updated_at"))
    out, _ = run("import_staff", str(path))
    assert f"0 created, 0 updated, 0 changed post, {len(before)} unchanged" in out
    assert list(Person.objects.order_by("pk").values_list("pk", "updated_at")) == before
