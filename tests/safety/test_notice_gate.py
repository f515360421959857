"""The pipeline's safety steps: the set-based gate over pending notices, the final
"mark sent" that re-checks the gate, the database backstop, and the race where a
flag is set between release and send."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from cases.models import Notice
from safety import notices, services
from safety.models import FamilyViolenceIndicator, SafetyReview
from tests.factories import UserFactory, full_case


def _case(worker, screened=True):
    case = full_case(caseworker=worker)
    if screened:
        SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    return case


def _notice(case, remedy="income_withholding", **fields) -> Notice:
    return Notice.objects.create(
        case=case,
        remedy=remedy,
        notice_type="iwo",
        recipient="employer",
        due_on=dt.date(2026, 12, 1),
        **fields,
    )


@pytest.mark.django_db
def test_the_gate_decides_all_pending_notices_in_one_statement(django_assert_num_queries):
    worker = UserFactory(username="nt-1")
    free, flagged, unscreened = _case(worker), _case(worker), _case(worker, screened=False)
    FamilyViolenceIndicator.objects.create(
        person=flagged.participants.get(role="custodial_parent").person,
        reason="dv_disclosed",
        set_by=worker,
    )
    ids = [
        _notice(c, remedy).pk
        for c in (free, flagged, unscreened)
        for remedy in ("income_withholding", "passport_denial")
    ]
    # The statistics refreshed first (savepoint, ANALYZE, release: decision
    # 0014), then the decision itself in one statement (savepoint, the UPDATE,
    # release).
    with django_assert_num_queries(6) as captured:
        counts = notices.gate_pending()
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements[0] == "ANALYZE cases_notice"
    assert len(statements) == 2 and "UPDATE cases_notice" in statements[1]
    assert counts == {"released": 2, "held:fvi": 2, "held:not_screened": 2}
    status = dict(Notice.objects.filter(pk__in=ids).values_list("case_id", "status").distinct())
    assert status == {free.pk: "released", flagged.pk: "held", unscreened.pk: "held"}
    assert notices.gate_pending() == {}  # nothing pending any more


@pytest.mark.django_db
def test_mark_sent_rechecks_the_gate_in_the_sending_statement():
    worker = UserFactory(username="nt-2")
    case = _case(worker)
    notice = _notice(case)
    notices.gate_pending()
    notice.refresh_from_db()
    assert notice.status == "released"
    # A flag arrives after release, before the send.
    FamilyViolenceIndicator.objects.create(
        person=case.participants.get(role="child").person, reason="child_abuse", set_by=worker
    )
    assert notices.mark_sent(notice.pk) is False
    notice.refresh_from_db()
    assert notice.status == "held" and notice.hold_reasons == ["fvi"] and notice.sent_at is None
    # Sending twice, or sending a held notice, does nothing.
    assert notices.mark_sent(notice.pk) is False


@pytest.mark.django_db
def test_a_released_notice_with_no_hold_is_sent_once():
    worker = UserFactory(username="nt-3")
    notice = _notice(_case(worker))
    notices.gate_pending()
    assert notices.mark_sent(notice.pk) is True
    assert notices.mark_sent(notice.pk) is False
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.sent_at is not None


@pytest.mark.django_db
def test_the_database_refuses_sent_for_a_held_notice_whatever_the_path():
    worker = UserFactory(username="nt-4")
    case = _case(worker, screened=False)
    notice = _notice(case)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(status="sent")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        _notice(case, status="sent")
    notice.refresh_from_db()
    assert notice.status == "pending"
    assert not Notice.objects.filter(status="sent").exists()


@pytest.mark.django_db
def test_an_unreadable_safety_state_holds_every_pending_notice():
    worker = UserFactory(username="nt-5")
    ids = [_notice(_case(worker)).pk for _ in range(3)]
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE safety_safetyreview RENAME TO safety_safetyreview_gone")
        counts = notices.gate_pending()
        assert counts == {"held:gate_error": 3}
        assert set(Notice.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"held"}
        transaction.savepoint_rollback(sid)


@pytest.mark.django_db(transaction=True)
def test_a_flag_set_while_a_send_is_in_flight_stops_the_send():
    """The flag's transaction is open (its lock held) when the send starts: the
    send waits, then sees the flag and holds the notice. Nothing is sent."""
    worker = UserFactory(username="nt-race")
    case = _case(worker)
    notice = _notice(case)
    notices.gate_pending()
    person = case.participants.get(role="custodial_parent").person
    flag_written, results = threading.Event(), {}

    def set_flag_slowly():
        try:
            with transaction.atomic():
                services.fvi_set(user=worker, person=person, reason="dv_disclosed")
                flag_written.set()
                time.sleep(1.0)  # the send starts while this is still uncommitted
        finally:
            connection.close()

    def send():
        try:
            flag_written.wait(10)
            started = time.monotonic()
            results["sent"] = notices.mark_sent(notice.pk)
            results["waited"] = time.monotonic() - started
        finally:
            connection.close()

    threads = [threading.Thread(target=set_flag_slowly), threading.Thread(target=send)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["sent"] is False
    assert results["waited"] > 0.5  # it waited for the flag's transaction
    notice.refresh_from_db()
    assert notice.status == "held" and notice.hold_reasons == ["fvi"]


@pytest.mark.django_db(transaction=True)
def test_a_send_that_committed_first_stands_and_the_flag_holds_the_next():
    worker = UserFactory(username="nt-order")
    case = _case(worker)
    first, second = _notice(case), _notice(case, remedy="lien")
    notices.gate_pending()
    assert notices.mark_sent(first.pk) is True
    services.fvi_set(
        user=worker,
        person=case.participants.get(role="custodial_parent").person,
        reason="protective_order",
    )
    assert notices.mark_sent(second.pk) is False
    assert Notice.objects.get(pk=second.pk).hold_reasons == ["fvi"]
