"""Sign-in through the real pages: password, then the one-time code (or enrolment)."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles, services
from tests.conftest import totp_code
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
OTP = reverse("accounts:otp")
ENROL = reverse("accounts:enrol")
HOME = reverse("home")
CASELOAD = reverse("cases:caseload")
WRONG = "The username or password is not correct."


@pytest.fixture
def worker():
    return UserFactory(username="cw-sign-in", role=roles.CASEWORKER)


@pytest.fixture(autouse=True)
def _no_device_throttle(settings):
    # django-otp doubles a wait after each wrong code; these tests step through
    # several codes within a second. Its throttle has its own test below.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _password(client: Client, username: str, password: str = TEST_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def _session_user(client: Client):
    return client.session.get("_auth_user_id")


def test_sign_in_page_renders_form_with_labels_and_banner():
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert '<label class="usa-label" for="id_username"' in html
    assert "authorized" in html.lower()  # the system-use notice
    assert response["Cache-Control"].startswith("no-store")


def test_wrong_password_and_unknown_username_get_identical_answers(worker):
    wrong_password = _password(Client(), worker.username, "not-the-password-1")
    unknown = _password(Client(), "no-such-user", "not-the-password-1")
    inactive_user = UserFactory(username="cw-inactive", role=roles.CASEWORKER, is_active=False)
    inactive = _password(Client(), inactive_user.username)
    for response in (wrong_password, unknown, inactive):
        assert response.status_code == 200
        assert WRONG in response.content.decode()
        assert "_auth_user_id" not in response.wsgi_request.session

    # Nothing distinguishes them but the echoed username and the CSRF token.
    def normalised(response, username):
        html = response.content.decode().replace(username, "USER")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert normalised(wrong_password, worker.username) == normalised(unknown, "no-such-user")


def test_blank_fields_get_messages_at_each_field():
    response = Client().post(LOGIN, {"username": "", "password": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter your username." in html
    assert "Enter your password." in html
    # USWDS error markup, tied to the input for screen readers.
    assert "usa-form-group--error" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_username-error' in html


def test_password_then_code_signs_in_with_a_new_session_id_each_step(worker):
    client = Client()
    client.get(LOGIN)
    anonymous_key = client.session.session_key

    response = _password(client, worker.username)
    assert response.status_code == 302
    assert response["Location"] == OTP
    password_key = client.session.session_key
    assert password_key != anonymous_key
    assert _session_user(client) == str(worker.pk)

    # A password alone reaches nothing: the home page sends it to the code page.
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(OTP)

    device = TOTPDevice.objects.get(user=worker)
    response = client.post(OTP, {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.session.session_key != password_key
    assert not Session.objects.filter(session_key=password_key).exists()

    response = client.get(HOME)
    assert response.status_code == 200
    assert "Welcome, Test" in response.content.decode()


def test_code_copied_with_a_space_is_accepted(worker):
    client = Client()
    _password(client, worker.username)
    code = totp_code(TOTPDevice.objects.get(user=worker))
    response = client.post(OTP, {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_next_survives_both_steps_but_never_leaves_the_site(worker):
    client = Client()
    response = client.get(CASELOAD)
    assert response["Location"] == f"{LOGIN}?next=%2Fcases%2F"
    response = _password(client, worker.username, next=CASELOAD)
    assert response["Location"] == f"{OTP}?next=%2Fcases%2F"
    device = TOTPDevice.objects.get(user=worker)
    response = client.post(f"{OTP}?next=%2Fcases%2F", {"code": totp_code(device), "next": CASELOAD})
    assert response["Location"] == CASELOAD

    other = Client()
    _password(other, worker.username, next="https://evil.example/steal")
    response = other.post(
        OTP, {"code": totp_code(device, steps_ahead=1), "next": "https://evil.example/"}
    )
    assert response["Location"] == HOME


def test_wrong_code_is_refused_with_a_message_at_the_field(worker):
    client = Client()
    _password(client, worker.username)
    device = TOTPDevice.objects.get(user=worker)
    good = totp_code(device)
    bad = "000000" if good != "000000" else "111111"
    response = client.post(OTP, {"code": bad})
    assert response.status_code == 200
    html = response.content.decode()
    assert "That code is not valid or has already been used." in html
    assert 'id="id_code-error' in html
    assert client.get(HOME).status_code == 302

    for junk in ("", "12345", "abcdef", "1234567", "<script>"):
        response = client.post(OTP, {"code": junk})
        assert response.status_code == 200
        assert "usa-error-message" in response.content.decode()


def test_a_used_code_cannot_be_replayed(worker):
    device = TOTPDevice.objects.get(user=worker)
    code = totp_code(device)
    first = Client()
    _password(first, worker.username)
    assert first.post(OTP, {"code": code}).status_code == 302

    second = Client()
    _password(second, worker.username)
    response = second.post(OTP, {"code": code})
    assert response.status_code == 200
    assert "already been used" in response.content.decode()
    assert second.get(HOME).status_code == 302


def test_too_many_wrong_codes_end_the_session(worker, settings):
    client = Client()
    _password(client, worker.username)
    password_key = client.session.session_key
    device = TOTPDevice.objects.get(user=worker)
    good = totp_code(device)
    bad = "000000" if good != "000000" else "111111"
    for _ in range(settings.OTP_FAILURE_LIMIT - 1):
        assert client.post(OTP, {"code": bad}).status_code == 200
    response = client.post(OTP, {"code": bad})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert not Session.objects.filter(session_key=password_key).exists()
    page = client.get(LOGIN).content.decode()
    assert "Too many incorrect codes" in page
    # Even the right code is no use now: the password is needed again.
    response = client.post(OTP, {"code": good})
    assert response["Location"].startswith(LOGIN)


def test_device_throttle_refuses_a_correct_code_straight_after_a_wrong_one(worker, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10
    client = Client()
    _password(client, worker.username)
    device = TOTPDevice.objects.get(user=worker)
    good = totp_code(device)
    bad = "000000" if good != "000000" else "111111"
    client.post(OTP, {"code": bad})
    response = client.post(OTP, {"code": good})
    assert response.status_code == 200
    assert "Wait a minute" in response.content.decode()


def test_first_sign_in_without_a_device_enrols_one():
    newcomer = UserFactory(username="cw-new", role=roles.CASEWORKER, device=False)
    client = Client()
    response = _password(client, newcomer.username)
    assert response["Location"] == OTP
    response = client.get(OTP)
    assert response.status_code == 302
    assert response["Location"] == ENROL

    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    assert page.context["secret_groups"][0] in html

    # Reloading the page keeps the same pending key (the phone already has it).
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1

    good = totp_code(device)
    bad = "000000" if good != "000000" else "111111"
    response = client.post(ENROL, {"code": bad})
    assert response.status_code == 200
    assert "does not match the setup key" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    response = client.post(ENROL, {"code": good})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Two-step sign-in is set up" in home.content.decode()


def test_a_user_with_a_device_cannot_enrol_another(worker):
    """A stolen password must not let someone swap in their own authenticator."""
    client = Client()
    _password(client, worker.username)
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"] == OTP
    assert TOTPDevice.objects.filter(user=worker).count() == 1
    response = client.post(ENROL, {"code": "123456"})
    assert response["Location"] == OTP
    assert TOTPDevice.objects.filter(user=worker).count() == 1


def test_sign_out_deletes_the_server_side_session(worker):
    client = Client()
    _password(client, worker.username)
    client.post(OTP, {"code": totp_code(TOTPDevice.objects.get(user=worker))})
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(HOME)["Location"].startswith(LOGIN)
    assert "You have signed out." in client.get(LOGIN).content.decode()


def test_a_verified_user_visiting_sign_in_goes_home(worker):
    client = Client()
    _password(client, worker.username)
    client.post(OTP, {"code": totp_code(TOTPDevice.objects.get(user=worker))})
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_a_key_seen_in_another_session_is_never_the_one_confirmed():
    """Whoever knew the first password and opened set-up must not keep a copy of
    the key the owner ends up using."""
    newcomer = UserFactory(username="cw-fresh", role=roles.CASEWORKER, device=False)
    intruder, owner = Client(), Client()
    _password(intruder, newcomer.username)
    seen = intruder.get(ENROL).context["secret_groups"]
    intruder_device = TOTPDevice.objects.get(user=newcomer, confirmed=False)

    _password(owner, newcomer.username)
    shown = owner.get(ENROL).context["secret_groups"]
    assert shown != seen
    assert not TOTPDevice.objects.filter(pk=intruder_device.pk).exists()

    # The intruder's copied key no longer works, and their session is told to start over.
    response = intruder.post(ENROL, {"code": totp_code(intruder_device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()

    owner_device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    response = owner.post(ENROL, {"code": totp_code(owner_device)})
    # The intruder's retry above restarted set-up again, so the owner is shown a
    # new key too, never asked to confirm one someone else has seen.
    if response.status_code == 302 and response["Location"].startswith(ENROL):
        owner_device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
        response = owner.post(ENROL, {"code": totp_code(owner_device)})
    assert response.status_code == 302
    confirmed = TOTPDevice.objects.get(user=newcomer, confirmed=True)
    assert services.totp_secret_base32(confirmed) not in "".join(seen)


def test_a_code_posted_to_set_up_before_seeing_a_key_is_not_checked():
    newcomer = UserFactory(username="cw-blind", role=roles.CASEWORKER, device=False)
    client = Client()
    _password(client, newcomer.username)
    response = client.post(ENROL, {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == ENROL
    assert "Setup was restarted" in client.get(ENROL).content.decode()
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
