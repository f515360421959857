"""(Transactional: delivery only runs outside a transaction, as in a worker.)

Recovery from what the broker or the database lost, on the real Redis and
PostgreSQL: the sweeper queues again released notices whose task is gone
(safety.requeue), but never while the broker still holds a message; a chunk whose
database connection dies stops with its notices still released, for its task to
retry (safety.pipeline.DispatchInterrupted). The fault suite (tests/faults) does
the same with real worker processes and Redis and PostgreSQL restarts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from cases.models import Notice
from config.celery import app as celery_app
from safety import notices, pipeline, requeue, runs, tasks
from safety.models import NoticeRun
from safety.pipeline import DispatchInterrupted
from tests.factories import UserFactory
from tests.faults import harness
from tests.safety.test_pipeline import _due_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("outbox")]

LONG_AGO = dt.timedelta(minutes=30)


@pytest.fixture
def broker():
    """The test Redis with nothing queued or unacknowledged."""
    client = harness.broker()
    keys = (harness.QUEUE, "unacked", "unacked_index")
    client.delete(*keys)
    yield client
    client.delete(*keys)


def _released(username: str, *, ago: dt.timedelta = LONG_AGO) -> list[int]:
    """A screened case's due notices, released ``ago``."""
    _due_case(UserFactory(username=username))
    pipeline.generate_due()
    notices.gate_pending()
    ids = sorted(Notice.objects.filter(status="released").values_list("pk", flat=True))
    Notice.objects.filter(pk__in=ids).update(decided_at=timezone.now() - ago)
    return ids


def _queued_calls(client) -> list[tuple[str, list]]:
    """(task name, arguments) of every waiting message, newest first."""
    import base64
    import json

    calls = []
    for raw in client.lrange(harness.QUEUE, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        calls.append((message["headers"]["task"], body[0]))
    return calls


def _kill_own_connection() -> None:
    """This process's PostgreSQL session terminated, as a server restart would."""
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def test_released_notices_whose_task_was_lost_are_queued_again_and_then_sent(broker, outbox):
    ids = _released("rq-lost")
    assert requeue.broker_backlog() == 0
    assert pipeline.sweep() == {"requeued": len(ids)}
    calls = _queued_calls(broker)
    assert calls == [("safety.tasks.dispatch_notices", [ids, None])]
    # The message is a working chunk: run as a worker would, it sends them.
    tasks.dispatch_notices(*calls[0][1])
    assert set(Notice.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent"}
    assert sorted(p.name for p in outbox.glob("notice-*.pdf")) == sorted(
        f"notice-{i}.pdf" for i in ids
    )
    # Nothing is released any more: the next sweep queues nothing.
    broker.delete(harness.QUEUE)
    assert pipeline.sweep() == {}


def test_nothing_is_queued_again_while_the_broker_holds_any_message(broker):
    ids = _released("rq-busy")
    tasks.dispatch_notices.delay([], None)  # a chunk still waiting
    assert requeue.broker_backlog() == 1
    assert pipeline.sweep() == {}
    assert len(_queued_calls(broker)) == 1
    # Delivered to a worker and not yet acknowledged counts the same.
    broker.rpoplpush(harness.QUEUE, "elsewhere")
    broker.hset("unacked", "tag-1", b"[]")
    assert requeue.broker_backlog() == 1
    assert pipeline.sweep() == {}
    broker.delete("elsewhere", "unacked")
    assert pipeline.sweep() == {"requeued": len(ids)}


def test_notices_released_within_the_grace_period_are_left_to_their_task(broker, settings):
    ids = _released("rq-young", ago=dt.timedelta(minutes=2))
    settings.NOTICE_REQUEUE_AFTER_SECONDS = 600
    assert pipeline.sweep() == {}
    assert _queued_calls(broker) == []
    settings.NOTICE_REQUEUE_AFTER_SECONDS = 60
    assert pipeline.sweep() == {"requeued": len(ids)}


def test_queued_again_chunks_count_towards_the_run_still_sending(broker, settings):
    settings.NOTICE_DISPATCH_CHUNK = 1
    ids = _released("rq-run")
    run = runs.run_start(trigger=NoticeRun.Trigger.NIGHTLY)
    runs.run_gated(run=run, generated=2, gate_counts={"released": 2}, chunks_total=2)
    assert pipeline.sweep() == {"requeued": len(ids)}
    calls = sorted(_queued_calls(broker))
    assert calls == [("safety.tasks.dispatch_notices", [[i], run.pk]) for i in ids]
    for _task, arguments in calls:
        tasks.dispatch_notices(*arguments)
    run.refresh_from_db()
    assert (run.state, run.chunks_done, run.sent) == (NoticeRun.State.FINISHED, 2, 2)


def test_when_the_broker_cannot_be_reached_nothing_is_queued_again(broker):
    _released("rq-down")
    original = celery_app.conf.broker_read_url
    celery_app.conf.broker_read_url = "redis://127.0.0.1:9/0"  # nothing listens there
    try:
        assert requeue.broker_backlog() is None
        assert pipeline.sweep() == {}
    finally:
        celery_app.conf.broker_read_url = original
    assert _queued_calls(broker) == []


def test_a_lost_database_connection_stops_the_chunk_and_leaves_its_notices_released(outbox):
    ids = _released("rq-pg")
    _kill_own_connection()
    with pytest.raises(DispatchInterrupted):
        pipeline.dispatch_chunk(ids)
    # Nothing was held for it (the gate is not what failed) and nothing was sent.
    assert set(Notice.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"released"}
    assert not list(outbox.glob("notice-*"))
    # The retry, on a fresh connection, sends them.
    assert pipeline.dispatch_chunk(ids) == {"sent": len(ids)}


def test_a_single_notice_task_is_retried_when_the_database_is_gone(broker):
    ids = _released("rq-one")
    Notice.objects.filter(pk=ids[0]).update(status="pending", decided_at=None)
    _kill_own_connection()
    # Called directly, a task raises what would make a worker retry it.
    with pytest.raises(DispatchInterrupted):
        tasks.send_notice(ids[0])
    assert Notice.objects.get(pk=ids[0]).status == "pending"
    tasks.send_notice(ids[0])
    assert Notice.objects.get(pk=ids[0]).status == "sent"


def test_a_database_error_on_one_notice_with_the_connection_alive_still_holds_it(outbox):
    """Only a lost connection interrupts a chunk; any other database error on a
    notice holds that notice (the gate fails closed) and the chunk goes on."""
    ids = _released("rq-closed")
    with connection.cursor() as cursor:
        cursor.execute("REVOKE SELECT ON safety_familyviolenceindicator FROM CURRENT_USER")
    try:
        counts = pipeline.dispatch_chunk(ids)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("GRANT SELECT ON safety_familyviolenceindicator TO CURRENT_USER")
    assert counts == {"failed": len(ids)}
    held = Notice.objects.filter(pk__in=ids)
    assert {(n.status, tuple(n.hold_reasons)) for n in held} == {("held", ("gate_error",))}
