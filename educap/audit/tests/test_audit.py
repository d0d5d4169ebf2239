import pytest
from django.test import Client
from django.urls import reverse

from educap.audit.models import AuditEvent
from educap.audit.services import audit_record
from educap.core.testing import MiniMinistry


@pytest.mark.django_db
def test_events_are_append_only(ministry: MiniMinistry) -> None:
    event = audit_record(actor=ministry.users["admin"], action="update", object_repr="x")
    event.object_repr = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(object_repr="y")


@pytest.mark.django_db
def test_only_changed_fields_are_kept(ministry: MiniMinistry) -> None:
    event = audit_record(
        actor=None, action="update", before={"a": 1, "b": 2}, after={"a": 1, "b": 3}
    )
    assert event.before == {"b": 2}
    assert event.after == {"b": 3}


@pytest.mark.django_db
def test_request_origin_is_recorded(ministry: MiniMinistry) -> None:
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post(reverse("accounts:login"), {"username": "teacher", "password": "bad password"})
    event = AuditEvent.objects.get(action="login_failed")
    assert event.ip_address == "10.1.2.3"
    assert event.path == reverse("accounts:login")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "status"), [("admin", 200), ("central", 403), ("teacher", 403)]
)
def test_log_page_is_for_admins(ministry: MiniMinistry, username: str, status: int) -> None:
    audit_record(actor=ministry.users["admin"], action="update", object_repr="something")
    client = Client()
    client.force_login(ministry.users[username])
    response = client.get(reverse("audit:list"), {"action": "update"})
    assert response.status_code == status
    if status == 200:
        assert "something" in response.content.decode()


@pytest.mark.django_db
def test_refused_access_is_audited(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    client.get(reverse("audit:list"))
    assert AuditEvent.objects.filter(action="access_denied", actor_name="teacher").exists()
