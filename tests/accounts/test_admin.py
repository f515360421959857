"""The Django admin for administrators: staff accounts and roles, lost
authenticators and lockouts; never a device's secret, never superuser powers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles, services
from accounts.models import AuditEvent
from tests.conftest import verified_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    return verified_client(admin_user)


def test_administrator_manages_staff_accounts(admin_client, caseworker):
    assert admin_client.get("/admin/").status_code == 200
    listing = admin_client.get("/admin/accounts/user/")
    assert listing.status_code == 200
    assert caseworker.username in listing.content.decode()
    page = admin_client.get(f"/admin/accounts/user/{caseworker.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="is_superuser"' not in html
    assert 'name="user_permissions"' not in html
    # Only the four roles are offered.
    offered = page.context["adminform"].form.fields["groups"].queryset
    assert set(offered.values_list("name", flat=True)) == set(roles.ALL_ROLES)


def test_administrator_can_give_a_role(admin_client, no_role_user):
    page = admin_client.get(f"/admin/accounts/user/{no_role_user.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "groups"}
    data.update(
        username=no_role_user.username,
        is_active="on",
        groups=[Group.objects.get(name=roles.SUPERVISOR).pk],
        date_joined_0=no_role_user.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=no_role_user.date_joined.strftime("%H:%M:%S"),
    )
    data.pop("password", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = admin_client.post(f"/admin/accounts/user/{no_role_user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    no_role_user.refresh_from_db()
    assert no_role_user.has_role(roles.SUPERVISOR)
    # Recorded in the audit trail, with ids and role codes only.
    record = AuditEvent.objects.get(kind="staff_access_changed")
    assert record.actor.has_role(roles.ADMINISTRATOR)
    assert record.detail == {
        "staff": no_role_user.pk,
        "roles_added": [roles.SUPERVISOR],
        "roles_removed": [],
    }


def test_administrator_cannot_change_their_own_access(admin_client, admin_user):
    page = admin_client.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    form_fields = page.context["adminform"].form.fields
    for name in ("is_active", "is_staff", "groups"):
        assert name not in form_fields


def test_accounts_are_never_deleted_from_the_admin(admin_client, caseworker):
    response = admin_client.post(f"/admin/accounts/user/{caseworker.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404  # a refusal, as everywhere
    assert type(caseworker).objects.filter(pk=caseworker.pk).exists()


def test_a_device_key_is_never_shown_but_a_lost_device_can_be_removed(admin_client, caseworker):
    device = TOTPDevice.objects.get(user=caseworker)
    secret = services.totp_secret_base32(device)
    listing = admin_client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert device.key not in html and secret not in html
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 404
    response = admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_administrator_can_clear_a_lockout(admin_client):
    assert admin_client.get("/admin/axes/accessattempt/").status_code == 200


def test_createsuperuser_style_account_without_a_role_reaches_nothing():
    boss = UserFactory(username="root-like", is_staff=True, is_superuser=True)
    client = verified_client(boss)
    assert client.get("/").status_code == 404
    assert client.get("/admin/").status_code == 404


def test_administrators_keep_offices_and_units_but_cannot_read_cases(admin_client):
    from tests.factories import full_case

    case = full_case(address="77 Canary Court")
    assert admin_client.get("/admin/cases/office/").status_code == 200
    assert admin_client.get("/admin/cases/unit/add/").status_code == 200
    for url in (
        "/admin/cases/case/",
        "/admin/cases/person/",
        "/admin/cases/contactpoint/",
        f"/admin/cases/case/{case.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 404, url


def test_case_admin_pages_never_show_protected_values(admin_user):
    """Even an account given every view permission sees no decrypted value."""
    from django.contrib.auth.models import Permission

    from tests.factories import full_case

    case = full_case(address="77 Canary Court")
    admin_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="cases"))
    client = verified_client(type(admin_user).objects.get(pk=admin_user.pk))
    point = case.participants.get(role="custodial_parent").person.contact_points.get()
    for url in (
        "/admin/cases/contactpoint/",
        f"/admin/cases/contactpoint/{point.pk}/change/",
        "/admin/cases/person/",
        f"/admin/cases/person/{point.person_id}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Canary" not in html and "900-55-1234" not in html and "sa1." not in html
