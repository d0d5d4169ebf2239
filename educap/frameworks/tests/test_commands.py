"""import_framework and export_framework commands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from educap.frameworks.io import case
from educap.frameworks.management.commands import import_framework
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus

pytestmark = pytest.mark.django_db

NATIONAL = Path(__file__).parent / "data" / "case_national_emis_standards.json"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=io.StringIO(), stderr=err)
    return str(exc.value), err.getvalue()


def test_import_then_import_again_changes_nothing() -> None:
    out, _ = run("import_framework", str(NATIONAL), "--format", "case", "--code", "EMIS-STD")
    assert "EMIS-STD 2025.1: created" in out
    assert "Items created: 13" in out
    out, _ = run("import_framework", str(NATIONAL), "--format", "case", "--code", "EMIS-STD")
    assert "unchanged" in out
    assert "Items created: 0" in out
    assert Framework.objects.count() == 1


def test_dry_run_writes_nothing() -> None:
    out, _ = run("import_framework", str(NATIONAL), "--format", "case", "--dry-run")
    assert "created" in out
    assert "Dry run" in out
    assert not Framework.objects.exists()


def test_code_defaults_to_the_document_identifier_and_version_can_be_given() -> None:
    run("import_framework", str(NATIONAL), "--format", "case", "--version", "3.0")
    framework = Framework.objects.get()
    assert framework.code == json.loads(NATIONAL.read_bytes())["CFDocument"]["identifier"]
    assert framework.version == "3.0"


def test_file_problems_are_listed_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"CFDocument": {"identifier": "x", "title": "T"}, "CFItems": [1, 2]}')
    message, err = run_failing("import_framework", str(bad), "--format", "case")
    assert "2 problem(s)" in message
    assert "$.CFItems[0]: A CFItem must be an object." in err
    assert not Framework.objects.exists()


def test_changes_to_a_published_version_are_refused(tmp_path: Path) -> None:
    run("import_framework", str(NATIONAL), "--format", "case", "--code", "EMIS-STD")
    Framework.objects.update(status=FrameworkStatus.PUBLISHED, published_at=timezone.now())
    package = json.loads(NATIONAL.read_bytes())
    package["CFItems"][3]["fullStatement"] = "Plans and budgets the annual school census."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(package), encoding="utf-8")

    message, err = run_failing(
        "import_framework", str(changed), "--format", "case", "--code", "EMIS-STD"
    )
    assert "1 problem(s)" in message
    assert err.startswith("framework.version: ")
    assert "--version" in err

    out, err = run(
        "import_framework",
        str(changed),
        "--format",
        "case",
        "--code",
        "EMIS-STD",
        "--version",
        "2026.1",
    )
    assert "created" in out
    assert "warning: framework.identifier" in err  # the document identifier is taken
    assert Framework.objects.count() == 2


def test_too_large_file_is_refused(settings: pytest.FixtureRequest) -> None:
    settings.EDUCAP_MAX_UPLOAD_MB = 0  # type: ignore[attr-defined]
    message, _ = run_failing("import_framework", str(NATIONAL), "--format", "case")
    assert "limit" in message


def test_missing_format_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(import_framework.FORMAT_MODULES, "xlsx", "not_written_yet")
    message, _ = run_failing("import_framework", str(NATIONAL), "--format", "xlsx")
    assert message == "The xlsx format is not available yet."


def test_export_case_imports_back_unchanged(tmp_path: Path) -> None:
    run("import_framework", str(NATIONAL), "--format", "case", "--code", "EMIS-STD")
    target = tmp_path / "out.json"
    out, _ = run("export_framework", "EMIS-STD", "--format", "case", "-o", str(target))
    assert "Exported EMIS-STD 2025.1 (13 items, Draft)" in out
    result = case.parse(target.read_bytes())
    assert result.problems == []
    assert result.record is not None
    assert len(result.record.items) == 13
    pks = sorted(FrameworkItem.objects.values_list("pk", flat=True))
    out, _ = run("import_framework", str(target), "--format", "case")
    assert "unchanged" in out
    assert sorted(FrameworkItem.objects.values_list("pk", flat=True)) == pks


def test_export_picks_the_published_version_unless_told(tmp_path: Path) -> None:
    run("import_framework", str(NATIONAL), "--format", "case", "--code", "EMIS-STD")
    Framework.objects.update(status=FrameworkStatus.PUBLISHED, published_at=timezone.now())
    run(
        "import_framework",
        str(NATIONAL),
        "--format",
        "case",
        "--code",
        "EMIS-STD",
        "--version",
        "2026.1",
    )
    target = tmp_path / "out.json"
    out, _ = run("export_framework", "EMIS-STD", "--format", "case", "-o", str(target))
    assert "2025.1" in out
    out, _ = run(
        "export_framework",
        "EMIS-STD",
        "--version",
        "2026.1",
        "--format",
        "case",
        "-o",
        str(target),
    )
    assert "2026.1" in out
    message, _ = run_failing("export_framework", "NOPE", "--format", "case", "-o", str(target))
    assert message == "There is no framework NOPE."
