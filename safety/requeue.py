"""Queuing again what the broker lost.

A released notice is waiting for a chunk task. Normally that task is in the
broker (waiting, or delivered to a worker and not yet acknowledged), or retrying.
It can be lost: Redis restarted without its data, a retry that could not be
published while Redis was down, a task that failed after its retries ran out.
The notice then stays released, held by nothing and sent by nothing: lost.

The sweeper (safety.pipeline.sweep, every ten minutes) finds these. When the
broker holds no message at all, neither waiting nor unacknowledged, no chunk
task can still be on its way, so every notice released more than
``NOTICE_REQUEUE_AFTER_SECONDS`` ago is queued again, in chunks. Queuing one
twice is harmless: delivery re-checks the gate and marks a notice sent at most
once (safety.notices.mark_sent), so a second task skips it. While the broker
holds anything (a long night still dispatching, messages a dead worker held that
Redis will hand out again after its visibility timeout), the sweeper waits.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)


def broker_backlog() -> int | None:
    """Messages in the broker that may still deliver a notice: waiting in the
    default queue, or delivered and not yet acknowledged. None when the broker
    cannot be asked (then nothing is queued again: it could not be anyway)."""
    from kombu.exceptions import ChannelError

    from config.celery import app

    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.default_channel
            try:
                waiting = channel.queue_declare(
                    queue=app.conf.task_default_queue, passive=True
                ).message_count
            except ChannelError:
                waiting = 0  # the queue does not exist: nothing waits in it
            unacked_key = getattr(channel, "unacked_key", None)
            unacked = channel.client.hlen(unacked_key) if unacked_key else 0
            return waiting + unacked
    except Exception:
        log.warning("could not read the broker's backlog; nothing queued again", exc_info=True)
        return None


def requeue_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTICE_REQUEUE_AFTER_SECONDS)


def requeue_orphans() -> int:
    """Queue again every notice released before the grace period whose task the
    broker no longer holds. Returns how many notices were queued. Their chunks
    count towards the newest run still sending, if any (its progress page then
    finishes instead of stalling)."""
    from safety.models import NoticeRun
    from safety.pipeline import released_chunks
    from safety.tasks import dispatch_notices

    if connection.in_atomic_block:
        raise RuntimeError("requeue_orphans() must not run inside a transaction")
    if broker_backlog() != 0:
        return 0
    cutoff = timezone.now() - requeue_after()
    chunks = released_chunks(released_before=cutoff)
    if not chunks:
        return 0
    run_id = (
        NoticeRun.objects.filter(state=NoticeRun.State.DISPATCHING)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    for chunk in chunks:
        dispatch_notices.delay(chunk, run_id)
    total = sum(map(len, chunks))
    log.warning(
        "%s released notices had no task in the broker; queued again in %s chunks",
        total,
        len(chunks),
    )
    return total
