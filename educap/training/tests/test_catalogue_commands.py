"""import_courses and export_courses."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from educap.assessments.tests.factories import make_published_framework
from educap.training.io.catalogue import parse_xlsx
from educap.training.models import Course
from educap.training.tests.factories import make_course

pytestmark = pytest.mark.django_db


def test_export_then_import_round_trip(ministry, tmp_path) -> None:
    framework = make_published_framework()
    make_course("DQ-1", framework=framework, title_ar="تنقية")
    make_course("OLD-1", is_active=False)
    out = io.StringIO()
    call_command("export_courses", "-o", str(tmp_path / "c.xlsx"), stdout=out)
    assert "Wrote 2 courses" in out.getvalue()
    assert [r.code for r in parse_xlsx((tmp_path / "c.xlsx").read_bytes()).records] == [
        "DQ-1",
        "OLD-1",
    ]
    call_command("export_courses", "--active-only", "-o", str(tmp_path / "c.csv"), stdout=out)
    Course.objects.all().delete()
    out = io.StringIO()
    call_command("import_courses", str(tmp_path / "c.xlsx"), "--dry-run", stdout=out)
    assert "2 new" in out.getvalue()
    assert not Course.objects.exists()
    call_command("import_courses", str(tmp_path / "c.xlsx"), stdout=out)
    course = Course.objects.get(code="DQ-1")
    assert course.title_ar == "تنقية"
    assert course.competencies.count() == 2
    out = io.StringIO()
    call_command("import_courses", str(tmp_path / "c.csv"), stdout=out)
    assert "0 new, 0 updated, 1 unchanged" in out.getvalue()


def test_import_reports_problems_and_changes_nothing(ministry, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,title_en,duration_hours,target_roles\nA,Alpha,2,pilot\nB,,1,\n")
    with pytest.raises(CommandError) as exc:
        call_command("import_courses", str(path))
    message = str(exc.value)
    assert "row 2 target_roles: No role has the code pilot." in message
    assert "row 3 title_en: Required." in message
    assert not Course.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_courses", str(tmp_path / "missing.csv"))
    clean = tmp_path / "clean.csv"
    clean.write_text("code,title_en,duration_hours\nA,Alpha,2\n")
    with pytest.raises(CommandError, match="larger than 0 MB"):
        call_command("import_courses", str(clean), "--max-size-mb", "0")
