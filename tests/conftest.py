"""Personas and clients for every test.

Personas: caseworker, supervisor, admin, auditor, outsider (a member of staff
with no access to the view under test), unverified (password only, no TOTP).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from tests.factories import UserFactory


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show now (or ``steps_ahead`` steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def verified_client(user, client: Client | None = None) -> Client:
    """A client whose session has passed password and TOTP (as django_otp.login does)."""
    client = client or Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # As after a real sign-in's first page: the session's clock has started.
    session[SESSION_STARTED] = session[SESSION_LAST_SEEN] = time.time()
    session.save()
    return client


def password_only_client(user, client: Client | None = None) -> Client:
    client = client or Client()
    client.force_login(user)
    return client


@pytest.fixture
def caseworker(db):
    return UserFactory(username="cw-test", role=roles.CASEWORKER)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sup-test", role=roles.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin-test", role=roles.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def auditor(db):
    return UserFactory(username="aud-test", role=roles.AUDITOR)


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="norole-test")


@pytest.fixture
def caseworker_client(caseworker):
    return verified_client(caseworker)


@pytest.fixture
def unverified_client(caseworker):
    return password_only_client(caseworker)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty (test-only) Redis cache."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def outbox(tmp_path, settings):
    """A private outbox folder for the notices a test delivers."""
    settings.NOTICE_OUTBOX_DIR = tmp_path / "outbox"
    return settings.NOTICE_OUTBOX_DIR
