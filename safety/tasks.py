from celery import shared_task

from safety import services
from safety.pipeline import DispatchInterrupted

# A chunk stopped by the outbox failing or the database going away is retried
# with a growing wait (up to about four minutes in all); after that the sweeper
# queues what is still released again (safety.requeue).
RETRY = {
    "acks_late": True,
    "autoretry_for": (OSError, DispatchInterrupted),
    "retry_backoff": True,
    "max_retries": 8,
}


@shared_task(name="safety.tasks.apply_fvi_removals", ignore_result=True)
def apply_fvi_removals() -> None:
    """Take off flags whose approved removal has waited its full period."""
    services.fvi_removals_apply()


# Long and idempotent: acknowledged on receipt (a late ack would let Redis hand a
# still-running night to a second worker after the visibility timeout).
@shared_task(
    name="safety.tasks.notice_cycle",
    ignore_result=True,
    acks_late=False,
    soft_time_limit=3300,
    time_limit=3600,
)
def notice_cycle() -> None:
    """Nightly: generate and gate (set-based), then queue the released notices in
    bounded chunks. Recorded as a NoticeRun (safety.runs) for the supervisors'
    progress page; each chunk adds its counts to it. Task arguments are ids only."""
    from django.db import transaction

    from safety import notices, pipeline, runs
    from safety.models import NoticeRun

    run = runs.run_start(trigger=NoticeRun.Trigger.NIGHTLY)
    try:
        with transaction.atomic():
            generated = pipeline.generate_due()
        gate_counts = notices.gate_pending()
        chunks = pipeline.released_chunks()
        # The total is recorded before any chunk is queued: a chunk finishes the run.
        runs.run_gated(
            run=run, generated=generated, gate_counts=gate_counts, chunks_total=len(chunks)
        )
        for chunk in chunks:
            dispatch_notices.delay(chunk, run.pk)
    except BaseException:
        runs.run_failed(run_id=run.pk)
        raise


@shared_task(name="safety.tasks.dispatch_notices", ignore_result=True, **RETRY)
def dispatch_notices(notice_ids: list[int], run_id: int | None = None) -> None:
    """Deliver one chunk; with ``run_id``, add its counts to that notice run."""
    from safety import pipeline, runs

    counts = pipeline.dispatch_chunk(notice_ids)
    if run_id is not None:
        runs.run_chunk_done(run_id=run_id, chunk_counts=counts)


@shared_task(name="safety.tasks.sweep_notices", ignore_result=True)
def sweep_notices() -> None:
    from safety import pipeline

    pipeline.sweep()


@shared_task(name="safety.tasks.send_notice", ignore_result=True, **RETRY)
def send_notice(notice_id: int) -> None:
    """One notice now (a supervisor's release, a notice to the protected person):
    gate it if it is pending, then deliver it the same way as a chunk."""
    from safety import notices, pipeline

    try:
        notices.gate_pending([notice_id])
    except Exception as exc:
        pipeline.interrupt_if_connection_lost(exc, notice_id)
        raise
    pipeline.dispatch_chunk([notice_id])
