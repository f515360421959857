from celery import shared_task

from safety import services


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
    bounded chunks. Task arguments are notice ids only."""
    from django.db import transaction

    from safety import notices, pipeline

    with transaction.atomic():
        pipeline.generate_due()
    notices.gate_pending()
    for chunk in pipeline.released_chunks():
        dispatch_notices.delay(chunk)


@shared_task(
    name="safety.tasks.dispatch_notices",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def dispatch_notices(notice_ids: list[int]) -> None:
    from safety import pipeline

    pipeline.dispatch_chunk(notice_ids)


@shared_task(name="safety.tasks.sweep_notices", ignore_result=True)
def sweep_notices() -> None:
    from safety import pipeline

    pipeline.sweep()
