"""xAPI set-up for administrators: services, pages and the management command."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry
from educap.training.lrs.store import statements_store
from educap.training.models import XapiActivity, XapiClient, XapiStatement
from educap.training.services.xapi import (
    xapi_activity_map,
    xapi_activity_unmap,
    xapi_client_create,
    xapi_client_deactivate,
)
from educap.training.tests.factories import make_course

pytestmark = pytest.mark.django_db

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def store(client: XapiClient, n: int = 1, verb: str = COMPLETED) -> list[str]:
    statements = [
        {
            "actor": {"name": f"Learner {i}", "mbox": f"mailto:l{i}@example.org"},
            "verb": {"id": verb},
            "object": {"id": f"http://example.org/activities/{i}"},
        }
        for i in range(n)
    ]
    return statements_store(client=client, statements=statements, home_page="http://testserver/")


# Services -------------------------------------------------------------------------------


def test_client_create_keeps_only_the_hash_and_audits(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    client, secret = xapi_client_create(actor=admin, name=" Ministry Moodle ")
    assert client.name == "Ministry Moodle"
    assert client.key.startswith("xapi-")
    assert secret not in client.secret_hash
    assert check_password(secret, client.secret_hash)
    event = AuditEvent.objects.get(object_type="training.xapiclient", action="create")
    assert event.actor == admin
    assert secret not in str(event.after)


def test_only_system_administrators_manage_xapi(ministry: MiniMinistry) -> None:
    course = make_course()
    for username in ("central", "dist", "teacher"):
        with pytest.raises(PermissionDenied):
            xapi_client_create(actor=ministry.users[username], name="X")
        with pytest.raises(PermissionDenied):
            xapi_activity_map(
                actor=ministry.users[username], activity_id="http://x.org/a", course=course
            )


def test_deactivate_and_mappings(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    client, _secret = xapi_client_create(actor=admin, name="Kolibri")
    xapi_client_deactivate(actor=admin, client=client)
    client.refresh_from_db()
    assert not client.is_active
    course = make_course()
    activity = xapi_activity_map(actor=admin, activity_id="urn:kolibri:course:42", course=course)
    with pytest.raises(ValidationError) as exc:
        xapi_activity_map(actor=admin, activity_id="urn:kolibri:course:42", course=course)
    assert "already mapped" in str(exc.value)
    with pytest.raises(ValidationError):
        xapi_activity_map(actor=admin, activity_id="not an iri", course=course)
    xapi_activity_unmap(actor=admin, activity=activity)
    assert not XapiActivity.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type="training.xapiactivity").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["create", "delete"]


# Pages ----------------------------------------------------------------------------------


PAGES = [
    "training:xapi_client_list",
    "training:xapi_client_create",
    "training:xapi_activity_list",
    "training:xapi_statement_list",
]


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_for_system_administrators(ministry: MiniMinistry, name: str) -> None:
    assert client_for(ministry, "admin").get(reverse(name)).status_code == 200
    assert client_for(ministry, "central").get(reverse(name)).status_code == 403
    anonymous = Client().get(reverse(name))
    assert anonymous.status_code == 302
    assert "/accounts/" in anonymous["Location"]


def test_create_page_shows_the_secret_once(ministry: MiniMinistry) -> None:
    http = client_for(ministry, "admin")
    response = http.post(reverse("training:xapi_client_create"), {"name": "Ministry Moodle"})
    assert response.status_code == 200
    client = XapiClient.objects.get(name="Ministry Moodle")
    secret = response.context["secret"]
    html = response.content.decode()
    assert client.key in html
    assert secret in html
    assert "http://testserver/xapi/" in html
    assert check_password(secret, client.secret_hash)
    listing = http.get(reverse("training:xapi_client_list")).content.decode()
    assert client.key in listing
    assert secret not in listing
    invalid = http.post(reverse("training:xapi_client_create"), {"name": ""})
    assert invalid.status_code == 200
    assert "secret" not in invalid.context


def test_deactivate_from_the_list(ministry: MiniMinistry) -> None:
    client, _secret = xapi_client_create(actor=None, name="Kolibri")
    http = client_for(ministry, "admin")
    url = reverse("training:xapi_client_deactivate", args=[client.pk])
    assert http.get(url).status_code == 405
    response = http.post(url, follow=True)
    assert "can no longer send or read statements" in response.content.decode()
    client.refresh_from_db()
    assert not client.is_active
    assert client_for(ministry, "central").post(url).status_code == 403


def test_activity_mapping_pages(ministry: MiniMinistry) -> None:
    course = make_course("C-MAP")
    http = client_for(ministry, "admin")
    url = reverse("training:xapi_activity_list")
    activity = "https://moodle.example.org/course/view.php?id=12"
    response = http.post(url, {"activity_id": activity, "course": course.pk}, follow=True)
    assert "now completes C-MAP" in response.content.decode()
    mapping = XapiActivity.objects.get(activity_id=activity)
    again = http.post(url, {"activity_id": activity, "course": course.pk})
    assert "already mapped to C-MAP" in again.content.decode()
    bad = http.post(url, {"activity_id": "no scheme", "course": course.pk})
    assert "activity_id" in bad.context["form"].errors
    removed = http.post(
        reverse("training:xapi_activity_remove", args=[mapping.pk]), follow=True
    ).content.decode()
    assert "no longer stands for C-MAP" in removed
    assert not XapiActivity.objects.exists()


def test_statement_list_filters_and_detail(ministry: MiniMinistry) -> None:
    moodle, _ = xapi_client_create(actor=None, name="Moodle")
    kolibri, _ = xapi_client_create(actor=None, name="Kolibri")
    [moodle_id] = store(moodle)
    [kolibri_id] = store(kolibri, verb="http://adlnet.gov/expapi/verbs/experienced")
    XapiStatement.objects.filter(pk=moodle_id).update(outcome="cpd")
    http = client_for(ministry, "admin")
    url = reverse("training:xapi_statement_list")

    def listed(**params: Any) -> str:
        return http.get(url, params).content.decode()

    everything = listed()
    assert moodle_id in everything
    assert kolibri_id in everything
    assert kolibri_id not in listed(client=moodle.pk)
    assert moodle_id not in listed(verb="http://adlnet.gov/expapi/verbs/experienced")
    assert kolibri_id not in listed(outcome="cpd")
    assert moodle_id not in listed(outcome="none")
    assert "CPD record" in listed(outcome="cpd")
    assert "No statement matches these filters." in listed(outcome="failed")
    detail = http.get(reverse("training:xapi_statement_detail", args=[moodle_id]))
    assert detail.status_code == 200
    assert "l0@example.org" in detail.content.decode()
    missing = reverse("training:xapi_statement_detail", args=[uuid.uuid4()])
    assert http.get(missing).status_code == 404


def test_statement_list_queries_do_not_grow(
    ministry: MiniMinistry, django_assert_max_num_queries: Any
) -> None:
    client, _ = xapi_client_create(actor=None, name="Moodle")
    store(client, 2)
    http = client_for(ministry, "admin")
    url = reverse("training:xapi_statement_list")
    with django_assert_max_num_queries(20) as few:
        http.get(url)
    store(client, 40)
    XapiStatement.objects.update(person=ministry.people["g1d1_teacher"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = http.get(url).content.decode()
    assert html.count('href="/people/') >= 40


def test_pages_render_in_arabic(ministry: MiniMinistry) -> None:
    client, _ = xapi_client_create(actor=None, name="Moodle")
    store(client, 1)
    http = client_for(ministry, "admin")
    http.cookies["django_language"] = "ar"
    for name in PAGES:
        response = http.get(reverse(name))
        assert response.status_code == 200
        assert 'dir="rtl"' in response.content.decode()


# Management command -------------------------------------------------------------------


def test_command_creates_lists_and_deactivates(db: None) -> None:
    out = StringIO()
    call_command("xapi_client", "create", "Ministry Moodle", stdout=out)
    lines = out.getvalue().splitlines()
    key = next(line.split()[-1] for line in lines if line.startswith("key:"))
    secret = next(line.split()[-1] for line in lines if line.startswith("secret:"))
    client = XapiClient.objects.get(key=key)
    assert check_password(secret, client.secret_hash)
    out = StringIO()
    call_command("xapi_client", "list", stdout=out)
    assert f"{key}\tactive" in out.getvalue()
    call_command("xapi_client", "deactivate", key, stdout=StringIO())
    client.refresh_from_db()
    assert not client.is_active
    with pytest.raises(CommandError):
        call_command("xapi_client", "deactivate", "xapi-unknown")
