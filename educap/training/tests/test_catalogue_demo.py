"""The demo catalogue: written out in four languages, mapped to the EMIS framework, idempotent."""

from __future__ import annotations

import re

import pytest

from educap.audit.models import AuditEvent
from educap.core.demo import ROLES
from educap.frameworks.emis import emis_framework_install
from educap.frameworks.models import ItemKind
from educap.people.models import Role
from educap.training.demo_catalogue import demo_catalogue_data, demo_catalogue_load
from educap.training.models import Course, CourseModule, Modality, Programme, ProviderKind, Track

LANGUAGES = ("en", "ar", "fr", "lo")
PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|lorem|xxx)\b|\.\.\.", re.I)
SCRIPTS = {"ar": re.compile(r"[\u0600-\u06ff]"), "lo": re.compile(r"[\u0e80-\u0eff]")}


def _texts(data: dict) -> list[dict]:
    found = []
    for programme in data["programmes"]:
        found += [programme["title"], programme["description"]]
    for course in data["courses"]:
        found += [course["title"], course["description"]]
        found += [m["title"] for m in course["modules"]]
    return found


def test_every_text_is_written_in_four_languages() -> None:
    for texts in _texts(demo_catalogue_data()):
        assert set(texts) == set(LANGUAGES), texts
        for lang, text in texts.items():
            assert text.strip(), lang
            assert not PLACEHOLDER.search(text), (lang, text)
            if lang in SCRIPTS:
                assert SCRIPTS[lang].search(text), (lang, text)
        assert texts["fr"] != texts["en"]


def test_the_catalogue_has_a_plausible_mix() -> None:
    courses = demo_catalogue_data()["courses"]
    assert 28 <= len(courses) <= 40
    assert {c["track"] for c in courses} == set(Track.values)
    assert {c["modality"] for c in courses} == set(Modality.values)
    assert {c["provider_kind"] for c in courses} == set(ProviderKind.values)
    assert any(c["prerequisites"] for c in courses)
    assert any(c["records_evidence"] for c in courses)
    roles = {spec.code for spec in ROLES}
    assert {r for c in courses for r in c["target_roles"]} <= roles


@pytest.mark.django_db
def test_loads_against_the_emis_framework_and_twice_changes_nothing() -> None:
    framework = emis_framework_install()
    for spec in ROLES:
        Role.objects.get_or_create(code=spec.code, defaults={"name": spec.en})
    data = demo_catalogue_data()
    assert demo_catalogue_load(framework=framework) == len(data["courses"])
    assert Programme.objects.count() == len(data["programmes"])
    course = Course.objects.get(code="DQ-110")
    assert course.title_ar
    assert course.title_lo
    assert course.programme.description_fr
    assert sorted(course.competencies.values_list("item__code", "level")) == [
        ("DQ.1", 3),
        ("DQ.2", 3),
    ]
    assert list(course.prerequisites.values_list("code", flat=True)) == ["DQ-101"]
    assert course.modules.count() == 3
    # Every competency of the framework is developed by some course.
    competencies = set(
        framework.items.filter(kind=ItemKind.COMPETENCY).values_list("code", flat=True)
    )
    developed = set(Course.objects.values_list("competencies__item__code", flat=True))
    assert competencies <= developed
    events = AuditEvent.objects.count()
    modules = list(CourseModule.objects.values_list("pk", flat=True))
    assert demo_catalogue_load(framework=framework) == 0
    assert list(CourseModule.objects.values_list("pk", flat=True)) == modules
    assert AuditEvent.objects.count() == events + 1  # the import summary only
