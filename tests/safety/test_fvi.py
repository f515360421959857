"""Setting an FVI (at once, on every case) and removing one (second person, fresh
code, waiting period, cancellable, never automatic)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from cases.models import CaseEvent, ParticipantRole
from safety import gate, notices
from safety.models import FamilyViolenceIndicator, FviRemovalRequest, SafetyReview
from safety.services import fvi_removals_apply
from tests.conftest import password_only_client, totp_code, verified_client
from tests.factories import ParticipantFactory, UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(supervisor, caseworker):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return unit


@pytest.fixture
def case(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    SafetyReview.objects.create(case=case, outcome="concerns", reviewed_by=caseworker)
    return case


def _survivor(case):
    return case.participants.get(role="custodial_parent").person


def _set(client, case, reason="dv_disclosed"):
    url = reverse("safety:fvi_set", args=[case.pk, _survivor(case).pk])
    return client.post(url, {"reason": reason, "note": "Statement at intake."})


def test_a_flag_takes_effect_at_once_on_every_case(caseworker, unit, case):
    other_case = full_case(caseworker=caseworker, unit=unit, ssn="900-66-0001")
    SafetyReview.objects.create(case=other_case, outcome="no_concerns", reviewed_by=caseworker)
    ParticipantFactory(
        case=other_case, person=_survivor(case), role=ParticipantRole.CUSTODIAL_PARENT
    )
    assert gate.decide(other_case.pk, "income_withholding").reasons == ()

    client = verified_client(caseworker)
    bad = client.post(reverse("safety:fvi_set", args=[case.pk, _survivor(case).pk]), {})
    assert "Choose the reason for the flag." in bad.content.decode()
    assert not FamilyViolenceIndicator.objects.exists()

    assert _set(client, case).status_code == 302
    fvi = FamilyViolenceIndicator.objects.get()
    assert fvi.set_by == caseworker and fvi.removed_at is None
    for c in (case, other_case):
        assert gate.decide(c.pk, "income_withholding").reasons == ("fvi",)
        assert CaseEvent.objects.filter(case=c, kind="fvi_set").exists()
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="fvi-banner"' in page and "Domestic violence disclosed" in page


def test_removal_needs_a_second_person_a_fresh_code_and_the_waiting_period(
    caseworker, supervisor, case, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then the right one at once
    worker = verified_client(caseworker)
    _set(worker, case)
    fvi = FamilyViolenceIndicator.objects.get()
    request_url = reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk])
    assert "Give the reason" in worker.post(request_url, {"reason": " "}).content.decode()
    assert worker.post(request_url, {"reason": "Survivor asked; order expired."}).status_code == 302
    removal = FviRemovalRequest.objects.get()
    again = worker.post(request_url, {"reason": "twice"})
    assert "already open" in again.content.decode()

    approve_url = reverse("safety:fvi_removal_approve", args=[case.pk, removal.pk])
    # A caseworker cannot approve at all (404, like any page not theirs).
    assert worker.get(approve_url).status_code == 404
    boss = verified_client(supervisor)
    device = TOTPDevice.objects.get(user=supervisor)
    good = totp_code(device)
    wrong = boss.post(approve_url, {"code": "000000" if good != "000000" else "111111"})
    assert "That code is not valid" in wrong.content.decode()
    assert FviRemovalRequest.objects.get().approved_at is None

    assert boss.post(approve_url, {"code": good}).status_code == 302
    removal.refresh_from_db()
    assert removal.approved_by == supervisor
    wait = settings.FVI_REMOVAL_WAIT_DAYS
    assert removal.effective_at - removal.approved_at == dt.timedelta(days=wait)
    # Still on during the waiting period: nothing has changed for the gate.
    assert gate.decide(case.pk, "license_suspension").reasons == ("fvi",)
    assert fvi_removals_apply(now=timezone.now() + dt.timedelta(days=wait - 1)) == 0
    assert FamilyViolenceIndicator.objects.get().removed_at is None

    # She is told, through the pipeline (tests/safety/test_protected_person_notice.py
    # delivers it); until her notice is sent, the flag stays on even after the wait.
    notice = removal.notice
    assert (notice.recipient, notice.recipient_person_id) == ("protected_person", fvi.person_id)
    assert fvi_removals_apply(now=timezone.now() + dt.timedelta(days=wait, minutes=1)) == 0
    notices.gate_pending([notice.pk])
    assert notices.mark_sent(notice.pk)
    assert fvi_removals_apply(now=timezone.now() + dt.timedelta(days=wait, minutes=1)) == 1
    assert fvi_removals_apply(now=timezone.now() + dt.timedelta(days=wait + 2)) == 0  # once
    assert FamilyViolenceIndicator.objects.get().removed_at is not None
    assert gate.decide(case.pk, "license_suspension").reasons == ()
    assert CaseEvent.objects.filter(case=case, kind="fvi_removed").exists()


def test_a_supervisor_cannot_approve_their_own_request(supervisor, case):
    boss = verified_client(supervisor)
    _set(boss, case)
    fvi = FamilyViolenceIndicator.objects.get()
    boss.post(reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk]), {"reason": "r"})
    removal = FviRemovalRequest.objects.get()
    code = totp_code(TOTPDevice.objects.get(user=supervisor))
    response = boss.post(
        reverse("safety:fvi_removal_approve", args=[case.pk, removal.pk]), {"code": code}
    )
    assert "cannot approve it" in response.content.decode()
    assert FviRemovalRequest.objects.get().approved_at is None


def test_a_removal_can_be_cancelled_during_the_wait_and_nothing_expires_a_flag(
    caseworker, supervisor, case, settings
):
    worker = verified_client(caseworker)
    _set(worker, case)
    fvi = FamilyViolenceIndicator.objects.get()
    worker.post(reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk]), {"reason": "r"})
    removal = FviRemovalRequest.objects.get()
    code = totp_code(TOTPDevice.objects.get(user=supervisor))
    verified_client(supervisor).post(
        reverse("safety:fvi_removal_approve", args=[case.pk, removal.pk]), {"code": code}
    )
    cancel_url = reverse("safety:fvi_removal_cancel", args=[case.pk, removal.pk])
    assert worker.get(cancel_url).status_code == 405
    assert worker.post(cancel_url).status_code == 302
    assert fvi_removals_apply(now=timezone.now() + dt.timedelta(days=3650)) == 0
    assert FamilyViolenceIndicator.objects.get().removed_at is None
    assert gate.decide(case.pk, "lien").reasons == ("fvi",)


OUTSIDERS = [roles.CASEWORKER, roles.SUPERVISOR, roles.ADMINISTRATOR, roles.AUDITOR]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_fvi_pages_are_404_outside_the_case_team(role, caseworker, case):
    worker = verified_client(caseworker)
    _set(worker, case)
    fvi = FamilyViolenceIndicator.objects.get()
    worker.post(reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk]), {"reason": "r"})
    removal = FviRemovalRequest.objects.get()
    outsider = UserFactory(username=f"fvi-out-{role}", role=role, is_staff=role == "administrator")
    if role == roles.SUPERVISOR:
        UnitFactory(supervisor=outsider)
    client = verified_client(outsider)
    urls = [
        reverse("safety:fvi_set", args=[case.pk, _survivor(case).pk]),
        reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk]),
        reverse("safety:fvi_removal_approve", args=[case.pk, removal.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "dv_disclosed", "code": "123456"}).status_code == 404
    cancel = reverse("safety:fvi_removal_cancel", args=[case.pk, removal.pk])
    assert client.post(cancel).status_code == 404
    assert FviRemovalRequest.objects.get().cancelled_at is None
    assert FamilyViolenceIndicator.objects.count() == 1


def test_fvi_pages_redirect_anonymous_and_unverified_and_enforce_csrf(caseworker, case):
    url = reverse("safety:fvi_set", args=[case.pk, _survivor(case).pk])
    assert Client().get(url)["Location"].startswith("/accounts/sign-in/")
    assert (
        password_only_client(caseworker).get(url)["Location"].startswith("/accounts/sign-in/code/")
    )
    strict = verified_client(caseworker, Client(enforce_csrf_checks=True))
    assert strict.post(url, {"reason": "dv_disclosed"}).status_code == 403
    assert verified_client(caseworker).put(url).status_code == 405
    assert not FamilyViolenceIndicator.objects.exists()


def test_a_flag_on_a_person_of_another_case_is_404_here(caseworker, unit, case):
    other = full_case(caseworker=caseworker, unit=unit, ssn="900-66-0002")
    worker = verified_client(caseworker)
    _set(worker, other)
    fvi = FamilyViolenceIndicator.objects.get()
    url = reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk])
    assert worker.post(url, {"reason": "r"}).status_code == 404
    assert not FviRemovalRequest.objects.exists()


def test_a_flag_reaches_every_record_with_the_same_ssn(caseworker, unit, case):
    """Intake never links records; the flag must still protect her everywhere."""
    earlier = full_case(caseworker=caseworker, unit=unit)  # same SSN, separate record
    SafetyReview.objects.create(case=earlier, outcome="no_concerns", reviewed_by=caseworker)
    assert gate.decide(earlier.pk, "income_withholding").reasons == ()
    _set(verified_client(caseworker), case)
    assert FamilyViolenceIndicator.objects.count() == 2
    assert gate.decide(earlier.pk, "income_withholding").reasons == ("fvi",)


def test_wrong_approval_codes_are_throttled(caseworker, supervisor, case):
    worker = verified_client(caseworker)
    _set(worker, case)
    fvi = FamilyViolenceIndicator.objects.get()
    worker.post(reverse("safety:fvi_removal_request", args=[case.pk, fvi.pk]), {"reason": "r"})
    url = reverse("safety:fvi_removal_approve", args=[case.pk, FviRemovalRequest.objects.get().pk])
    boss = verified_client(supervisor)
    good = totp_code(TOTPDevice.objects.get(user=supervisor))
    for _ in range(3):
        boss.post(url, {"code": "000000" if good != "000000" else "111111"})
    # The failures were kept (not rolled back with the refused approval): the
    # device is throttled, so guessing is slowed down.
    assert TOTPDevice.objects.get(user=supervisor).throttling_failure_count >= 1
    assert FviRemovalRequest.objects.get().approved_at is None
