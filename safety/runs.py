"""Recording a run of the notice cycle for the supervisors' progress view
(safety.run_views). Counts only: a run never names a case, notice or person.

The nightly task records the generate and gate counts and the number of chunks
before it queues them; each chunk task then adds its own counts. Chunk tasks run
at the same time on several workers, so they add with one UPDATE of F()
expressions (Postgres applies each on the latest row, so none is lost), and the
run is finished by a conditional UPDATE that only one of them can win.

Chunk tasks are delivered at least once: a chunk delivered again after a worker
died re-counts only ``skipped`` for the notices it already decided, and its
``chunks_done`` never goes past ``chunks_total``. A run whose worker died for
good is never finished: the view shows it as making no progress after
``STALE_AFTER`` (it is not changed here; the notices' own states are the record).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.db.models import F, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from safety.models import NoticeRun

log = logging.getLogger(__name__)

# A run still running or dispatching this long after it started is shown as
# making no progress (the nightly cycle's hard limit is one hour; its chunks wait
# in the queue behind nothing but each other).
STALE_AFTER = dt.timedelta(hours=6)
ACTIVE_STATES = (NoticeRun.State.RUNNING, NoticeRun.State.DISPATCHING)
# Outcomes of safety.pipeline.deliver that stopped a document from going out.
BLOCKED_OUTCOMES = ("leak_blocked", "render_failed")


def _held_by_reason(counts: Counter) -> dict[str, int]:
    """The gate's ``held:<reason>`` counts as {reason: count}."""
    return {
        key.split(":", 1)[1]: number
        for key, number in sorted(counts.items())
        if key.startswith("held:")
    }


def run_start(*, trigger: str) -> NoticeRun:
    run = NoticeRun.objects.create(trigger=trigger)
    log.info("notice run %s started (%s)", run.pk, trigger)
    return run


def run_gated(
    *, run: NoticeRun, generated: int, gate_counts: Counter, chunks_total: int
) -> NoticeRun:
    """Record what generate and the gate decided (``gate_counts`` as returned by
    safety.notices.gate_pending) and how many chunks are about to be queued.
    Call it before queuing them: a chunk can only finish a run whose total is
    known. With no chunks the run is finished here."""
    fields = {
        "generated": generated,
        "released": gate_counts.get("released", 0),
        "held": _held_by_reason(gate_counts),
        "chunks_total": chunks_total,
        "state": NoticeRun.State.DISPATCHING if chunks_total else NoticeRun.State.FINISHED,
        "finished_at": None if chunks_total else timezone.now(),
    }
    NoticeRun.objects.filter(pk=run.pk, state=NoticeRun.State.RUNNING).update(**fields)
    run.refresh_from_db()
    log.info("notice run %s gated: %s chunks to send", run.pk, chunks_total)
    return run


def _dispatch_fields(counts: Counter) -> dict[str, int]:
    """A chunk's outcomes (safety.pipeline.dispatch_chunk) as the run's fields."""
    return {
        "sent": counts.get("sent", 0),
        "held_at_send": counts.get("held", 0),
        "blocked": sum(counts.get(outcome, 0) for outcome in BLOCKED_OUTCOMES),
        "failed": counts.get("failed", 0),
    }


def run_chunk_done(*, run_id: int, chunk_counts: Counter) -> bool:
    """Add one finished chunk's counts to its run. Returns True for the one call
    that finished the run (its last chunk), False for every other.

    The counts are added to whatever state the run is in (a chunk queued before
    the cycle failed still sent what it sent); only a dispatching run is
    finished."""
    added = NoticeRun.objects.filter(pk=run_id).update(
        chunks_done=Least(F("chunks_done") + 1, F("chunks_total")),
        **{field: F(field) + number for field, number in _dispatch_fields(chunk_counts).items()},
    )
    if not added:
        log.warning("notice run %s not found; chunk counts not recorded", run_id)
        return False
    finished = NoticeRun.objects.filter(
        pk=run_id,
        state=NoticeRun.State.DISPATCHING,
        finished_at__isnull=True,
        chunks_done__gte=F("chunks_total"),
    ).update(state=NoticeRun.State.FINISHED, finished_at=timezone.now())
    if finished:
        log.info("notice run %s finished", run_id)
    return bool(finished)


def run_chunks_progress(*, run_id: int, chunks_done: int, chunks_total: int) -> None:
    """For a synchronous run (the command): how many chunks are done so far. Their
    counts come at the end, with run_completed."""
    NoticeRun.objects.filter(pk=run_id, state__in=ACTIVE_STATES).update(
        state=NoticeRun.State.DISPATCHING,
        chunks_total=chunks_total,
        chunks_done=Greatest(F("chunks_done"), Value(min(chunks_done, chunks_total))),
    )


def run_completed(*, run_id: int, counts: Counter, chunks_total: int) -> None:
    """For a synchronous run (the command): record every count of the whole run
    (safety.pipeline.run_cycle's) and finish it."""
    NoticeRun.objects.filter(pk=run_id, state__in=ACTIVE_STATES).update(
        generated=counts.get("generated", 0),
        released=counts.get("released", 0),
        held=_held_by_reason(counts),
        chunks_total=chunks_total,
        chunks_done=chunks_total,
        state=NoticeRun.State.FINISHED,
        finished_at=timezone.now(),
        **_dispatch_fields(counts),
    )
    log.info("notice run %s finished", run_id)


def run_failed(*, run_id: int) -> None:
    """Mark a run that stopped with an error. Never raises: it is called while that
    error is on its way up, and must not replace it."""
    try:
        NoticeRun.objects.filter(pk=run_id, state__in=ACTIVE_STATES).update(
            state=NoticeRun.State.FAILED, finished_at=timezone.now()
        )
    except Exception:
        log.exception("could not mark notice run %s failed", run_id)
        return
    log.error("notice run %s stopped with an error", run_id)


def run_is_stalled(run: NoticeRun, *, now: dt.datetime | None = None) -> bool:
    """Still running or dispatching long after it started: probably a worker died.
    Shown as "no progress reported"; never changed."""
    now = now or timezone.now()
    return run.state in ACTIVE_STATES and run.started_at < now - STALE_AFTER
