import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry

PASSWORD = "a long test passphrase"


@pytest.mark.django_db
def test_login_is_audited_and_lands_home(ministry: MiniMinistry) -> None:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "teacher", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert AuditEvent.objects.filter(action="login", actor_name="teacher").exists()


@pytest.mark.django_db
def test_failed_login_is_audited(ministry: MiniMinistry) -> None:
    Client().post(reverse("accounts:login"), {"username": "teacher", "password": "wrong one"})
    event = AuditEvent.objects.get(action="login_failed")
    assert event.object_repr == "teacher"
    assert event.actor is None


@pytest.mark.django_db
def test_repeated_failures_lock_the_account(ministry: MiniMinistry, settings) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": "teacher", "password": "nope nope"})
    locked = client.post(reverse("accounts:login"), {"username": "teacher", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()


@pytest.mark.django_db
def test_long_passphrase_is_accepted(ministry: MiniMinistry) -> None:
    user = ministry.users["teacher"]
    passphrase = "correct horse battery staple " * 8
    user.set_password(passphrase)
    user.save()
    response = Client().post(
        reverse("accounts:login"), {"username": "teacher", "password": passphrase}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_second_factor_required_for_elevated_grants(ministry: MiniMinistry, settings) -> None:
    settings.EDUCAP_REQUIRE_2FA = True
    central = Client()
    central.force_login(ministry.users["central"])
    response = central.get(reverse("people:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:security"))
    api = central.get("/api/v1/people/")
    assert api.status_code == 403
    assert api.json()["code"] == "second_factor_required"

    # Staff and supervisors are not forced.
    teacher = Client()
    teacher.force_login(ministry.users["teacher"])
    assert teacher.get(reverse("core:home")).status_code == 200


@pytest.mark.django_db
def test_totp_setup_then_verify_unlocks_pages(ministry: MiniMinistry, settings) -> None:
    settings.EDUCAP_REQUIRE_2FA = True
    client = Client()
    client.force_login(ministry.users["central"])
    setup = client.get(reverse("accounts:security"), {"setup": "1"})
    assert setup.status_code == 200
    assert "data:image/svg+xml" in setup.content.decode()
    device = TOTPDevice.objects.get(user=ministry.users["central"])

    wrong = client.post(reverse("accounts:security"), {"token": "000000", "next": "/people/"})
    assert "not right" in wrong.content.decode()

    token = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    done = client.post(reverse("accounts:security"), {"token": token, "next": "/people/"})
    assert done.status_code == 302
    assert done["Location"] == "/people/"
    assert client.get(reverse("people:list")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


@pytest.mark.django_db
def test_security_next_refuses_other_hosts(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    page = client.get(reverse("accounts:security"), {"next": "https://evil.example/"})
    html = page.content.decode()
    assert 'href="?setup=1&amp;next=/"' in html
    assert "setup=1&amp;next=https" not in html


@pytest.mark.django_db
def test_language_preference_applies_at_login(ministry: MiniMinistry) -> None:
    user = ministry.users["teacher"]
    user.language = "ar"
    user.save()
    client = Client()
    client.post(reverse("accounts:login"), {"username": "teacher", "password": PASSWORD})
    html = client.get(reverse("core:home")).content.decode()
    assert 'dir="rtl"' in html
    assert 'lang="ar"' in html
