import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry
from educap.frameworks import selectors, services
from educap.frameworks.models import FrameworkItem, FrameworkStatus, Requirement
from educap.frameworks.tests.factories import make_framework


@pytest.mark.django_db
def test_publish_freezes_the_version(ministry: MiniMinistry) -> None:
    central = ministry.users["central"]
    framework = make_framework()
    services.framework_publish(actor=central, framework=framework)
    assert framework.status == FrameworkStatus.PUBLISHED
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    with pytest.raises(ValidationError) as err:
        services.item_update(actor=central, item=item, statement="changed")
    assert err.value.code == "framework_not_draft"
    with pytest.raises(ValidationError):
        services.item_add(
            actor=central, framework=framework, parent=None, kind="domain", code="X", statement="X"
        )


@pytest.mark.django_db
def test_only_central_officers_and_admins_author(ministry: MiniMinistry) -> None:
    framework = make_framework()
    with pytest.raises(PermissionDenied):
        services.item_add(
            actor=ministry.users["gov1"],
            framework=framework,
            parent=None,
            kind="domain",
            code="X",
            statement="X",
        )


@pytest.mark.django_db
def test_new_version_copies_everything_and_diff_shows_changes(ministry: MiniMinistry) -> None:
    central = ministry.users["central"]
    v1 = make_framework()
    services.framework_publish(actor=central, framework=v1)
    v2 = services.framework_new_version(actor=central, framework=v1, version="1.1")
    assert v2.status == FrameworkStatus.DRAFT
    assert v2.items.count() == v1.items.count()
    assert set(v2.items.values_list("identifier", flat=True)) == set(
        v1.items.values_list("identifier", flat=True)
    )
    assert Requirement.objects.filter(profile__framework=v2).count() == 2
    stat = v2.profiles.get(code="statistician")
    assert stat.base is not None
    assert stat.base.framework_id == v2.pk
    assert selectors.framework_diff(old=v1, new=v2) == []

    item = FrameworkItem.objects.get(framework=v2, code="D1.2")
    services.item_update(actor=central, item=item, statement="Reworded")
    services.item_add(
        actor=central,
        framework=v2,
        parent=item.parent,
        kind="competency",
        code="D1.3",
        statement="New one",
    )
    services.item_delete(actor=central, item=FrameworkItem.objects.get(framework=v2, code="D2.2"))
    kinds = {(c.code, c.kind) for c in selectors.framework_diff(old=v1, new=v2)}
    assert kinds == {("D1.2", "changed"), ("D1.3", "added"), ("D2.2", "removed")}
    # The published version did not move.
    assert FrameworkItem.objects.get(framework=v1, code="D1.2").statement == "Competency 1.2"
    with pytest.raises(ValidationError):
        services.framework_new_version(actor=central, framework=v1, version="1.1")


@pytest.mark.django_db
def test_move_reorders_and_refuses_cycles(ministry: MiniMinistry) -> None:
    central = ministry.users["central"]
    framework = make_framework()
    d1 = FrameworkItem.objects.get(framework=framework, code="D1")
    second = FrameworkItem.objects.get(framework=framework, code="D1.2")
    services.item_move(actor=central, item=second, parent=d1, position=0)
    order = list(d1.children.order_by("sequence").values_list("code", flat=True))
    assert order == ["D1.2", "D1.1"]
    with pytest.raises(ValidationError) as err:
        services.item_move(actor=central, item=d1, parent=second, position=0)
    assert err.value.error_dict["parent"][0].code == "item_move_cycle"
    d2 = FrameworkItem.objects.get(framework=framework, code="D2")
    services.item_move(actor=central, item=second, parent=d2, position=99)
    assert list(d2.children.order_by("sequence").values_list("code", flat=True))[-1] == "D1.2"
    # Two moves audited; the refused one left no trace.
    assert AuditEvent.objects.filter(object_type="frameworks.frameworkitem").count() == 2


@pytest.mark.django_db
def test_delete_refuses_required_items_and_requirements_inherit(ministry: MiniMinistry) -> None:
    central = ministry.users["central"]
    framework = make_framework()
    required = FrameworkItem.objects.get(framework=framework, code="D1.1")
    with pytest.raises(ValidationError) as err:
        services.item_delete(actor=central, item=required.parent)
    assert err.value.code == "item_has_requirements"
    stat = framework.profiles.get(code="statistician")
    effective = selectors.profile_requirements(profile=stat)
    by_code = {FrameworkItem.objects.get(pk=k).code: v for k, v in effective.items()}
    assert by_code["D1.1"].inherited_from == "all-staff"
    assert by_code["D2.1"].weight == 4
    # The closer profile wins over the inherited requirement.
    level3 = framework.scale.levels.get(value=3)
    services.requirement_set(actor=central, profile=stat, item=required, level=level3, weight=3)
    effective = selectors.profile_requirements(profile=stat)
    assert effective[required.pk].level.value == 3
    assert effective[required.pk].inherited_from == "statistician"
    services.requirement_set(actor=central, profile=stat, item=required, level=None)
    assert selectors.profile_requirements(profile=stat)[required.pk].level.value == 1


@pytest.mark.django_db
def test_empty_framework_cannot_be_published(ministry: MiniMinistry) -> None:
    framework = make_framework()
    framework.items.all().delete()
    with pytest.raises(ValidationError):
        services.framework_publish(actor=ministry.users["admin"], framework=framework)
