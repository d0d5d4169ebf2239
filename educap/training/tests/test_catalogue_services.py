"""Catalogue writes: courses, programmes, competencies, prerequisites, modules, materials,
and the all-or-nothing, idempotent import."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from educap.assessments.tests.factories import make_published_framework
from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, build_mini_ministry
from educap.frameworks.models import FrameworkItem, FrameworkStatus
from educap.people.models import Role
from educap.training.io.catalogue import COLUMNS, parse_csv, parse_rows, serialise_csv
from educap.training.models import Course, CourseMaterial, Modality, Programme, Track
from educap.training.selectors.catalogue import catalogue_record_queryset, catalogue_records
from educap.training.services.catalogue import (
    CatalogueErrorCode,
    CompetencyTarget,
    ModuleInput,
    catalogue_import_apply,
    catalogue_import_plan,
    course_competencies_set,
    course_create,
    course_deactivate,
    course_material_add,
    course_material_remove,
    course_modules_set,
    course_prerequisites_set,
    course_update,
    find_cycle,
    programme_create,
    programme_update,
)
from educap.training.tests.factories import make_course

pytestmark = pytest.mark.django_db


def _code(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return next(e.code for errors in exc.error_dict.values() for e in errors)
    return str(exc.code)


@pytest.fixture
def framework(ministry: MiniMinistry):
    return make_published_framework()


def _item(framework, code: str) -> FrameworkItem:
    return framework.items.get(code=code)


# --- courses and programmes --------------------------------------------------------------


def test_course_create_with_everything_is_audited(ministry, framework) -> None:
    central = ministry.users["central"]
    programme = programme_create(actor=central, code="DQ", title_en="Data quality")
    first = make_course("DQ-100")
    course = course_create(
        actor=central,
        code="DQ-101",
        programme=programme,
        title_en="Validating census data",
        title_ar="التحقق من بيانات التعداد",
        track=Track.ROLE,
        modality=Modality.BLENDED,
        duration_hours=Decimal("12.5"),
        cpd_credits=Decimal(2),
        prerequisites=[first],
        target_roles=[Role.objects.get(code="emis_officer")],
        competencies=[CompetencyTarget(_item(framework, "D1.1"), 3)],
        modules=[ModuleInput(title={"en": "Checks", "fr": "Contrôles"}, duration_hours=Decimal(6))],
    )
    assert course.cost_for(10) == Decimal(0)
    assert list(course.prerequisites.values_list("code", flat=True)) == ["DQ-100"]
    assert course.modules.get().title_fr == "Contrôles"
    event = AuditEvent.objects.filter(object_type="training.course").latest("pk")
    assert event.action == AuditAction.CREATE
    assert event.actor == central
    assert event.after["competencies"] == ["EMIS-T@1.0:D1.1=3"]
    assert event.after["prerequisites"] == ["DQ-100"]


def test_only_catalogue_managers_write(ministry) -> None:
    for who in ("gov1", "teacher", "trainer", "partner"):
        with pytest.raises(PermissionDenied):
            course_create(
                actor=ministry.users[who], code="X", title_en="X", duration_hours=Decimal(1)
            )
    course = make_course("C-1")
    with pytest.raises(PermissionDenied):
        course_deactivate(actor=ministry.users["dist"], course=course)
    course_deactivate(actor=ministry.users["admin"], course=course)
    assert not Course.objects.get(pk=course.pk).is_active


def test_course_needs_english_title_and_valid_fields(ministry) -> None:
    central = ministry.users["central"]
    with pytest.raises(ValidationError) as exc:
        course_create(actor=central, code="A", title_ar="عنوان", duration_hours=Decimal(1))
    assert _code(exc.value) == CatalogueErrorCode.TITLE_MISSING
    with pytest.raises(ValidationError) as exc:
        course_create(actor=central, code="bad code", title_en="X", duration_hours=Decimal(1))
    assert "code" in exc.value.message_dict
    make_course("TAKEN")
    with pytest.raises(ValidationError) as exc:
        course_create(actor=central, code="TAKEN", title_en="X", duration_hours=Decimal(1))
    assert "code" in exc.value.message_dict
    with pytest.raises(TypeError):
        course_create(actor=central, code="Y", title_en="Y", duration_hours=1, colour="red")


def test_course_update_replaces_lists_only_when_given(ministry, framework) -> None:
    central = ministry.users["central"]
    course = make_course("C-1", framework=framework)
    course.target_roles.set([Role.objects.get(code="teacher")])
    course_update(actor=central, course=course, title_fr="Cours", cpd_credits=Decimal(3))
    course.refresh_from_db()
    assert course.title_fr == "Cours"
    assert course.competencies.count() == 2
    assert course.target_roles.count() == 1
    course_update(actor=central, course=course, target_roles=[], competencies=[])
    assert course.target_roles.count() == 0
    assert course.competencies.count() == 0
    event = AuditEvent.objects.filter(object_id=str(course.pk)).latest("pk")
    assert event.before == {
        "target_roles": ["teacher"],
        "competencies": ["EMIS-T@1.0:D1.1=3", "EMIS-T@1.0:D1.2=3"],
    }


def test_programme_update_and_title_rule(ministry) -> None:
    central = ministry.users["central"]
    programme = programme_create(actor=central, code="P1", title_en="One")
    programme_update(actor=central, programme=programme, title_lo="ໜຶ່ງ", is_active=False)
    programme.refresh_from_db()
    assert programme.title_lo == "ໜຶ່ງ"
    assert not programme.is_active
    with pytest.raises(ValidationError):
        programme_update(actor=central, programme=programme, title_en="")


# --- competencies ------------------------------------------------------------------------


def test_competency_rules(ministry, framework) -> None:
    central = ministry.users["central"]
    course = make_course("C-1")

    def refused(targets) -> str:
        with pytest.raises(ValidationError) as exc:
            course_competencies_set(actor=central, course=course, competencies=targets)
        return _code(exc.value)

    assert (
        refused([CompetencyTarget(_item(framework, "D1"), 2)])
        == "course_competency_not_a_competency"
    )
    assert refused([CompetencyTarget(_item(framework, "D1.1"), 7)]) == (
        "course_competency_level_not_on_scale"
    )
    twice = [
        CompetencyTarget(_item(framework, "D1.1"), 2),
        CompetencyTarget(_item(framework, "D1.1"), 3),
    ]
    assert refused(twice) == "course_competency_repeated"
    links = course_competencies_set(
        actor=central,
        course=course,
        competencies=[CompetencyTarget(_item(framework, "D1.1"), 2)],
    )
    assert [(link.item.code, link.level) for link in links] == [("D1.1", 2)]
    # A draft framework is fine; a retired one is not.
    framework.status = FrameworkStatus.DRAFT
    framework.save()
    course_competencies_set(
        actor=central, course=course, competencies=[CompetencyTarget(_item(framework, "D2.1"), 4)]
    )
    framework.status = FrameworkStatus.RETIRED
    framework.save()
    assert refused([CompetencyTarget(_item(framework, "D2.2"), 1)]) == (
        "course_competency_framework_retired"
    )
    assert list(course.competencies.values_list("item__code", "level")) == [("D2.1", 4)]


# --- prerequisites -----------------------------------------------------------------------


def test_prerequisites_refuse_self_and_cycles(ministry) -> None:
    central = ministry.users["central"]
    a, b, c = make_course("A"), make_course("B"), make_course("C")
    course_prerequisites_set(actor=central, course=b, prerequisites=[a])
    course_prerequisites_set(actor=central, course=c, prerequisites=[b])
    with pytest.raises(ValidationError) as exc:
        course_prerequisites_set(actor=central, course=a, prerequisites=[a])
    assert _code(exc.value) == CatalogueErrorCode.PREREQUISITE_SELF
    with pytest.raises(ValidationError) as exc:
        course_prerequisites_set(actor=central, course=a, prerequisites=[c])
    assert _code(exc.value) == CatalogueErrorCode.PREREQUISITE_CYCLE
    assert "A → C → B → A" in exc.value.messages[0]
    assert a.prerequisites.count() == 0


@given(st.dictionaries(st.integers(0, 8), st.sets(st.integers(0, 8), max_size=3), max_size=9))
def test_find_cycle_agrees_with_a_brute_force_check(graph) -> None:
    def reaches(start: int, goal: int) -> bool:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    has_cycle = any(reaches(node, node) for node in graph)
    cycle = find_cycle(graph)
    assert (cycle is not None) == has_cycle
    if cycle is not None:
        assert cycle[0] == cycle[-1]
        assert all(b in graph.get(a, ()) for a, b in itertools.pairwise(cycle))


# --- modules -----------------------------------------------------------------------------


def test_modules_keep_ids_reorder_and_delete(ministry) -> None:
    central = ministry.users["central"]
    course = make_course("C-1")
    _one, two = course_modules_set(
        actor=central,
        course=course,
        modules=[ModuleInput(title={"en": "One"}), ModuleInput(title={"en": "Two"})],
    )
    saved = course_modules_set(
        actor=central,
        course=course,
        modules=[
            ModuleInput(title={"en": "Two bis"}, pk=two.pk),
            ModuleInput(title={"en": "Three"}),
        ],
    )
    assert [(m.pk == two.pk, m.sequence, m.title_en) for m in saved] == [
        (True, 1, "Two bis"),
        (False, 2, "Three"),
    ]
    assert course.modules.count() == 2
    other = make_course("C-2")
    with pytest.raises(ValidationError):
        course_modules_set(
            actor=central, course=other, modules=[ModuleInput(title={"en": "x"}, pk=saved[0].pk)]
        )
    with pytest.raises(ValidationError):
        course_modules_set(actor=central, course=course, modules=[ModuleInput(title={"ar": "x"})])


# --- materials ---------------------------------------------------------------------------


def test_materials_files_are_checked(
    ministry, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = tmp_path
    central = ministry.users["central"]
    course = make_course("C-1")
    link = course_material_add(
        actor=central, course=course, title="Handbook", url="https://example.org/h.pdf"
    )
    pdf = SimpleUploadedFile("guide (final).pdf", b"%PDF-1.7 body", content_type="application/pdf")
    with transaction.atomic():
        material = course_material_add(actor=central, course=course, title="Guide", file=pdf)
    assert material.file.name.startswith("training/materials/guide_final")
    assert (tmp_path / material.file.name).exists()

    def refused(**kwargs) -> str:
        with pytest.raises(ValidationError) as exc:
            course_material_add(actor=central, course=course, title="X", **kwargs)
        return _code(exc.value)

    assert refused() == CatalogueErrorCode.MATERIAL_FILE_OR_LINK
    assert refused(url="https://example.org", file=SimpleUploadedFile("a.pdf", b"%PDF-")) == (
        CatalogueErrorCode.MATERIAL_FILE_OR_LINK
    )
    assert (
        refused(file=SimpleUploadedFile("x.html", b"<script>")) == CatalogueErrorCode.MATERIAL_TYPE
    )
    assert (
        refused(file=SimpleUploadedFile("x.pdf", b"MZ\x90\x00"))
        == CatalogueErrorCode.MATERIAL_CONTENT
    )
    assert (
        refused(file=SimpleUploadedFile("x.txt", b"\xff\xfe\x00"))
        == CatalogueErrorCode.MATERIAL_CONTENT
    )
    settings.EDUCAP_MAX_UPLOAD_MB = 0
    assert (
        refused(file=SimpleUploadedFile("x.pdf", b"%PDF-big"))
        == CatalogueErrorCode.MATERIAL_TOO_LARGE
    )
    assert refused(url="javascript:alert(1)") == "invalid"
    path = tmp_path / material.file.name
    with django_capture_on_commit_callbacks(execute=True):
        course_material_remove(actor=central, material=material)
    assert not path.exists()
    with pytest.raises(PermissionDenied):
        course_material_remove(actor=ministry.users["teacher"], material=link)
    assert list(CourseMaterial.objects.values_list("title", flat=True)) == ["Handbook"]


# --- import ------------------------------------------------------------------------------


def _rows(*rows: dict[str, str], columns: list[str] = COLUMNS) -> list[list[str]]:
    return [columns, *([row.get(c, "") for c in columns] for row in rows)]


def _plan(*rows: dict[str, str], columns: list[str] = COLUMNS):
    parsed = parse_rows(_rows(*rows, columns=columns))
    assert parsed.problems == []
    return catalogue_import_plan(records=parsed.records)


def test_import_creates_then_changes_nothing_then_updates(ministry, framework) -> None:
    central = ministry.users["central"]
    rows = [
        {
            "code": "DQ-101",
            "programme": "DQ",
            "programme_title_en": "Data quality",
            "title_en": "Validating data",
            "duration_hours": "12",
            "competencies": "EMIS-T:D1.1=3 EMIS-T@1.0:D2.1=2",
            "target_roles": "emis_officer teacher",
            "prerequisites": "DQ-100",
            "records_evidence": "yes",
        },
        {"code": "DQ-100", "programme": "DQ", "title_en": "Basics", "duration_hours": "3"},
    ]
    plan = _plan(*rows)
    assert plan.problems == []
    assert plan.created == ["DQ-101", "DQ-100"]
    assert plan.new_programmes == ["DQ"]
    result = catalogue_import_apply(actor=central, plan=plan)
    assert (result.created, result.updated, result.unchanged, result.programmes_created) == (
        2,
        0,
        0,
        1,
    )
    course = Course.objects.get(code="DQ-101")
    assert course.programme.title_en == "Data quality"
    assert course.records_evidence
    assert sorted(course.competencies.values_list("item__code", "level")) == [
        ("D1.1", 3),
        ("D2.1", 2),
    ]
    assert list(course.prerequisites.values_list("code", flat=True)) == ["DQ-100"]
    events = AuditEvent.objects.count()
    again = _plan(*rows)
    assert again.unchanged == ["DQ-101", "DQ-100"]
    assert again.programmes == {}
    assert catalogue_import_apply(actor=central, plan=again).unchanged == 2
    assert AuditEvent.objects.count() == events + 1  # only the import summary
    # A file with fewer columns changes only those.
    partial = _plan(
        {"code": "DQ-101", "title_en": "Validating EMIS data", "duration_hours": "12"},
        columns=["code", "title_en", "duration_hours"],
    )
    assert partial.updated == ["DQ-101"]
    catalogue_import_apply(actor=central, plan=partial)
    course.refresh_from_db()
    assert course.title_en == "Validating EMIS data"
    assert course.records_evidence
    assert course.competencies.count() == 2
    assert course.programme.code == "DQ"


def test_import_problems_name_row_and_column_and_nothing_is_written(ministry, framework) -> None:
    make_course("EXISTS")
    framework_retired = make_published_framework("OLD")
    framework_retired.status = FrameworkStatus.RETIRED
    framework_retired.save()
    plan = _plan(
        {"code": "A", "title_en": "A", "duration_hours": "1", "target_roles": "astronaut"},
        {"code": "B", "title_en": "B", "duration_hours": "1", "prerequisites": "NOPE EXISTS"},
        {"code": "C", "title_en": "C", "duration_hours": "1", "competencies": "NOFW:X=1"},
        {"code": "D", "title_en": "D", "duration_hours": "1", "competencies": "EMIS-T:D9.9=1"},
        {"code": "E", "title_en": "E", "duration_hours": "1", "competencies": "EMIS-T:D1=1"},
        {"code": "F", "title_en": "F", "duration_hours": "1", "competencies": "EMIS-T:D1.1=9"},
        {"code": "G", "title_en": "G", "duration_hours": "1", "competencies": "OLD:D1.1=1"},
        {"code": "H", "title_en": "x" * 10, "duration_hours": "1", "provider_name": "ok"},
        {"code": "P1", "title_en": "P", "duration_hours": "1", "prerequisites": "P2"},
        {"code": "P2", "title_en": "P", "duration_hours": "1", "prerequisites": "P1"},
        {
            "code": "Q1",
            "programme": "PR",
            "programme_title_en": "One",
            "title_en": "Q",
            "duration_hours": "1",
        },
        {
            "code": "Q2",
            "programme": "PR",
            "programme_title_en": "Two",
            "title_en": "Q",
            "duration_hours": "1",
        },
    )
    found = [(p.row, p.column, p.code) for p in plan.problems]
    assert found == [
        (2, "target_roles", "catalogue_role_unknown"),
        (3, "prerequisites", "catalogue_course_unknown"),
        (4, "competencies", "catalogue_framework_unknown"),
        (5, "competencies", "catalogue_competency_unknown"),
        (6, "competencies", "course_competency_not_a_competency"),
        (7, "competencies", "course_competency_level_not_on_scale"),
        (8, "competencies", "course_competency_framework_retired"),
        (10, "prerequisites", "course_prerequisite_cycle"),
        (13, "programme_title_en", "catalogue_programme_titles_differ"),
    ]
    with pytest.raises(ValidationError) as exc:
        catalogue_import_apply(actor=None, plan=plan)
    assert exc.value.code == CatalogueErrorCode.IMPORT_PROBLEMS
    assert Course.objects.count() == 1
    assert not Programme.objects.exists()


def test_import_refuses_non_managers(ministry) -> None:
    plan = _plan({"code": "A", "title_en": "A", "duration_hours": "1"})
    with pytest.raises(PermissionDenied):
        catalogue_import_apply(actor=ministry.users["gov1"], plan=plan)


def test_export_import_round_trip_through_the_database(ministry, framework) -> None:
    central = ministry.users["central"]
    programme = programme_create(actor=central, code="P", title_en="Prog", title_ar="برنامج")
    base = make_course("BASE", framework=framework, programme=programme)
    course_create(
        actor=central,
        code="NEXT",
        title_en="Next",
        title_lo="ຕໍ່ໄປ",
        duration_hours=Decimal("2.5"),
        pass_mark=70,
        prerequisites=[base],
        target_roles=[Role.objects.get(code="head_teacher")],
        competencies=[CompetencyTarget(_item(framework, "D2.2"), 4)],
        is_active=False,
    )
    exported = catalogue_records(courses=catalogue_record_queryset(Course.objects.all()))
    data = serialise_csv(exported)
    plan = catalogue_import_plan(records=parse_csv(data).records)
    assert plan.problems == []
    assert plan.unchanged == ["BASE", "NEXT"]
    # Into an empty catalogue, the same file rebuilds the same catalogue.
    Course.objects.all().delete()
    Programme.objects.all().delete()
    plan = catalogue_import_plan(records=parse_csv(data).records)
    assert plan.created == ["BASE", "NEXT"]
    catalogue_import_apply(actor=central, plan=plan)
    again = catalogue_records(courses=catalogue_record_queryset(Course.objects.all()))
    assert serialise_csv(again) == data


class TestImportIsIdempotentForAnyFile(HypothesisTestCase):
    """Any file that plans cleanly imports, and importing it again changes nothing."""

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(
            st.fixed_dictionaries(
                {
                    "code": st.sampled_from(["A", "B", "C", "D"]),
                    "title_en": st.text(
                        alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
                        min_size=1,
                        max_size=20,
                    ).filter(str.strip),
                    "duration_hours": st.sampled_from(["1", "2.5", "40"]),
                    "track": st.sampled_from(["", "core", "leadership"]),
                    "target_roles": st.sampled_from(["", "teacher", "teacher emis_officer"]),
                    "competencies": st.sampled_from(
                        ["", "EMIS-T:D1.1=2", "EMIS-T:D1.2=4 EMIS-T:D2.1=0"]
                    ),
                    "prerequisites": st.sampled_from(["", "A", "B"]),
                    "pass_mark": st.sampled_from(["", "50"]),
                }
            ),
            max_size=4,
        )
    )
    def test_import_twice(self, rows) -> None:
        ministry = build_mini_ministry()
        make_published_framework()
        parsed = parse_rows(_rows(*rows))
        plan = catalogue_import_plan(records=parsed.records)
        if parsed.problems or plan.problems:
            return
        catalogue_import_apply(actor=ministry.users["admin"], plan=plan)
        again = catalogue_import_plan(records=parse_rows(_rows(*rows)).records)
        assert again.problems == []
        assert again.created == []
        assert again.updated == []
