import pytest
from django.test import Client

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry
from educap.people.models import Role


@pytest.mark.django_db
def test_admin_site_writes_are_audited(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/people/role/add/",
        {"code": "planner", "name_en": "Planner", "description_en": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    role = Role.objects.get(code="planner")
    assert AuditEvent.objects.filter(
        object_type="people.role", object_id=str(role.pk), action="create", actor=admin
    ).exists()


@pytest.mark.django_db
def test_admin_created_unit_gets_its_path(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    parent = ministry.units["G1D1"]
    response = client.post(
        "/admin/org/orgunit/add/",
        {
            "code": "ADM-S",
            "name_en": "Admin school",
            "level": ministry.levels["school"].pk,
            "parent": parent.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from educap.org.models import OrgUnit

    unit = OrgUnit.objects.get(code="ADM-S")
    assert unit.path == f"{parent.path}{unit.pk}/"
    assert unit.depth == parent.depth + 1
