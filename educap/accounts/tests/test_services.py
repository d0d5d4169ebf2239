import pytest
from django.core.exceptions import PermissionDenied

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.accounts.services import grant_add, grant_revoke, user_create
from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry


@pytest.mark.django_db
def test_admin_grants_and_revokes_with_audit(ministry: MiniMinistry) -> None:
    admin = ministry.users["admin"]
    user = user_create(actor=admin, username="newbie", password="a long enough passphrase")
    grant = grant_add(
        actor=admin, user=user, kind=GrantKind.UNIT_MANAGER, unit=ministry.units["G2"]
    )
    assert scope_for(user).subtree_paths == (ministry.units["G2"].path,)
    grant_revoke(actor=admin, grant=grant)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["create", "grant", "revoke"]


@pytest.mark.django_db
def test_district_manager_cannot_grant_elevated_access(ministry: MiniMinistry) -> None:
    dist = ministry.users["dist"]
    target = ministry.users["teacher"]
    with pytest.raises(PermissionDenied):
        grant_add(actor=dist, user=target, kind=GrantKind.UNIT_MANAGER, unit=ministry.units["G1D1"])
    with pytest.raises(PermissionDenied):
        grant_add(actor=dist, user=target, kind=GrantKind.SUPERVISOR, unit=ministry.units["G2D1"])
    grant = grant_add(
        actor=dist, user=target, kind=GrantKind.SUPERVISOR, unit=ministry.units["G1D1S1"]
    )
    assert grant.pk


@pytest.mark.django_db
def test_nested_subtrees_collapse(ministry: MiniMinistry) -> None:
    user = ministry.users["gov1"]
    grant_add(actor=None, user=user, kind=GrantKind.UNIT_MANAGER, unit=ministry.units["G1D1"])
    user = type(user).objects.get(pk=user.pk)
    assert scope_for(user).subtree_paths == (ministry.units["G1"].path,)


@pytest.mark.django_db
def test_expired_grant_gives_nothing(ministry: MiniMinistry) -> None:
    import datetime as dt

    user = ministry.users["gov1"]
    user.grants.update(ends_on=dt.date(2000, 1, 1))
    user = type(user).objects.get(pk=user.pk)
    assert scope_for(user).subtree_paths == ()
