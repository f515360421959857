"""A supervisor releases a held notice: a written reason, a fresh one-time code, and
the gate's override path, which covers only the reasons standing at release, only
while the case's safety state is unchanged, and never the address substitution or
the leak check. Keeping a notice is recorded too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import CaseEvent, Notice, Remedy
from safety import notices, pipeline, services
from safety.models import FamilyViolenceIndicator, NoticeDecision, SafetyReview
from tests.conftest import totp_code, verified_client
from tests.factories import ParticipantFactory, UnitFactory, full_case

CANARY = "77 Lantern Row, Quietvale"  # synthetic


@pytest.fixture
def unit(supervisor, caseworker):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return unit


def _held(caseworker, unit, *, remedy="license_suspension", flag=True, screened=True):
    """A notice held by the gate: an FVI on the custodial parent (and, if not
    screened, no safety review)."""
    case = full_case(caseworker=caseworker, unit=unit, address=CANARY)
    if screened:
        SafetyReview.objects.create(case=case, outcome="concerns", reviewed_by=caseworker)
    if flag:
        services.fvi_set(
            user=caseworker,
            person=case.participants.get(role="custodial_parent").person,
            reason="dv_disclosed",
            note="",
        )
    notice = Notice.objects.create(
        case=case,
        remedy=remedy,
        notice_type=f"{remedy}_notice",
        recipient="other_parent",
        due_on=dt.date(2026, 12, 1),
    )
    notices.gate_pending([notice.pk])
    notice.refresh_from_db()
    assert notice.status == "held"
    return notice


def _answers(supervisor, seen, **overrides):
    device = TOTPDevice.objects.get(user=supervisor)
    return {
        "release-reason": "She asked for this remedy; her plan says so.",
        "release-confirm": "on",
        "release-code": totp_code(device),
        "release-seen": ",".join(seen),
        **overrides,
    }


@pytest.mark.django_db
def test_a_release_needs_a_reason_a_confirmation_and_a_fresh_code(
    caseworker, supervisor, unit, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    held = _held(caseworker, unit)
    client = verified_client(supervisor)
    review = client.get(reverse("safety:notice_review", args=[held.pk]))
    html = review.content.decode()
    assert review.status_code == 200 and "Family violence indicator" in html
    assert 'name="release-seen"' in html and 'value="fvi"' in html
    url = reverse("safety:notice_release", args=[held.pk])
    for missing, message in (
        ({"release-reason": " "}, "Give the reason for your decision."),
        ({"release-confirm": ""}, "Confirm that you have read the reasons"),
        ({"release-code": "12ab"}, "Enter the 6-digit code, using numbers only."),
    ):
        answer = client.post(url, _answers(supervisor, ["fvi"], **missing))
        assert answer.status_code == 200 and message in answer.content.decode()
    wrong = _answers(supervisor, ["fvi"])
    wrong["release-code"] = "000000" if wrong["release-code"] != "000000" else "111111"
    refused = client.post(url, wrong)
    assert "That code is not valid" in refused.content.decode()
    assert Notice.objects.get(pk=held.pk).status == "held"
    assert not NoticeDecision.objects.exists()

    answers = _answers(supervisor, ["fvi"])
    done = client.post(url, answers)
    assert done.status_code == 302
    notice = Notice.objects.get(pk=held.pk)
    assert notice.status == "released"
    decision = NoticeDecision.objects.get(notice=notice)
    assert (decision.action, decision.gate_reasons, decision.decided_by) == (
        "release",
        ["fvi"],
        supervisor,
    )
    event = CaseEvent.objects.get(case=notice.case, kind="notice_released")
    assert event.actor == supervisor and event.detail["reasons"] == ["fvi"]
    # The code is spent: the same code cannot release another notice.
    other = _held(caseworker, unit)
    again = client.post(reverse("safety:notice_release", args=[other.pk]), answers)
    assert "That code is not valid" in again.content.decode()
    assert Notice.objects.get(pk=other.pk).status == "held"


@pytest.mark.django_db
def test_a_release_overrides_only_the_reasons_the_supervisor_saw(caseworker, supervisor, unit):
    held = _held(caseworker, unit)
    url = reverse("safety:notice_release", args=[held.pk])
    client = verified_client(supervisor)
    # The page showed only "fvi"; the case has since lost its safety review too.
    SafetyReview.objects.filter(case=held.case).delete()
    answer = client.post(url, _answers(supervisor, ["fvi"]))
    page = answer.content.decode()
    assert answer.status_code == 200 and "changed while you were reviewing" in page
    assert 'value="fvi,not_screened"' in page  # the form now carries what is shown now
    assert Notice.objects.get(pk=held.pk).status == "held"


@pytest.mark.django_db
def test_a_caseworker_cannot_release_even_through_the_service(caseworker, unit):
    held = _held(caseworker, unit)
    with pytest.raises(services.SafetyActionRefused):
        services.notice_release(
            user=caseworker, notice=held, reason="x", code="123456", seen_reasons=["fvi"]
        )
    assert Notice.objects.get(pk=held.pk).status == "held"


@pytest.mark.django_db
def test_a_notice_the_gate_cannot_place_is_never_releasable(caseworker, supervisor, unit):
    held = _held(caseworker, unit, remedy="no_such_remedy")
    assert held.hold_reasons == ["unknown_remedy", "fvi"]
    page = verified_client(supervisor).get(reverse("safety:notice_review", args=[held.pk]))
    assert page.status_code == 200 and "notice-release" not in page.content.decode()
    device = TOTPDevice.objects.get(user=supervisor)
    with pytest.raises(services.SafetyActionRefused, match="cannot be established"):
        services.notice_release(
            user=supervisor,
            notice=held,
            reason="x",
            code=totp_code(device),
            seen_reasons=sorted(held.hold_reasons),
        )
    # And in SQL: even a release row naming it does not override it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT notice_gate(%s, 'no_such_remedy', 'other_parent', NULL, true, "
            "ARRAY['unknown_remedy', 'fvi'])",
            [held.case_id],
        )
        assert cursor.fetchone()[0] == ["unknown_remedy"]


def _release(supervisor, notice, seen):
    device = TOTPDevice.objects.get(user=supervisor)
    return services.notice_release(
        user=supervisor,
        notice=notice,
        reason="Reviewed with the survivor.",
        code=totp_code(device),
        seen_reasons=seen,
    )


@pytest.mark.django_db
def test_a_hold_added_after_the_release_holds_the_notice_again(caseworker, supervisor, unit):
    held = _held(caseworker, unit)
    _release(supervisor, held, ["fvi"])
    # A second FVI (same reason code, another person) after the release: the
    # release was for the safety state it saw, so it no longer counts.
    child = held.case.participants.get(role="child").person
    services.fvi_set(user=caseworker, person=child, reason="child_abuse", note="")
    assert notices.mark_sent(held.pk) is False
    notice = Notice.objects.get(pk=held.pk)
    assert notice.status == "held" and notice.hold_reasons == ["fvi"]
    # Released again, it may go.
    _release_next_step(supervisor)
    _release(supervisor, notice, ["fvi"])
    assert notices.mark_sent(held.pk) is True


def _release_next_step(supervisor):
    """A TOTP code is good once per time step: move the device's counter back so
    the next code (same step) is accepted, as the next step's code would be."""
    TOTPDevice.objects.filter(user=supervisor).update(last_t=-1)


@pytest.mark.django_db
@pytest.mark.parametrize("new_hold", ["court_order", "survivor_pause", "good_cause", "plan"])
def test_any_new_hold_after_a_release_stops_the_send(caseworker, supervisor, unit, new_hold):
    held = _held(caseworker, unit)
    _release(supervisor, held, ["fvi"])
    case = held.case
    if new_hold == "court_order":
        services.court_hold_add(user=caseworker, case=case, remedy="", ordered_on=dt.date.today())
    elif new_hold == "survivor_pause":
        services.safety_plan_update(
            user=caseworker, case=case, held_remedies=set(), pause=True, closure=False
        )
    elif new_hold == "good_cause":
        services.good_cause_claim_set(
            user=caseworker,
            case=case,
            claimant=case.participants.get(role="custodial_parent").person,
            status="pending",
        )
    else:
        services.safety_plan_update(
            user=caseworker,
            case=case,
            held_remedies={"license_suspension"},
            pause=False,
            closure=False,
        )
    assert notices.mark_sent(held.pk) is False
    notice = Notice.objects.get(pk=held.pk)
    assert notice.status == "held" and "fvi" in notice.hold_reasons
    assert len(notice.hold_reasons) == 2


@pytest.mark.django_db
def test_the_backstop_honours_a_valid_release_and_nothing_else(caseworker, supervisor, unit):
    held = _held(caseworker, unit)
    # No release: a direct UPDATE to sent is refused by the database.
    with pytest.raises(DatabaseError, match="may not be sent"), transaction.atomic():
        Notice.objects.filter(pk=held.pk).update(status="sent")
    # A forged release row for a stale safety version does not count either.
    NoticeDecision.objects.create(
        notice=held,
        action="release",
        reason="forged",
        gate_reasons=["fvi"],
        case_safety_version=held.case.__class__.objects.get(pk=held.case_id).safety_version - 1,
        decided_by=supervisor,
    )
    with pytest.raises(DatabaseError, match="may not be sent"), transaction.atomic():
        Notice.objects.filter(pk=held.pk).update(status="sent")
    _release(supervisor, held, ["fvi"])
    Notice.objects.filter(pk=held.pk).update(status="sent")
    assert Notice.objects.get(pk=held.pk).status == "sent"


@pytest.mark.django_db
def test_keeping_a_notice_is_recorded_and_it_stays_held(caseworker, supervisor, unit):
    held = _held(caseworker, unit)
    client = verified_client(supervisor)
    url = reverse("safety:notice_keep", args=[held.pk])
    assert "Give the reason" in client.post(url, {"keep-reason": ""}).content.decode()
    assert client.post(url, {"keep-reason": "Wait for the court date."}).status_code == 302
    decision = NoticeDecision.objects.get(notice=held)
    assert decision.action == "keep" and decision.gate_reasons == ["fvi"]
    assert Notice.objects.get(pk=held.pk).status == "held"
    page = client.get(reverse("safety:notice_review", args=[held.pk])).content.decode()
    assert "Wait for the court date." in page and "Kept held" in page
    assert CaseEvent.objects.filter(case=held.case, kind="notice_kept").exists()


@pytest.mark.django_db(transaction=True)
def test_a_released_notice_still_gets_the_substitution_and_the_leak_check(
    caseworker, supervisor, unit, outbox
):
    clean = _held(caseworker, unit)
    leaky = _held(caseworker, unit)
    Notice.objects.filter(pk=leaky.pk).update(data={"extra": f"Seen at {CANARY}."})
    _release(supervisor, clean, ["fvi"])
    _release_next_step(supervisor)
    _release(supervisor, leaky, ["fvi"])
    assert pipeline.dispatch_chunk([clean.pk, leaky.pk]) == {"sent": 1, "leak_blocked": 1}
    text = pipeline.final_path(clean.pk, "html").read_text()
    assert "Lantern" not in text
    # Her address is replaced by the office's (she has no ACP address).
    assert clean.case.office.name in text and "in care of" in text
    assert not pipeline.final_path(leaky.pk, "html").exists()
    assert Notice.objects.get(pk=leaky.pk).hold_reasons == ["leak_blocked"]
    # The supervisor is alerted on her home page; the caseworker's shows no alert.
    home = verified_client(supervisor).get(reverse("home")).content.decode()
    assert 'id="leak-alert"' in home and "A notice was stopped" in home
    assert "?reason=leak_blocked" in home and "1 held notice waits" in home
    assert (
        'id="leak-alert"' not in verified_client(caseworker).get(reverse("home")).content.decode()
    )


@pytest.mark.django_db
def test_a_release_of_a_child_protected_elsewhere_is_voided_by_a_flag_there(
    caseworker, supervisor, unit
):
    """The custodial parent's FVI protects her children on their other cases; a
    release on that other case is voided when a further flag is set there."""
    held = _held(caseworker, unit, flag=False, screened=False)
    assert held.hold_reasons == ["not_screened"]
    _release(supervisor, held, ["not_screened"])
    child = held.case.participants.get(role="child").person
    other = full_case(caseworker=caseworker, unit=unit, ssn="900-55-7777")
    ParticipantFactory(case=other, person=child, role="child")
    Remedy.objects.filter(case=other).delete()
    services.fvi_set(
        user=caseworker,
        person=other.participants.get(role="custodial_parent").person,
        reason="dv_disclosed",
        note="",
    )
    assert FamilyViolenceIndicator.objects.count() == 1
    assert notices.mark_sent(held.pk) is False
    assert sorted(Notice.objects.get(pk=held.pk).hold_reasons) == ["fvi", "not_screened"]
