"""Supervisors see the held notices of their units and can cancel one for good."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from cases.models import Notice
from safety import notices
from safety.models import NoticeDecision
from tests.conftest import password_only_client, totp_code, verified_client
from tests.factories import UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db
LIST = reverse("safety:held_notices")


@pytest.fixture
def held(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    case = full_case(caseworker=caseworker, unit=unit)  # never screened: held
    notice = Notice.objects.create(
        case=case,
        remedy="lien",
        notice_type="lien_notice",
        recipient="other_parent",
        due_on="2026-01-01",
    )
    notices.gate_pending()
    notice.refresh_from_db()
    assert notice.status == "held"
    return notice


def test_the_unit_supervisor_sees_and_cancels_a_held_notice(supervisor, held):
    client = verified_client(supervisor)
    page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200 and held.case.number in html
    assert "No safety review recorded" in html and "Lien" in html
    assert client.get(LIST, {"reason": "fvi"}).context["notices"].__len__() == 0
    assert reverse("safety:notice_review", args=[held.pk]) in html
    url = reverse("safety:notice_cancel", args=[held.pk])
    device = TOTPDevice.objects.get(user=supervisor)
    answers = {
        "cancel-reason": "Survivor closed the case.",
        "cancel-confirm": "on",
        "cancel-code": totp_code(device),
    }
    blank = client.post(url, {**answers, "cancel-reason": "  "})
    assert blank.status_code == 200 and "Give the reason" in blank.content.decode()
    unconfirmed = client.post(url, {**answers, "cancel-confirm": ""})
    assert "Confirm that you want to cancel" in unconfirmed.content.decode()
    no_code = client.post(url, {**answers, "cancel-code": ""})
    assert "Enter the 6-digit code" in no_code.content.decode()
    assert Notice.objects.get(pk=held.pk).status == "held"
    done = client.post(url, answers)
    assert done.status_code == 302
    assert Notice.objects.get(pk=held.pk).status == "cancelled"
    assert NoticeDecision.objects.get(notice=held).action == "cancel"
    assert notices.mark_sent(held.pk) is False
    # A cancelled notice cannot be cancelled, kept or released again.
    again = client.post(url, {**answers, "cancel-code": totp_code(device, 1)})
    assert "no longer held" in again.content.decode()


ACTIONS = ["notice_keep", "notice_cancel", "notice_release"]
ANSWERS = {
    "keep-reason": "x",
    "cancel-reason": "x",
    "cancel-confirm": "on",
    "cancel-code": "123456",
    "release-reason": "x",
    "release-confirm": "on",
    "release-code": "123456",
}


@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.SUPERVISOR, roles.AUDITOR, roles.ADMINISTRATOR]
)
def test_others_see_nothing_and_cannot_decide(role, held):
    other = UserFactory(username=f"hn-{role}", role=role, is_staff=role == roles.ADMINISTRATOR)
    client = verified_client(other)
    page = client.get(LIST)
    if role == roles.SUPERVISOR:
        assert page.status_code == 200 and held.case.number not in page.content.decode()
    else:
        assert page.status_code == 404
    assert client.get(reverse("safety:notice_review", args=[held.pk])).status_code == 404
    for action in ACTIONS:
        response = client.post(reverse(f"safety:{action}", args=[held.pk]), ANSWERS)
        assert response.status_code == 404, action
    assert Notice.objects.get(pk=held.pk).status == "held"
    assert not NoticeDecision.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_decisions_are_post_only_and_csrf_protected(supervisor, held, action):
    url = reverse(f"safety:{action}", args=[held.pk])
    assert verified_client(supervisor).get(url).status_code == 405
    strict = verified_client(supervisor, Client(enforce_csrf_checks=True))
    assert strict.post(url, ANSWERS).status_code == 403
    assert Notice.objects.get(pk=held.pk).status == "held"


@pytest.mark.parametrize("action", ["notice_review", *ACTIONS])
def test_anonymous_and_password_only_sessions_reach_no_decision(supervisor, held, action):
    url = reverse(f"safety:{action}", args=[held.pk])
    method = "get" if action == "notice_review" else "post"
    anonymous = getattr(Client(), method)(url, ANSWERS if method == "post" else None)
    assert anonymous.status_code == 302 and "/accounts/sign-in/" in anonymous["Location"]
    unverified = getattr(password_only_client(supervisor), method)(
        url, ANSWERS if method == "post" else None
    )
    assert unverified.status_code == 302
    assert unverified["Location"].startswith("/accounts/sign-in/code/")
    assert Notice.objects.get(pk=held.pk).status == "held"
