"""Importing ODK Central / KoboToolbox submissions of a campaign form."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from educap.assessments import submissions
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    CurrentLevel,
    RaterAssignment,
    Rating,
    Submission,
    SurveyAnswer,
    SurveyResponse,
)
from educap.assessments.submissions import submissions_import
from educap.assessments.tests.test_io_xlsform import launched, make_survey
from educap.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

COMPETENCIES = ["D1.1", "D1.2", "D2.1", "D2.2"]
# Competencies each mini-ministry person's profile asks (see factories.make_published_framework).
PROFILE = {
    "emis_officer": ["D1.1", "D1.2", "D2.1"],
    "head_teacher": ["D1.1", "D2.2"],
    "teacher": ["D1.1"],
}


def central_header(survey: bool = False) -> list[str]:
    header = ["SubmissionDate", "start", "end", "governorate", "district", "office", "person"]
    header += ["profile", "source", "rater"]
    header += [f"d_{c[:2]}-c_{c}" for c in COMPETENCIES]
    if survey:
        header += ["s_S1-q_Q1", "s_S1-q_Q2", "s_S1-q_Q3", "s_S1-q_Q4", "s_S1-q_Q5"]
    return [*header, "meta-instanceID", "KEY", "SubmitterID", "ReviewState"]


def central_row(person, source="self", levels=None, rater="", key=None, **answers) -> dict:
    profile = person.role.code
    levels = levels if levels is not None else dict.fromkeys(PROFILE[profile], 2)
    key = key or f"uuid:{uuid.uuid4()}"
    row = {
        "SubmissionDate": "2026-03-01T10:22:33.123Z",
        "person": person.staff_number,
        "profile": profile,
        "source": source,
        "rater": rater,
        "meta-instanceID": key,
        "KEY": key,
        "SubmitterID": "5",
    }
    for code, value in levels.items():
        row[f"d_{code[:2]}-c_{code}"] = str(value)
    for name, value in answers.items():
        row[f"s_S1-{name}"] = value
    return row


def write_csv(path: Path, rows: list[dict], survey: bool = False, delimiter: str = ",") -> Path:
    header = central_header(survey)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, header, delimiter=delimiter, extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(campaign, path: Path, **kwargs: Any):
    return submissions_import(
        actor=None, campaign=campaign, source=path, file_name=path.name, **kwargs
    )


def test_central_csv_imports_and_second_import_adds_nothing(ministry, tmp_path):
    campaign = launched(ministry)
    people = ministry.people
    rows = [
        central_row(people["g1d1_teacher"], levels={"D1.1": 3}),
        central_row(people["g1d1_officer"], levels={"D1.1": 2, "D1.2": 4, "D2.1": 1}),
        central_row(people["g1d1_teacher"], source="supervisor", levels={"D1.1": 1}),
        central_row(
            people["g1d1_head"],
            source="supervisor",
            levels={"D1.1": 4, "D2.2": 0},
            rater=people["central"].staff_number,
        ),
    ]
    path = write_csv(tmp_path / "central.csv", rows)

    result = run(campaign, path)
    assert result.problems == []
    assert (result.new, result.unchanged, result.rejected, result.ratings) == (4, 0, 0, 7)
    assert result.stored
    teacher = people["g1d1_teacher"]
    stored = {
        (r.person_id, r.item.code, r.source): (r.value, r.rater_id)
        for r in Rating.objects.select_related("item")
    }
    assert stored[(teacher.pk, "D1.1", "self")] == (3, teacher.pk)
    # supervisor from the assignment when no rater is given, else the rater named
    assert stored[(teacher.pk, "D1.1", "supervisor")] == (1, people["g1d1_head"].pk)
    assert stored[(people["g1d1_head"].pk, "D2.2", "supervisor")] == (0, people["central"].pk)
    rating = Rating.objects.filter(person=teacher, source="self").get()
    assert rating.rated_at == dt.datetime(2026, 3, 1, 10, 22, 33, 123000, tzinfo=dt.UTC)
    assert rating.submission.instance_id == rows[0]["KEY"]
    assert rating.assignment.kind == AssignmentKind.SELF
    assert RaterAssignment.objects.filter(status=AssignmentStatus.SUBMITTED).count() == 4
    assert CurrentLevel.objects.get(person=teacher).value == 1  # supervisor tier wins
    assert AuditEvent.objects.filter(action="import").count() == 1

    again = run(campaign, path)
    assert (again.new, again.unchanged, again.rejected, again.ratings) == (0, 4, 0, 0)
    assert Rating.objects.count() == 7
    assert Submission.objects.count() == 4


def test_changed_answers_under_the_same_id_are_refused(ministry, tmp_path):
    campaign = launched(ministry)
    teacher = ministry.people["g1d1_teacher"]
    first = central_row(teacher, levels={"D1.1": 3}, key="uuid:same")
    run(campaign, write_csv(tmp_path / "a.csv", [first]))
    changed = central_row(teacher, levels={"D1.1": 4}, key="uuid:same")
    result = run(campaign, write_csv(tmp_path / "b.csv", [changed]))
    assert [(p.row, p.code) for p in result.problems] == [(2, "submission_duplicate_changed")]
    assert Rating.objects.get().value == 3


def test_one_bad_row_stores_nothing_and_names_the_row(ministry, tmp_path):
    campaign = launched(ministry)
    people = ministry.people
    rows = [
        central_row(people["g1d1_teacher"]),
        central_row(people["g1d1_head"], levels={"D1.1": 2, "D2.2": 9}),  # row 3: not on scale
        central_row(people["g2d1_teacher"]),
    ]
    result = run(campaign, write_csv(tmp_path / "bad.csv", rows))
    assert not result.stored
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (3, "d_D2-c_D2.2", "level_not_on_scale")
    ]
    assert result.problems[0].instance_id == rows[1]["KEY"]
    assert Rating.objects.count() == Submission.objects.count() == 0


def test_every_kind_of_bad_row_is_reported(ministry, tmp_path):
    campaign = launched(ministry)
    people = ministry.people
    from educap.core.testing import make_person

    outsider = make_person(ministry.units["G1D1S1"])  # created after launch: not targeted
    dup = central_row(people["g2d1_head"], levels={"D1.1": 2})
    rows = [
        central_row(people["g1d1_teacher"], levels={"D2.1": 2}),  # 2: not in the profile
        {**central_row(people["g1d1_teacher"]), "person": "NOBODY"},  # 3: unknown person
        central_row(outsider, levels={"D1.1": 2, "D1.2": 2, "D2.1": 2}),  # 4: not targeted
        central_row(people["g1d1_teacher"], source="supervisor", rater="NOBODY"),  # 5: rater
        central_row(people["g1d1_teacher"], source="peer"),  # 6: source not collected
        dup,  # 7
        {**dup},  # 8: duplicate id within the file
        {**central_row(people["g2d1_teacher"]), "SubmissionDate": "yesterday"},  # 9
    ]
    result = run(campaign, write_csv(tmp_path / "bad.csv", rows))
    found = [(p.row, p.code) for p in result.problems]
    assert found == [
        (2, "competency_not_in_profile"),
        (3, "person_unknown"),
        (4, "person_not_in_campaign"),
        (5, "rater_unknown"),
        (6, "source_invalid"),
        (8, "submission_duplicate_in_file"),
        (9, "submission_date_invalid"),
    ]
    assert result.rejected == 7
    assert result.new == 1
    assert Rating.objects.count() == 0


def test_skip_invalid_stores_valid_rows_and_writes_the_report(ministry, tmp_path):
    campaign = launched(ministry)
    people = ministry.people
    rows = [
        central_row(people["g1d1_teacher"]),
        {**central_row(people["g1d1_head"]), "person": "NOBODY"},
        central_row(people["g2d1_teacher"]),
    ]
    path = write_csv(tmp_path / "mixed.csv", rows)
    report = tmp_path / "rejected.csv"
    out = io.StringIO()
    call_command(
        "import_submissions",
        campaign.code,
        str(path),
        "--skip-invalid",
        "--report",
        str(report),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert Submission.objects.count() == 2
    assert Rating.objects.count() == 2
    lines = list(csv.reader(report.open(encoding="utf-8")))
    assert lines[0] == ["row", "submission_id", "column", "code", "problem"]
    assert lines[1][:4] == ["3", rows[1]["KEY"], "person", "person_unknown"]
    assert "2 new" in out.getvalue()
    assert "1 rejected" in out.getvalue()


def test_command_refuses_a_file_with_errors(ministry, tmp_path):
    campaign = launched(ministry)
    rows = [{**central_row(ministry.people["g1d1_teacher"]), "person": "NOBODY"}]
    path = write_csv(tmp_path / "bad.csv", rows)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_submissions", campaign.code, str(path), stderr=err)
    assert "row 2, column person" in err.getvalue()
    assert Submission.objects.count() == 0


def test_dry_run_writes_nothing(ministry, tmp_path):
    campaign = launched(ministry)
    path = write_csv(tmp_path / "ok.csv", [central_row(ministry.people["g1d1_teacher"])])
    out = io.StringIO()
    call_command("import_submissions", campaign.code, str(path), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue()
    assert Submission.objects.count() == 0


def test_kobo_xlsx_with_slash_paths_and_split_multiples(ministry, tmp_path):
    campaign = launched(ministry, collect_survey=True, survey=make_survey())
    teacher, head = ministry.people["g1d1_teacher"], ministry.people["g1d1_head"]
    header = ["start", "end", "governorate", "district", "office", "person", "source", "rater"]
    header += ["d_D1/c_D1.1", "d_D2/c_D2.2", "s_S1/q_Q1", "s_S1/q_Q2"]
    header += ["s_S1/q_Q2/t1", "s_S1/q_Q2/t2", "s_S1/q_Q2/t3", "s_S1/q_Q3", "s_S1/q_Q4"]
    header += ["s_S1/q_Q5", "meta/instanceID", "_id", "_uuid", "_submission_time"]
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    sheet.append(
        [
            None,
            None,
            "G1",
            "G1D1",
            "G1D1S1",
            teacher.staff_number,
            "self",
            None,
            3,
            None,
            "c2",
            "t1 t3",
            1,
            0,
            1,
            4,
            12.5,
            "Fine",
            "uuid:k1",
            101,
            "k1",
            "2026-03-02T08:00:00",
        ]
    )
    # split columns only (the space-separated column empty)
    sheet.append(
        [
            None,
            None,
            "G1",
            "G1D1",
            "G1D1S1",
            head.staff_number,
            "self",
            None,
            2,
            4,
            "c1",
            None,
            0,
            1,
            0,
            5,
            3,
            None,
            "uuid:k2",
            102,
            "k2",
            dt.datetime(2026, 3, 2, 9, 0),
        ]
    )
    path = tmp_path / "kobo.xlsx"
    book.save(path)

    result = run(campaign, path)
    assert result.problems == []
    assert (result.new, result.ratings) == (2, 3)
    answers = {
        (a.response.assignment.ratee_id, a.question.code): a
        for a in SurveyAnswer.objects.select_related("response__assignment", "question", "choice")
    }
    picked = SurveyAnswer.objects.filter(response__assignment__ratee=teacher, question__code="Q2")
    assert sorted(a.choice.code for a in picked) == ["t1", "t3"]
    head_tools = SurveyAnswer.objects.filter(response__assignment__ratee=head, question__code="Q2")
    assert [a.choice.code for a in head_tools] == ["t2"]
    assert answers[(teacher.pk, "Q1")].choice.code == "c2"
    assert answers[(teacher.pk, "Q3")].number == 4
    assert str(answers[(teacher.pk, "Q4")].number) == "12.5000"
    assert answers[(teacher.pk, "Q5")].text == "Fine"
    assert SurveyResponse.objects.count() == 2
    survey_assignment = RaterAssignment.objects.get(ratee=teacher, kind=AssignmentKind.SURVEY)
    assert survey_assignment.status == AssignmentStatus.SUBMITTED
    # the same answers as an ODK Central CSV with split columns give the same digests
    again = run(campaign, path)
    assert again.unchanged == 2


def test_kobo_semicolon_csv_and_split_zero_one_columns(ministry, tmp_path):
    campaign = launched(ministry, collect_survey=True, survey=make_survey())
    teacher = ministry.people["g1d1_teacher"]
    header = ["person", "source", "d_D1/c_D1.1", "s_S1/q_Q2", "s_S1/q_Q2/t1", "s_S1/q_Q2/t2"]
    header += ["s_S1/q_Q2/t3", "s_S1/q_Q4", "_uuid", "_submission_time"]
    text = ";".join(header) + "\n"
    text += f"{teacher.staff_number};self;2;;1;1;0;7;u1;2026-03-02T08:00:00\n"
    path = tmp_path / "kobo.csv"
    path.write_text(text, encoding="utf-8-sig")
    result = run(campaign, path)
    assert result.problems == []
    picked = SurveyAnswer.objects.filter(question__code="Q2").values_list("choice__code", flat=True)
    assert sorted(picked) == ["t1", "t2"]

    head = ministry.people["g1d1_head"].staff_number
    bad = text.replace(";1;1;0;7;u1", ";1;maybe;0;99;u2").replace(teacher.staff_number, head)
    result = run(campaign, _write(tmp_path / "bad.csv", bad))
    assert sorted((p.row, p.column) for p in result.problems) == [
        (2, "s_S1/q_Q2/t2"),
        (2, "s_S1/q_Q4"),
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_survey_only_for_sources_that_answer_it(ministry, tmp_path):
    campaign = launched(ministry, collect_survey=True, survey=make_survey())
    teacher = ministry.people["g1d1_teacher"]
    rows = [
        central_row(teacher, q_Q1="c1"),
        central_row(teacher, source="supervisor", q_Q1="c1"),
        central_row(teacher, q_Q1="zz"),
    ]
    result = run(campaign, write_csv(tmp_path / "s.csv", rows, survey=True))
    assert [(p.row, p.code) for p in result.problems] == [
        (3, "survey_not_expected"),
        (4, "survey_answer_invalid"),
    ]


def test_missing_columns_are_a_file_problem(ministry, tmp_path):
    campaign = launched(ministry)
    path = _write(tmp_path / "x.csv", "a,b\n1,2\n")
    result = run(campaign, path, skip_invalid=True)
    assert {p.code for p in result.problems} == {"missing_column"}
    assert all(p.row == 0 for p in result.problems)
    assert not result.stored


# --- property tests --------------------------------------------------------------------

PEOPLE = ["g1d1_teacher", "g1d1_head", "g1d1_officer", "g2d1_teacher"]  # all have supervisors
submission = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(["self", "supervisor"]),
    st.lists(st.integers(0, 4), min_size=3, max_size=3),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    answers=st.lists(submission, min_size=1, max_size=6, unique_by=lambda s: (s[0], s[1])),
    corrupt=st.none()
    | st.tuples(st.integers(0, 5), st.sampled_from(["level", "person", "source", "date"])),
)
def test_property_round_trip_and_corruption(ministry, tmp_path, answers, corrupt):
    """Valid submissions store exactly their answers; one corrupted cell is reported on its
    row and stops the whole file."""
    with transaction.atomic():
        campaign = launched(ministry, code=f"P-{uuid.uuid4().hex[:8]}")
        rows = []
        expected = {}
        for name, source, values in answers:
            person = ministry.people[name]
            codes = PROFILE[person.role.code]
            levels = dict(zip(codes, values, strict=False))
            rows.append(central_row(person, source=source, levels=levels))
            for code, value in levels.items():
                expected[(person.pk, code, source)] = value
        bad_row = None
        if corrupt is not None:
            index = corrupt[0] % len(rows)
            bad_row = index + 2
            target = rows[index]
            if corrupt[1] == "level":
                first = next(k for k in target if k.startswith("d_"))
                target[first] = "7"
            elif corrupt[1] == "person":
                target["person"] = "NOBODY"
            elif corrupt[1] == "source":
                target["source"] = "peer"
            else:
                target["SubmissionDate"] = "not a date"
        path = write_csv(tmp_path / f"{uuid.uuid4().hex}.csv", rows)
        result = run(campaign, path)
        if bad_row is None:
            assert result.problems == []
            stored = {
                (r.person_id, r.item.code, r.source): r.value
                for r in Rating.objects.filter(campaign=campaign).select_related("item")
            }
            assert stored == expected
            assert run(campaign, path).unchanged == len(rows)
        else:
            assert {p.row for p in result.problems} == {bad_row}
            assert not Rating.objects.filter(campaign=campaign).exists()
        transaction.set_rollback(True)


def test_big_imports_refresh_current_levels_in_the_background(
    ministry, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(submissions, "INLINE_REFRESH_LIMIT", 0)
    campaign = launched(ministry)
    teacher = ministry.people["g1d1_teacher"]
    path = write_csv(tmp_path / "big.csv", [central_row(teacher, levels={"D1.1": 3})])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = run(campaign, path)
    assert result.levels_deferred == 1
    assert not CurrentLevel.objects.filter(person=teacher).exists()
    for callback in callbacks:  # what the commit would start: the refresh task
        callback()
    assert CurrentLevel.objects.get(person=teacher).value == 3
