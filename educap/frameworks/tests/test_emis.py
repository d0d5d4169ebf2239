"""The EMIS staff competency framework that ships with EduCap: content and installation."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from educap.core.demo import ROLES
from educap.frameworks.emis import (
    DATA_DIR,
    EMIS_FRAMEWORK_CODE,
    LEVEL_CODES,
    EmisFrameworkError,
    emis_framework_install,
    emis_framework_record,
)
from educap.frameworks.io.records import LANGUAGES, FrameworkRecord, ItemRecord, Texts

ARABIC = re.compile(r"[\u0600-\u06FF]")
LAO = re.compile(r"[\u0E80-\u0EFF]")
LATIN = re.compile(r"[A-Za-z]")
PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|lorem|ipsum|xxx|translate)\b|\.\.\.|…", re.I)
DOMAINS = {
    "DC": "data collection and census operations",
    "DQ": "data processing, quality assurance and data management",
    "SA": "statistical analysis and use of education indicators",
    "RD": "reporting, visualisation and dissemination",
    "ICT": "ICT support and systems administration",
    "EP": "education planning",
    "ME": "monitoring and evaluation",
    "SBM": "school-based management",
    "AD": "education administration and personnel management",
    "PF": "public financial management",
    "LM": "leadership and management",
    "DP": "data protection and digital literacy",
    "GI": "gender equality and inclusion",
}
REQUIRED_ROLES = {
    "emis_officer",
    "data_clerk",
    "statistician",
    "planner",
    "ict_support",
    "finance_officer",
    "head_teacher",
    "district_education_officer",
}


@pytest.fixture(scope="module")
def record() -> FrameworkRecord:
    return emis_framework_record()


def _domains(record: FrameworkRecord) -> list[ItemRecord]:
    return [item for item in record.items if item.kind == "domain"]


def _competencies(record: FrameworkRecord) -> list[ItemRecord]:
    return [item for item in record.items if item.kind == "competency"]


def _check_texts(texts: Texts, where: str) -> None:
    assert set(texts) == set(LANGUAGES), where
    for lang, text in texts.items():
        assert text.strip(), f"{where}.{lang} is empty"
        assert not PLACEHOLDER.search(text), f"{where}.{lang} looks unfinished: {text!r}"
    assert ARABIC.search(texts["ar"]), f"{where}.ar has no Arabic letters"
    assert LAO.search(texts["lo"]), f"{where}.lo has no Lao letters"
    for lang in ("en", "fr"):
        assert not ARABIC.search(texts[lang]), f"{where}.{lang} contains Arabic"
        assert not LAO.search(texts[lang]), f"{where}.{lang} contains Lao"
    assert not LAO.search(texts["ar"]), f"{where}.ar contains Lao"
    assert not ARABIC.search(texts["lo"]), f"{where}.lo contains Arabic"
    # A translation, not the English copied over.
    assert len({texts["en"], texts["fr"]}) == 2 or len(texts["en"]) < 12, f"{where}: fr == en"


# Content ----------------------------------------------------------------------------------


def test_framework_header(record: FrameworkRecord) -> None:
    assert record.code == EMIS_FRAMEWORK_CODE
    assert record.version == "1.0"
    assert record.language == "en"
    assert record.licence == "CC-BY-4.0"
    assert record.publisher == "EduCap"
    assert record.scale is None  # the default five-level scale
    assert str(uuid.UUID(record.identifier)) == record.identifier
    _check_texts(record.title, "title")
    _check_texts(record.description, "description")


def test_thirteen_domains_with_three_or_four_competencies_each(record: FrameworkRecord) -> None:
    domains = _domains(record)
    assert [d.code for d in domains] == list(DOMAINS)
    assert [d.sequence for d in domains] == list(range(1, 14))
    for domain, title in zip(domains, DOMAINS.values(), strict=True):
        assert domain.statement["en"].lower() == title.lower()
        assert domain.parent == ""
        children = [c for c in _competencies(record) if c.parent == domain.identifier]
        assert 3 <= len(children) <= 4, domain.code
        assert [c.code for c in children] == [
            f"{domain.code}.{n}" for n in range(1, len(children) + 1)
        ]
        assert [c.sequence for c in children] == list(range(1, len(children) + 1))
    assert len(_competencies(record)) >= 39


def test_every_item_is_written_out_in_four_languages(record: FrameworkRecord) -> None:
    for item in record.items:
        _check_texts(item.statement, f"{item.code}.statement")
        _check_texts(item.description, f"{item.code}.description")
        assert item.keywords.strip(), item.code
        assert LATIN.search(item.keywords), item.code
        assert not ARABIC.search(item.keywords), item.code


def test_every_competency_has_indicators_for_every_level(record: FrameworkRecord) -> None:
    for item in _competencies(record):
        assert list(item.indicators) == list(LEVEL_CODES), item.code
        for level, texts in item.indicators.items():
            _check_texts(texts, f"{item.code}.indicators.{level}")
        for lang in LANGUAGES:
            texts = [item.indicators[level][lang] for level in LEVEL_CODES]
            assert len(set(texts)) == len(texts), f"{item.code}: repeated {lang} indicators"
    for domain in _domains(record):
        assert domain.indicators == {}, domain.code


def test_codes_and_identifiers_are_unique_and_stable(record: FrameworkRecord) -> None:
    codes = [item.code for item in record.items]
    assert len(codes) == len(set(codes))
    identifiers = [record.identifier, *(item.identifier for item in record.items)]
    assert len(identifiers) == len(set(identifiers))
    for identifier in identifiers:
        assert str(uuid.UUID(identifier)) == identifier
    # Reading the files again gives the same identity (nothing generated at load time).
    again = emis_framework_record()
    assert [(i.code, i.identifier) for i in again.items] == [
        (i.code, i.identifier) for i in record.items
    ]
    assert again.identifier == record.identifier


def test_files_are_plain_utf8_json(record: FrameworkRecord) -> None:
    names = sorted(p.name for p in DATA_DIR.glob("*.json"))
    assert "framework.json" in names
    assert "profiles.json" in names
    assert len([n for n in names if re.match(r"^\d\d-", n)]) == 13
    for path in DATA_DIR.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


# Role profiles ----------------------------------------------------------------------------


def test_role_profiles_cover_the_required_roles(record: FrameworkRecord) -> None:
    profiles = {p.code: p for p in record.profiles}
    roles = {p.role: p for p in record.profiles if p.role}
    assert len(roles) >= 8
    assert set(roles) >= REQUIRED_ROLES
    assert set(roles) <= {spec.code for spec in ROLES}  # the demo catalogue
    assert profiles["all-staff"].role == ""
    assert profiles["all-staff"].base == ""
    assert profiles["emis-staff"].base == "all-staff"
    assert roles["teacher"].base == "all-staff"
    for profile in record.profiles:
        _check_texts(profile.name, f"profiles.{profile.code}.name")
        if profile.role:
            assert profile.base in {"all-staff", "emis-staff"}, profile.code
            assert any(r.weight == 4 for r in profile.requirements), profile.code


def test_requirements_point_at_competencies(record: FrameworkRecord) -> None:
    competencies = {item.code for item in _competencies(record)}
    for profile in record.profiles:
        items = [r.item for r in profile.requirements]
        assert len(items) == len(set(items)), profile.code
        for req in profile.requirements:
            assert req.item in competencies, (profile.code, req.item)
            assert req.level in {"1", "2", "3", "4"}, (profile.code, req.item)
            assert req.weight in {1, 2, 3, 4}, (profile.code, req.item)


def test_base_profile_covers_data_protection_and_inclusion(record: FrameworkRecord) -> None:
    base = next(p for p in record.profiles if p.code == "all-staff")
    assert {r.item.split(".")[0] for r in base.requirements} == {"DP", "GI"}


def test_profiles_are_realistic(record: FrameworkRecord) -> None:
    def req(role: str, item: str) -> tuple[str, int]:
        profile = next(p for p in record.profiles if p.role == role)
        found = next(r for r in profile.requirements if r.item == item)
        return found.level, found.weight

    assert req("data_clerk", "DC.2") == ("3", 4)
    assert req("data_clerk", "SA.1") == ("1", 1)
    assert req("statistician", "SA.1") == ("4", 4)
    assert req("statistician", "SA.4") == ("4", 4)
    assert req("head_teacher", "SBM.1") == ("3", 4)
    assert req("head_teacher", "SA.1") == ("2", 2)
    assert req("planner", "EP.2") == ("4", 4)
    assert req("finance_officer", "PF.2") == ("4", 4)
    assert req("ict_support", "ICT.3")[1] == 4


# The loader refuses broken files -----------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "emis"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, change: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _problems(data_dir: Path) -> list[tuple[str, str]]:
    with pytest.raises(EmisFrameworkError) as caught:
        emis_framework_record(data_dir)
    return [(p.location, p.code) for p in caught.value.problems]


def test_loader_reports_a_missing_translation(data_copy: Path) -> None:
    path = data_copy / "03-statistical-analysis.json"
    _edit(path, lambda d: d["competencies"][1]["indicators"]["3"].pop("lo"))
    assert _problems(data_copy) == [
        ("03-statistical-analysis.json:competencies[1].indicators.3.lo", "missing_translation")
    ]


def test_loader_reports_a_missing_level_and_a_placeholder(data_copy: Path) -> None:
    path = data_copy / "01-data-collection.json"

    def change(d: dict) -> None:  # type: ignore[type-arg]
        del d["competencies"][0]["indicators"]["0"]
        d["competencies"][2]["description"]["fr"] = "TODO"

    _edit(path, change)
    problems = _problems(data_copy)
    assert ("01-data-collection.json:competencies[0].indicators.0", "not_an_object") in problems
    assert ("01-data-collection.json:competencies[2].description.fr", "placeholder") in problems


def test_loader_reports_duplicates_and_bad_requirements(data_copy: Path) -> None:
    first = json.loads((data_copy / "01-data-collection.json").read_text(encoding="utf-8"))
    taken = first["competencies"][0]["identifier"]
    _edit(
        data_copy / "02-data-quality.json",
        lambda d: d["competencies"][0].update(identifier=taken, code="DC.1"),
    )

    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["profiles"][2]["requirements"][0].update(item="XX.9", level="5", weight=7)
        d["profiles"][3]["base"] = "nobody"

    _edit(data_copy / "profiles.json", change)
    codes = {code for _, code in _problems(data_copy)}
    assert {
        "duplicate_identifier",
        "duplicate_code",
        "bad_code",
        "unknown_item",
        "bad_level",
        "bad_weight",
        "unknown_base",
    } <= codes


# Installation -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _importer(request: pytest.FixtureRequest) -> None:
    """Installation goes through the framework importer; skip those tests without it."""
    if request.node.get_closest_marker("django_db"):
        pytest.importorskip("educap.frameworks.importing")


@pytest.mark.django_db
def test_install_imports_publishes_and_is_idempotent(record: FrameworkRecord) -> None:
    from educap.audit.models import AuditEvent
    from educap.frameworks import importing
    from educap.frameworks.models import (
        Framework,
        FrameworkItem,
        FrameworkStatus,
        LevelIndicator,
        Requirement,
        RoleProfile,
    )
    from educap.frameworks.selectors import profile_requirements
    from educap.people.models import Role

    framework = emis_framework_install()
    assert framework.code == EMIS_FRAMEWORK_CODE
    assert framework.identifier == record.identifier
    assert framework.status == FrameworkStatus.PUBLISHED
    assert framework.published_at is not None
    assert framework.scale.code == "default-5"
    assert framework.title_ar == record.title["ar"]
    assert framework.title_lo == record.title["lo"]
    competencies = FrameworkItem.objects.filter(framework=framework, kind="competency")
    assert competencies.count() == len(_competencies(record))
    item = competencies.get(code="SA.1")
    assert item.identifier == next(i.identifier for i in record.items if i.code == "SA.1")
    assert item.parent is not None
    assert item.parent.code == "SA"
    assert ARABIC.search(item.statement_ar)
    assert LAO.search(item.statement_lo)
    assert LevelIndicator.objects.filter(item__framework=framework).count() == 5 * len(
        _competencies(record)
    )
    assert RoleProfile.objects.filter(framework=framework).count() == len(record.profiles)
    assert set(Role.objects.values_list("code", flat=True)) >= REQUIRED_ROLES
    clerk = RoleProfile.objects.get(framework=framework, role__code="data_clerk")
    assert clerk.base is not None
    assert clerk.base.code == "emis-staff"
    effective = {
        FrameworkItem.objects.get(pk=pk).code: (r.level.code, r.weight, r.inherited_from)
        for pk, r in profile_requirements(profile=clerk).items()
    }
    assert effective["DC.2"] == ("3", 4, "data-clerk")
    assert effective["SA.1"] == ("1", 1, "data-clerk")  # overrides EMIS staff's 2
    assert effective["DP.2"] == ("3", 4, "emis-staff")
    assert effective["GI.3"] == ("1", 2, "all-staff")

    counts = (
        Framework.objects.count(),
        FrameworkItem.objects.count(),
        Requirement.objects.count(),
        Role.objects.count(),
        AuditEvent.objects.count(),
    )
    # What is stored is exactly what the files say: importing them again would change nothing.
    plan = importing.framework_import_plan(actor=None, record=emis_framework_record())
    assert plan.problems == []
    assert plan.outcome == importing.ImportOutcome.UNCHANGED

    again = emis_framework_install()
    assert again.pk == framework.pk
    assert again.published_at == framework.published_at
    assert counts == (
        Framework.objects.count(),
        FrameworkItem.objects.count(),
        Requirement.objects.count(),
        Role.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_install_keeps_existing_roles_as_they_are() -> None:
    from educap.core.testing import make_role
    from educap.frameworks.models import RoleProfile

    role = make_role("head_teacher", "School principal")
    framework = emis_framework_install()
    role.refresh_from_db()
    assert role.name == "School principal"
    assert RoleProfile.objects.get(framework=framework, code="head-teacher").role == role


@pytest.mark.django_db
def test_install_without_roles_reports_them_and_writes_nothing() -> None:
    from educap.frameworks.models import Framework

    with pytest.raises(EmisFrameworkError) as caught:
        emis_framework_install(create_roles=False)
    assert {p.code for p in caught.value.problems} == {"framework_import_unknown_role"}
    assert not Framework.objects.exists()


@pytest.mark.django_db
def test_install_as_draft_then_publish() -> None:
    from educap.frameworks.models import FrameworkStatus

    draft = emis_framework_install(publish=False)
    assert draft.status == FrameworkStatus.DRAFT
    assert emis_framework_install(publish=False).status == FrameworkStatus.DRAFT
    published = emis_framework_install()
    assert published.pk == draft.pk
    assert published.status == FrameworkStatus.PUBLISHED


@pytest.mark.django_db
def test_install_refused_for_a_user_who_may_not_import() -> None:
    from educap.core.testing import make_user
    from educap.frameworks.models import Framework
    from educap.people.models import Role

    user = make_user("someone")
    with pytest.raises(EmisFrameworkError) as caught:
        emis_framework_install(actor=user)
    assert "framework_import_not_allowed" in {p.code for p in caught.value.problems}
    assert not Framework.objects.exists()
    assert not Role.objects.exists()


@pytest.mark.django_db
def test_install_command_twice() -> None:
    out = StringIO()
    call_command("install_emis_framework", "--check", stdout=out)
    assert "valid" in out.getvalue()
    assert "13 domains" in out.getvalue()
    out = StringIO()
    call_command("install_emis_framework", stdout=out)
    assert out.getvalue().startswith("Installed EMIS-STAFF 1.0: 13 domains")
    out = StringIO()
    call_command("install_emis_framework", stdout=out)
    assert "nothing changed" in out.getvalue()
