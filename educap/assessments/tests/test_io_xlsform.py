"""The campaign XLSForm: pyxform must turn it into an XForm with the cascades and fields."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from educap.assessments.io import xlsform
from educap.assessments.models import Survey, SurveyChoice, SurveyQuestion, SurveySection
from educap.assessments.services import campaign_launch
from educap.assessments.submissions import campaign_form_spec
from educap.assessments.tests.factories import make_campaign

pytestmark = pytest.mark.django_db


def make_survey(code: str = "MASS") -> Survey:
    survey = Survey.objects.create(code=code, title="Management skills survey")
    section = SurveySection.objects.create(survey=survey, code="S1", title="About you", sequence=1)
    single = SurveyQuestion.objects.create(
        section=section, code="Q1", kind="single", text="Main task", sequence=1
    )
    for n, label in enumerate(["Data", "Teaching"], start=1):
        SurveyChoice.objects.create(question=single, code=f"c{n}", label=label, sequence=n)
    multiple = SurveyQuestion.objects.create(
        section=section, code="Q2", kind="multiple", text="Tools used", sequence=2
    )
    for n, label in enumerate(["Excel", "DHIS2", "Paper"], start=1):
        SurveyChoice.objects.create(question=multiple, code=f"t{n}", label=label, sequence=n)
    SurveyQuestion.objects.create(
        section=section, code="Q3", kind="likert", text="I have enough time", sequence=3
    )
    SurveyQuestion.objects.create(
        section=section,
        code="Q4",
        kind="number",
        text="Years in post",
        sequence=4,
        min_value=Decimal(0),
        max_value=Decimal(50),
    )
    SurveyQuestion.objects.create(
        section=section, code="Q5", kind="text", text="Comments", sequence=5
    )
    return survey


def launched(ministry, **fields):
    campaign = make_campaign(ministry, **fields)
    campaign_launch(actor=None, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def xform_of(data: bytes) -> str:
    return convert(xlsform=data, file_type=".xlsx").xform


def test_campaign_form_converts_to_xform_with_cascades(ministry):
    campaign = launched(ministry, collect_survey=True, survey=make_survey())
    data = xlsform.workbook_bytes(campaign_form_spec(campaign=campaign, version="1.0-test"))
    xml = xform_of(data)

    # settings: form id, version and title
    assert 'id="CAMP-1"' in xml
    assert 'version="1.0-test"' in xml
    assert "<h:title>Skills assessment</h:title>" in xml
    # cascading selects with choice filters over secondary instances
    assert "instance('districts')/root/item[parent= /data/governorate ]" in xml
    assert "instance('offices')/root/item[parent= /data/district ]" in xml
    assert "instance('persons')/root/item[unit= /data/office ]" in xml
    assert "instance('persons')/root/item[name= /data/person ]/profile" in xml
    # competency fields inside their domain groups, asked only for the right profiles
    assert "<c_D1.1 jr:template" not in xml
    for name in ("c_D1.1", "c_D1.2", "c_D2.1", "c_D2.2"):
        assert re.search(rf"/data/d_D\d/{re.escape(name)}", xml), name
    relevant = re.search(r'nodeset="/data/d_D2/c_D2.2"[^>]*relevant="([^"]+)"', xml)
    assert relevant is not None
    assert "head_teacher" in relevant.group(1)
    assert "teacher'" not in relevant.group(1).replace("head_teacher'", "")
    # survey questions by kind
    assert 'nodeset="/data/s_S1/q_Q4" type="decimal"' in xml
    assert "/data/s_S1/q_Q2" in xml
    assert "instance('likert5')" in xml or "likert5" in xml
    # four languages
    for lang in ("English (en)", "Arabic (ar)", "French (fr)", "Lao (lo)"):
        assert f'lang="{lang}"' in xml


def test_people_everywhere_are_reachable_and_unit_limits_the_lists(ministry):
    campaign = launched(ministry)
    spec = campaign_form_spec(campaign=campaign)
    staff = {p.staff_number: p for p in spec.persons}
    assert set(staff) == {p.staff_number for p in ministry.people.values()}
    offices = {o.code: o.parent for o in spec.offices}
    districts = {d.code: d.parent for d in spec.districts}
    governorates = {g.code for g in spec.governorates}
    for person in spec.persons:
        # every person can be reached by governorate -> district -> office
        district = offices[person.unit]
        assert districts[district] in governorates
    # the district officer sits in the district office itself
    officer = staff[ministry.people["g1d1_officer"].staff_number]
    assert officer.unit == "G1D1"
    assert offices["G1D1"] == "G1D1"
    # the central officer is reachable through the ministry entry
    assert staff[ministry.people["central"].staff_number].unit == "MOE"
    assert "MOE" in governorates

    small = campaign_form_spec(campaign=campaign, unit=ministry.units["G1D1"])
    assert {p.staff_number for p in small.persons} == {
        ministry.people[k].staff_number for k in ("g1d1_officer", "g1d1_head", "g1d1_teacher")
    }
    assert {g.code for g in small.governorates} == {"G1"}


def test_translated_labels_fall_back_to_english(ministry):
    campaign = launched(ministry)
    data = xlsform.workbook_bytes(campaign_form_spec(campaign=campaign))
    sheet = load_workbook(io.BytesIO(data))["survey"]
    header = [c.value for c in sheet[1]]
    rows = {r[1]: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(2, values_only=True)}
    d11 = rows["c_D1.1"]
    assert d11["label::English (en)"] == "D1.1 Competency 1.1"
    assert d11["label::Arabic (ar)"] == "D1.1 الكفاءة 1.1"
    assert d11["label::French (fr)"] == "D1.1 Competency 1.1"
    settings = load_workbook(io.BytesIO(data))["settings"]
    assert [c.value for c in settings[2]][:2] == ["Skills assessment", "CAMP-1"]


def test_export_command_writes_a_valid_form(ministry, tmp_path):
    campaign = launched(ministry)
    out = tmp_path / "form.xlsx"
    stdout = io.StringIO()
    call_command("export_xlsform", campaign.code, "-o", str(out), "--unit", "G1", stdout=stdout)
    xml = xform_of(out.read_bytes())
    assert ministry.people["g1d1_teacher"].staff_number in xml
    assert ministry.people["g2d1_teacher"].staff_number not in xml
    assert "people" in stdout.getvalue()
