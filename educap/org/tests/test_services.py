import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry
from educap.org.models import OrgUnit
from educap.org.services import orgunit_close, orgunit_create, orgunit_move


def _paths_match_parents() -> None:
    for unit in OrgUnit.objects.select_related("parent"):
        expected = f"{unit.parent.path if unit.parent else ''}{unit.pk}/"
        assert unit.path == expected, unit.code
        assert unit.depth == (unit.parent.depth + 1 if unit.parent else 0)


@pytest.mark.django_db
def test_create_sets_path_and_audits(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    school = orgunit_create(
        actor=admin,
        level=ministry.levels["school"],
        parent=ministry.units["G1D1"],
        code="NEW-S",
        name="New school",
    )
    assert school.path == f"{ministry.units['G1D1'].path}{school.pk}/"
    assert AuditEvent.objects.filter(object_id=str(school.pk), action="create").exists()


@pytest.mark.django_db
def test_create_refuses_level_above_parent(ministry: MiniMinistry) -> None:
    with pytest.raises(ValidationError) as err:
        orgunit_create(
            actor=None,
            level=ministry.levels["governorate"],
            parent=ministry.units["G1D1"],
            code="BAD",
            name="Bad",
        )
    assert err.value.error_dict["level"][0].code == "unit_level_order"


@pytest.mark.django_db
def test_move_carries_the_subtree(ministry: MiniMinistry) -> None:
    district = ministry.units["G1D1"]
    orgunit_move(actor=ministry.users["admin"], unit=district, new_parent=ministry.units["G2"])
    _paths_match_parents()
    school = OrgUnit.objects.get(code="G1D1S1")
    assert school.is_within(ministry.units["G2"])
    g2_subtree = set(
        OrgUnit.objects.subtree_of(ministry.units["G2"]).values_list("code", flat=True)
    )
    assert {"G1D1", "G1D1S1"} <= g2_subtree


@pytest.mark.django_db
def test_move_under_own_descendant_is_refused(ministry: MiniMinistry) -> None:
    with pytest.raises(ValidationError):
        orgunit_move(actor=None, unit=ministry.units["G1"], new_parent=ministry.units["G1D1"])


@pytest.mark.django_db
def test_district_manager_cannot_move_units_elsewhere(ministry: MiniMinistry) -> None:
    with pytest.raises(PermissionDenied):
        orgunit_move(
            actor=ministry.users["dist"],
            unit=ministry.units["G2D1"],
            new_parent=ministry.units["G1"],
        )


@pytest.mark.django_db
def test_close_requires_children_closed(ministry: MiniMinistry) -> None:
    day = dt.date(2026, 1, 1)
    with pytest.raises(ValidationError):
        orgunit_close(actor=None, unit=ministry.units["G1D1"], closed_on=day)
    orgunit_close(actor=None, unit=ministry.units["G1D1S1"], closed_on=day)
    orgunit_close(actor=None, unit=ministry.units["G1D1"], closed_on=day)
    open_codes = set(OrgUnit.objects.open_on(dt.date(2026, 6, 1)).values_list("code", flat=True))
    assert "G1D1" not in open_codes
    assert "G1D1S1" not in open_codes
    # Closed units stay in the tree, so history keeps its place.
    assert OrgUnit.objects.subtree_of(ministry.units["G1"]).filter(code="G1D1S1").exists()


@pytest.mark.django_db
def test_ancestors_are_one_query(ministry: MiniMinistry, django_assert_num_queries) -> None:
    school = ministry.units["G2D2S1"]
    with django_assert_num_queries(1):
        codes = [u.code for u in school.ancestors()]
    assert codes == ["MOE", "G2", "G2D2", "G2D2S1"]
