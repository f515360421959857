"""(Transactional: real worker processes read what the test commits.)

Faults injected into the notice dispatch, with real processes: a seeded database
with every kind of hold, the nightly cycle queued on the real broker, real Celery
workers (prefork), and a fault at the start, the middle or the end of the
dispatch. After recovery (the worker restarted where it stopped, the sweeper
run), the final state must show nothing delivered while held, nothing lost,
nothing delivered twice. It runs on a PostgreSQL and a Redis of its own
(scripts/faults.sh), which faults 3 and 4 stop and restart. `make faults` runs
it larger and writes docs/reliability.md (scripts/reliability_report.py)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Notice
from safety import pipeline, services, tasks
from tests.faults import harness

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

POINTS = {"start": 0.02, "middle": 0.5, "end": 0.9}
SAFETY_TABLES = [
    "safety_familyviolenceindicator",
    "safety_goodcauseclaim",
    "safety_safetyplan",
    "safety_safetyplanremedy",
    "safety_courtorderhold",
    "safety_safetyreview",
    "safety_noticedecision",
]


@pytest.fixture
def night(settings, outbox):
    """The database seeded and the night's chunks queued; the broker emptied first."""
    harness.fault_services()  # only on the suite's own services
    settings.NOTICE_DISPATCH_CHUNK = harness.CHUNK
    settings.NOTICE_SWEEP_GRACE_SECONDS = 0
    settings.NOTICE_REQUEUE_AFTER_SECONDS = 0
    broker = harness.broker()
    broker.delete(harness.QUEUE, "unacked", "unacked_index")
    harness.seed()
    tasks.notice_cycle()  # generate, gate (set-based), queue the released in chunks
    released = harness.counts().get("released", 0)
    assert released > 5 * harness.CHUNK, "too few notices for a fault in the middle"
    state = {
        "released": released,
        "messages": broker.lrange(harness.QUEUE, 0, -1),
        "outbox": Path(outbox),
        "holds_added": {},
        "after": None,
    }
    yield state
    broker.delete(harness.QUEUE, "unacked", "unacked_index")


def _released() -> int:
    return harness.counts().get("released", 0)


def _run(night, fault: str, point: str, inject) -> harness.Result:
    """Inject the fault once the dispatch reaches its point; then recover as
    production would: workers carry on (or a new one starts), and the sweeper
    (every ten minutes on the beat) runs once the broker has nothing left or
    every notice is decided. Settled means nothing released and nothing waiting."""
    worker = harness.Worker(night["outbox"])
    injected = recovered = time.monotonic()
    requeued = 0
    try:
        target = max(1, int(night["released"] * POINTS[point]))
        assert harness.wait_until(lambda: harness.sent() >= target, timeout=180), (
            f"nothing reached {target} sent: {harness.counts()}"
        )
        injected = time.monotonic()
        worker = inject(worker, night) or worker
        harness.wait_until(lambda: _released() == 0 or harness.queued() == 0, timeout=240)
        requeued = pipeline.sweep()["requeued"]  # queues again what the broker lost
        settled = harness.wait_until(
            lambda: _released() == 0 and harness.broker().llen(harness.QUEUE) == 0, timeout=240
        )
        recovered = time.monotonic()
    finally:
        worker.stop()
        if night.get("restore"):
            night.pop("restore")()
    pipeline.sweep()  # publishes what a killed process marked sent and left staged
    result = harness.Result(fault=fault, point=point)
    result.recovery_seconds = round(recovered - injected, 1)
    result.requeued = requeued
    if not settled:
        result.notes.append(f"not settled after 240 s: {harness.counts()}")
    return harness.invariants(night["outbox"], result, holds_added=night["holds_added"])


# --- The faults ------------------------------------------------------------------------


def _kill_a_pool_process(worker, night):
    """1. kill -9 of a pool process mid-chunk: its task is rejected and redelivered."""
    worker.kill_a_child()


def _warm_shutdown(worker, night):
    """2. SIGTERM: the worker finishes what it is doing and stops; a new one carries on."""
    worker.stop(signal.SIGTERM)
    return harness.Worker(night["outbox"])


def _redis_restarted(keep: bool):
    def inject(worker, night):
        """3. Redis stopped mid-run for a few seconds, then started again: with
        its data (saved on the way down, as a persisting Redis does), or empty
        (every queued and unacknowledged message lost)."""
        harness.services("stop-redis", "keep" if keep else "drop")
        time.sleep(3)
        harness.services("start")

    return inject


def _postgres_restarted(worker, night):
    """4. PostgreSQL stopped in immediate mode (as a crash: no shutdown checkpoint,
    every connection cut), down for a few seconds, then started (crash recovery)."""
    harness.services("kill-pg")
    time.sleep(3)
    harness.services("start")
    connection.close()  # this process's own connection died with the server


def _deliver_every_chunk_again(worker, night):
    """5. Every chunk of the night queued a second time while the first copies run."""
    broker = harness.broker()
    for message in night["messages"]:
        broker.lpush(harness.QUEUE, message)


def _holds_between_release_and_send(worker, night):
    """6. An FVI, a good-cause claim and a survivor's pause placed, through the
    services, on cases whose notices are released but not yet sent."""
    case_ids = list(
        Notice.objects.filter(status="released")
        .order_by("-id")
        .values_list("case_id", flat=True)
        .distinct()[:9]
    )
    from cases.models import Case

    for n, case in enumerate(Case.objects.filter(pk__in=case_ids).select_related("caseworker")):
        user = case.caseworker
        custodial = case.participants.filter(role="custodial_parent").first()
        if n % 3 == 0 and custodial:
            services.fvi_set(user=user, person=custodial.person, reason="dv_disclosed")
        elif n % 3 == 1 and custodial:
            services.good_cause_claim_set(
                user=user, case=case, claimant=custodial.person, status="pending"
            )
        else:
            services.safety_plan_update(
                user=user, case=case, held_remedies=set(), pause=True, closure=False
            )
        night["holds_added"][case.pk] = timezone.now()  # committed: the service's own


def _safety_tables_unreadable(worker, night):
    """7. The safety tables made unreadable to the application's role (owner: it can
    revoke its own privilege, as a broken grant in production would)."""
    with connection.cursor() as cursor:
        for table in SAFETY_TABLES:
            cursor.execute(f'REVOKE SELECT ON "{table}" FROM CURRENT_USER')  # noqa: S608
    # A statement already running when the grant went may still finish: half a second.
    night["after"] = timezone.now() + dt.timedelta(seconds=0.5)

    def restore():
        with connection.cursor() as cursor:
            for table in SAFETY_TABLES:
                cursor.execute(f'GRANT SELECT ON "{table}" TO CURRENT_USER')  # noqa: S608

    night["restore"] = restore


def _outbox_fails(worker, night):
    """8. The delivery backend fails part-way (its staging folder unusable: what a
    full disk or a lost permission does to a write) for a few seconds."""
    staging = night["outbox"] / ".staging"
    parked = []
    # Workers recreate the folder when it is missing: move it away and put a file in
    # its place, again until the file wins.
    for attempt in range(100):
        if staging.is_dir():
            away = night["outbox"].with_name(f"staging-parked-{attempt}")
            staging.rename(away)
            parked.append(away)
        try:
            os.close(os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            continue
    else:
        raise RuntimeError("could not block the staging folder")
    time.sleep(3)  # every staging write fails with an OSError meanwhile
    staging.unlink()
    staging.mkdir(exist_ok=True)
    for away in parked:  # staged files of notices in flight go back
        for path in away.iterdir():
            path.rename(staging / path.name)
        away.rmdir()


FAULTS = {
    "1 kill -9 of a pool process": _kill_a_pool_process,
    "2 warm shutdown (SIGTERM)": _warm_shutdown,
    "3a Redis restarted with its data": _redis_restarted(keep=True),
    "3b Redis restarted empty": _redis_restarted(keep=False),
    "4 PostgreSQL restarted (immediate)": _postgres_restarted,
    "5 same chunks twice at once": _deliver_every_chunk_again,
    "6 holds between release and send": _holds_between_release_and_send,
    "7 safety tables unreadable": _safety_tables_unreadable,
    "8 outbox failing": _outbox_fails,
}


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_nothing_held_is_sent_nothing_is_lost_nothing_is_sent_twice(night, fault, point):
    result = _run(night, fault, point, FAULTS[fault])
    if fault.startswith("7"):
        # Every notice not sent before the fault is held.
        after = Notice.objects.filter(sent_at__gt=night["after"]).count()
        if after:
            result.held_but_delivered += after
            result.notes.append(f"{after} sent after the safety tables went unreadable")
    harness.record(result)
    assert result.delivered > 0, result
    assert result.held > 0, result  # the mix held some: the gate was in play
    assert result.held_but_delivered == 0, result
    assert result.lost == 0, result
    assert result.duplicates == 0, result
    assert result.notes == [], result
