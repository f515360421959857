"""(Transactional: delivery only runs outside a transaction, as in a worker.)

The notice cycle end to end: generate, gate, dispatch to the outbox, sweep; the
leak check; render failures; a chunk dispatched twice; a real Celery worker."""

from __future__ import annotations

import datetime as dt
import math
import threading
from decimal import Decimal
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Notice, Remedy, SupportOrder
from config.celery import app as celery_app
from safety import notices, pipeline, protected
from safety.models import FamilyViolenceIndicator, SafetyReview
from tests.factories import UserFactory, full_case

pytestmark = pytest.mark.usefixtures("outbox")

CANARY = "88 Canary Terrace, Hidden Hollow"  # synthetic


def _due_case(worker, *, screened=True, flag=False, spanish=False):
    case = full_case(caseworker=worker, address=CANARY)
    case.office.address = "1 Agency Plaza\nCapital City"
    case.office.save()
    Remedy.objects.filter(case=case).update(next_action_on=dt.date(2026, 1, 1))
    if screened:
        SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    if flag:
        FamilyViolenceIndicator.objects.create(
            person=case.participants.get(role="custodial_parent").person,
            reason="dv_disclosed",
            set_by=worker,
        )
    if spanish:
        ncp = case.participants.get(role="noncustodial_parent").person
        ncp.preferred_language = "es"
        ncp.save()
    return case


def _files(outbox):
    return sorted(p.name for p in outbox.glob("notice-*.html"))


@pytest.mark.django_db(transaction=True)
def test_the_cycle_sends_only_what_the_gate_releases(outbox):
    worker = UserFactory(username="pl-1")
    free = _due_case(worker)
    flagged = _due_case(worker, flag=True)
    unscreened = _due_case(worker, screened=False)
    out = StringIO()
    call_command("run_notice_cycle", stdout=out)
    report = out.getvalue()
    assert "generated: 6" in report and "sent: 2" in report
    assert "held (fvi): 2" in report and "held (not_screened): 2" in report
    sent = Notice.objects.filter(status="sent")
    assert {n.case_id for n in sent} == {free.pk}
    assert not Notice.objects.filter(case__in=[flagged, unscreened], status="sent").exists()
    assert _files(outbox) == sorted(f"notice-{n.pk}.html" for n in sent)
    for notice in sent:
        assert pipeline.final_path(notice.pk, "pdf").read_bytes().startswith(b"%PDF")
    for path in outbox.glob("notice-*.html"):
        text = path.read_text()
        assert "Canary" not in text and "900-55-1234" not in text
        assert "1 Agency Plaza" in text
    # Running again generates and sends nothing new.
    again = StringIO()
    call_command("run_notice_cycle", stdout=again)
    assert "generated: 0" in again.getvalue() and "sent: 0" in again.getvalue()


@pytest.mark.django_db(transaction=True)
def test_notices_to_a_spanish_speaking_parent_are_in_spanish(outbox):
    worker = UserFactory(username="pl-es")
    case = _due_case(worker, spanish=True)
    pipeline.run_cycle()
    to_parent = Notice.objects.get(case=case, recipient="other_parent", status="sent")
    text = pipeline.final_path(to_parent.pk, "html").read_text()
    assert pipeline.final_path(to_parent.pk, "pdf").read_bytes().startswith(b"%PDF")
    assert 'lang="es"' in text and "No se comunique con el otro padre o madre" in text


@pytest.mark.django_db(transaction=True)
def test_a_document_containing_a_protected_value_is_blocked(outbox):
    worker = UserFactory(username="pl-leak")
    case = _due_case(worker)
    pipeline.generate_due()
    notices.gate_pending()
    notice = Notice.objects.filter(case=case, status="released").first()
    address = protected.reveal(
        case.participants.get(role="custodial_parent").person.contact_points.get(), "value"
    )
    notice.data = {"extra": f"Her address is {address.upper()}"}  # case and spacing differ
    notice.save(update_fields=["data"])
    assert pipeline.deliver(notice.pk) == pipeline.LEAK_BLOCKED
    notice.refresh_from_db()
    assert notice.status == "held" and notice.hold_reasons == ["leak_blocked"]
    assert not pipeline.final_path(notice.pk).exists()
    assert not list((outbox / ".staging").glob("*"))


@pytest.mark.django_db(transaction=True)
def test_a_notice_that_fails_to_render_is_held_not_dropped(outbox):
    worker = UserFactory(username="pl-render")
    case = _due_case(worker)
    pipeline.generate_due()
    notices.gate_pending()
    notice = Notice.objects.filter(case=case, status="released").first()
    Notice.objects.filter(pk=notice.pk).update(notice_type="no_such_template")
    assert pipeline.deliver(notice.pk) == pipeline.RENDER_FAILED
    assert Notice.objects.get(pk=notice.pk).hold_reasons == ["render_failed"]


@pytest.mark.django_db(transaction=True)
def test_the_same_chunk_dispatched_twice_delivers_once(outbox):
    worker = UserFactory(username="pl-twice")
    _due_case(worker)
    pipeline.generate_due()
    notices.gate_pending()
    chunk = pipeline.released_chunks()[0]
    first = pipeline.dispatch_chunk(chunk)
    second = pipeline.dispatch_chunk(chunk)
    assert first == {"sent": len(chunk)} and second == {"skipped": len(chunk)}
    assert len(_files(outbox)) == len(chunk)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_is_read_a_batch_at_a_time_and_each_document_from_its_own_case(outbox):
    """dispatch_chunk reads its notices and their cases' facts a batch at a time
    (pipeline.FACTS_BATCH notices in a handful of statements, decision 0014).
    Each document is still made from its own case's facts and checked against
    them: a leak and a render failure in the chunk stop only their own notice."""
    worker = UserFactory(username="pl-batch")
    cases = [_due_case(worker) for _ in range(pipeline.FACTS_BATCH // 2 + 2)]
    for number, case in enumerate(cases):  # an amount that tells the cases apart
        SupportOrder.objects.filter(case=case).update(amount=Decimal(f"7{number:02d}.25"))
    pipeline.generate_due()
    notices.gate_pending()
    chunk = pipeline.released_chunks()[0]
    assert len(chunk) > pipeline.FACTS_BATCH
    leaking = Notice.objects.filter(case=cases[3], status="released").first()
    address = protected.reveal(
        cases[3].participants.get(role="custodial_parent").person.contact_points.get(), "value"
    )
    leaking.data = {"extra": f"Write to {address}"}
    leaking.save(update_fields=["data"])
    broken = Notice.objects.filter(case=cases[-1], status="released").first()
    Notice.objects.filter(pk=broken.pk).update(notice_type="no_such_template")

    with CaptureQueriesContext(connection) as queries:
        counts = pipeline.dispatch_chunk(chunk)

    assert counts == {"sent": len(chunk) - 2, "leak_blocked": 1, "render_failed": 1}
    assert Notice.objects.get(pk=leaking.pk).hold_reasons == ["leak_blocked"]
    assert not pipeline.final_path(leaking.pk).exists()
    participant_reads = [q for q in queries if 'FROM "cases_participant"' in q["sql"]]
    assert len(participant_reads) == math.ceil(len(chunk) / pipeline.FACTS_BATCH)
    sent = Notice.objects.filter(pk__in=chunk, status="sent").select_related("case")
    assert sent.count() == len(chunk) - 2
    for notice in sent:
        text = pipeline.final_path(notice.pk, "html").read_text()
        number = cases.index(notice.case)
        obligor = notice.case.participants.get(role="noncustodial_parent").person
        assert f"$7{number:02d}.25" in text and notice.case.number in text
        assert obligor.full_name in text
        assert "Canary" not in text


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_chunk_at_once_deliver_each_notice_once(outbox):
    worker = UserFactory(username="pl-race")
    for _ in range(4):
        _due_case(worker)
    pipeline.generate_due()
    notices.gate_pending()
    chunk = pipeline.released_chunks()[0]
    results, start = [], threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(pipeline.dispatch_chunk(chunk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r["sent"] for r in results) == len(chunk)
    assert len(_files(outbox)) == len(chunk)
    assert Notice.objects.filter(status="sent").count() == len(chunk)
    assert not list((outbox / ".staging").glob("*"))


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_finishes_what_a_crash_left(outbox):
    worker = UserFactory(username="pl-sweep")
    _due_case(worker)
    pipeline.generate_due()
    notices.gate_pending()
    a, b = pipeline.released_chunks()[0][:2]
    # Crash 1: marked sent, file staged but never moved into the outbox.
    document, _allowed = pipeline.render(Notice.objects.get(pk=a))
    pipeline._stage(a, (document, pipeline.to_pdf(document)))
    assert notices.mark_sent(a)
    # Crash 2: marked sent, and the staged file was lost too.
    assert notices.mark_sent(b)
    # Within the grace period a worker may still be finishing: left alone.
    assert pipeline.sweep() == {}
    Notice.objects.filter(pk__in=[a, b]).update(
        sent_at=timezone.now() - pipeline.sweep_grace() - dt.timedelta(minutes=1)
    )
    counts = pipeline.sweep()
    assert counts == {"published": 1, "re-rendered": 1}
    for notice_id in (a, b):
        for suffix in pipeline.SUFFIXES:
            assert pipeline.final_path(notice_id, suffix).exists()
    assert pipeline.sweep() == {}


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_nightly_cycle(outbox):
    worker = UserFactory(username="pl-celery")
    _due_case(worker)
    _due_case(worker, flag=True)
    from safety.tasks import notice_cycle

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        notice_cycle.delay()
        import time

        deadline = time.time() + 30
        while time.time() < deadline and Notice.objects.filter(status="sent").count() < 2:
            time.sleep(0.2)
    # Two remedies on each case: the free case's two are sent, the flagged case's held.
    assert Notice.objects.filter(status="sent").count() == 2
    assert Notice.objects.filter(status="held").count() == 2
    assert len(_files(outbox)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_picked_up_file_is_never_sent_again(outbox):
    """The vendor empties the outbox; the database remembers what was published."""
    worker = UserFactory(username="pl-pickup")
    _due_case(worker)
    pipeline.run_cycle()
    sent = list(Notice.objects.filter(status="sent"))
    assert sent and all(n.published_at for n in sent)
    for path in outbox.glob("notice-*.*"):
        path.unlink()  # picked up
    Notice.objects.update(sent_at=timezone.now() - dt.timedelta(hours=1))
    assert pipeline.sweep() == {}
    assert pipeline.run_cycle()["sent"] == 0
    assert not list(outbox.glob("notice-*.*"))


@pytest.mark.django_db(transaction=True)
def test_the_leak_check_sees_through_markup_and_formatting(outbox):
    worker = UserFactory(username="pl-leak2")
    case = full_case(caseworker=worker, address="12 O'Neil Road & Elm\nTestville, NM 87001")
    from tests.factories import contact_point

    cp = case.participants.get(role="custodial_parent").person
    contact_point(cp, "(555) 010-4477", kind="phone")
    office_line = "Testville, NM 87001"  # her city line also in the office address: not a leak
    case.office.address = f"1 Agency Plaza\n{office_line}"
    case.office.save()
    clean = "<p>Send payments to 1 Agency Plaza, Testville, NM 87001.</p>"
    assert not pipeline.leaks(case.pk, clean)
    for document in (
        "<p>12 O&#x27;Neil Road &amp; Elm</p>",
        "<p>Call 555-010-4477</p>",
        "<p>SSN 900 55 1234</p>",
        "<p>12 o neil road  elm</p>",
    ):
        assert pipeline.leaks(case.pk, document), document
