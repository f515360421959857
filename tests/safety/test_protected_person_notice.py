"""(Transactional: delivery only runs outside a transaction, as in a worker.)

The protected person is told when removal of her flag is approved: a notice
through the same pipeline, to her safe address (her ACP substitute address, else
an address she said is safe for mail, else the office for her to collect), sent
while her flag still stands. Notices to anyone else carry her ACP substitute or
the office address, never hers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Notice, Remedy
from safety import notices, pipeline, services
from safety.models import FamilyViolenceIndicator, SafetyReview
from tests.conftest import totp_code
from tests.factories import UnitFactory, UserFactory, contact_point, full_case

pytestmark = pytest.mark.usefixtures("outbox")

HOME = "14 Hidden Orchard Lane\nMarrowfield, NM 87002"  # synthetic, her real address
SAFE = "PO Box 4410\nBrightwater, NM 87003"  # synthetic, the address she says is safe
ACP_ADDRESS = "Safe at Home Program\nPO Box 100\nCapital City, NM 87100"  # synthetic


@pytest.fixture
def people(db):
    supervisor = UserFactory(username="ppn-boss", role="supervisor")
    worker = UserFactory(username="ppn-worker", role="caseworker")
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(worker)
    return worker, supervisor, unit


def _flagged_case(worker, unit, *, spanish=False):
    case = full_case(caseworker=worker, unit=unit, address=HOME)
    case.office.address = "1 Agency Plaza\nCapital City, NM 87100"
    case.office.save()
    SafetyReview.objects.create(case=case, outcome="concerns", reviewed_by=worker)
    survivor = case.participants.get(role="custodial_parent").person
    if spanish:
        survivor.preferred_language = "es"
        survivor.save()
    services.fvi_set(user=worker, person=survivor, reason="protective_order")
    return case, survivor


def _approve_removal(worker, supervisor, survivor):
    fvi = FamilyViolenceIndicator.objects.get(person=survivor)
    request = services.fvi_removal_request(user=worker, fvi=fvi, reason="Order expired.")
    device = TOTPDevice.objects.get(user=supervisor)
    return services.fvi_removal_approve(user=supervisor, request=request, code=totp_code(device))


def _deliver(notice_id):
    notices.gate_pending([notice_id])
    return pipeline.deliver(notice_id)


def _acp(worker, case, survivor):
    services.acp_record(
        user=worker,
        case=case,
        person=survivor,
        program_name="Safe at Home",
        participant_id="SAH-90417",
        substitute_address=ACP_ADDRESS,
        certified_until=timezone.localdate() + dt.timedelta(days=400),
    )


@pytest.mark.django_db(transaction=True)
def test_she_is_told_at_her_acp_address_while_her_flag_still_stands(people):
    worker, supervisor, unit = people
    case, survivor = _flagged_case(worker, unit)
    _acp(worker, case, survivor)
    removal = _approve_removal(worker, supervisor, survivor)
    notice = removal.notice
    assert notice.remedy == "safety_notice" and notice.recipient_person_id == survivor.pk
    # Her flag holds every enforcement notice on the case, but not this one.
    assert _deliver(notice.pk) == "sent"
    text = pipeline.final_path(notice.pk, "html").read_text()
    assert survivor.full_name in text and "Safe at Home" in text and "SAH-90417" in text
    assert "PO Box 100" in text and removal.effective_at.date().isoformat() in text
    assert "Hidden Orchard" not in text and "900-55-1234" not in text
    assert pipeline.final_path(notice.pk, "pdf").read_bytes().startswith(b"%PDF")
    # The flag comes off only after the wait, and only because she was told.
    later = timezone.now() + dt.timedelta(days=31)
    assert services.fvi_removals_apply(now=later) == 1


@pytest.mark.django_db(transaction=True)
def test_without_acp_it_goes_to_the_address_she_said_is_safe_in_her_language(people):
    worker, supervisor, unit = people
    case, survivor = _flagged_case(worker, unit, spanish=True)
    contact_point(survivor, SAFE, kind="mailing", safe_for_mail=True)
    notice = _approve_removal(worker, supervisor, survivor).notice
    assert _deliver(notice.pk) == "sent"
    text = pipeline.final_path(notice.pk, "html").read_text()
    assert "PO Box 4410" in text and "Brightwater" in text
    assert "Hidden Orchard" not in text
    assert 'lang="es"' in text


@pytest.mark.django_db(transaction=True)
def test_with_no_safe_address_it_waits_at_the_office_and_the_flag_stays(people):
    worker, supervisor, unit = people
    case, survivor = _flagged_case(worker, unit)
    removal = _approve_removal(worker, supervisor, survivor)
    assert _deliver(removal.notice.pk) == "sent"
    text = pipeline.final_path(removal.notice.pk, "html").read_text()
    assert f"To be collected at {case.office.name}" in text
    assert "Hidden Orchard" not in text


@pytest.mark.django_db(transaction=True)
def test_until_her_notice_is_sent_the_flag_stays_on(people):
    worker, supervisor, unit = people
    case, survivor = _flagged_case(worker, unit)
    removal = _approve_removal(worker, supervisor, survivor)
    Notice.objects.filter(pk=removal.notice.pk).update(notice_type="no_such_template")
    assert _deliver(removal.notice.pk) == pipeline.RENDER_FAILED
    assert services.fvi_removals_apply(now=timezone.now() + dt.timedelta(days=365)) == 0
    assert FamilyViolenceIndicator.objects.get(person=survivor).removed_at is None


@pytest.mark.django_db(transaction=True)
def test_a_safety_notice_goes_to_nobody_but_a_person_on_its_case(people):
    worker, supervisor, unit = people
    case, survivor = _flagged_case(worker, unit)
    stranger = full_case(caseworker=worker, unit=unit, ssn="900-55-8888")
    outsider = stranger.participants.get(role="custodial_parent").person
    ncp = case.participants.get(role="noncustodial_parent").person
    wrong = [
        Notice.objects.create(
            case=case,
            remedy="safety_notice",
            notice_type="fvi_removal_notice",
            recipient=recipient,
            recipient_person=person,
            due_on=dt.date(2026, 12, 1),
        )
        for recipient, person in (
            ("other_parent", ncp),  # the abuser, as "the other parent"
            ("protected_person", None),
            ("protected_person", outsider),
        )
    ]
    counts = notices.gate_pending([n.pk for n in wrong])
    assert counts == {"held:wrong_recipient": 3}
    for notice in wrong:
        with pytest.raises(DatabaseError, match="may not be sent"), transaction.atomic():
            Notice.objects.filter(pk=notice.pk).update(status="sent")


@pytest.mark.django_db(transaction=True)
def test_notices_to_others_carry_her_acp_or_the_office_address_never_hers(people):
    worker, _supervisor, unit = people
    plain = full_case(caseworker=worker, unit=unit, address=HOME)
    enrolled = full_case(caseworker=worker, unit=unit, address=HOME, ssn="900-55-2222")
    for case in (plain, enrolled):
        SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
        Remedy.objects.filter(case=case).update(next_action_on=dt.date(2026, 1, 1))
    _acp(worker, enrolled, enrolled.participants.get(role="custodial_parent").person)
    counts = pipeline.run_cycle()
    assert counts["sent"] == 4
    for case in (plain, enrolled):
        for notice in Notice.objects.filter(case=case):
            text = pipeline.final_path(notice.pk, "html").read_text()
            assert "Hidden Orchard" not in text and "SAH-90417" not in text
            assert "in care of" in text
            if case is enrolled:
                assert "PO Box 100" in text
            else:
                assert "PO Box 100" not in text and case.office.name in text


@pytest.mark.django_db(transaction=True)
def test_her_allowed_address_does_not_excuse_the_same_text_held_by_someone_else(people):
    worker, _supervisor, unit = people
    case, survivor = _flagged_case(worker, unit)
    ncp = case.participants.get(role="noncustodial_parent").person
    contact_point(ncp, SAFE, kind="mailing")
    document = f"<p>{SAFE}</p>"
    # Allowed for her, but the other parent's record holds the same text: a hit.
    assert pipeline.leaks(case.pk, document, allowed=[SAFE], allowed_person=survivor.pk)
    other = full_case(caseworker=worker, unit=unit, ssn="900-55-3333")
    alone = other.participants.get(role="custodial_parent").person
    contact_point(alone, SAFE, kind="mailing", safe_for_mail=True)
    assert not pipeline.leaks(other.pk, document, allowed=[SAFE], allowed_person=alone.pk)
    assert pipeline.leaks(other.pk, document)
