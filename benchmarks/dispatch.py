"""Figure 2: dispatch throughput. N released notices rendered (HTML, then PDF),
leak-checked, staged, marked sent through the gate and published to an outbox
folder, by ``processes`` worker processes taking chunks as Celery workers do
(safety.pipeline.dispatch_chunk), beside the floor: the same number of bare PDF
renders (WeasyPrint on the same notice's HTML) on the same number of processes.

The notices are made for this run (due in ten years, so they meet no real one),
gated, and deleted afterwards with their documents."""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from benchmarks.common import Figure, say
from benchmarks.gate import ensure_hold_mix
from cases.models import Notice
from safety import notices, pipeline

MAKE = """
INSERT INTO cases_notice (case_id, remedy, notice_type, recipient, status, hold_reasons,
                          data, due_on, created_at)
SELECT r.case_id, r.kind, r.kind || '_notice',
       CASE r.kind WHEN 'income_withholding' THEN 'employer'
                   WHEN 'contempt' THEN 'court' ELSE 'other_parent' END,
       'pending', '{}', '{}', current_date + 3650, now()
  FROM cases_remedy r ORDER BY r.id DESC LIMIT %s
ON CONFLICT ON CONSTRAINT notice_once_per_due_date DO NOTHING
RETURNING id
"""
NIGHT = 50_000
NIGHT_LIMIT_MINUTES = 30


def _cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_notice WHERE due_on = current_date + 3650")


def _prepare(count: int) -> list[int]:
    """``count`` released notices (more are made and gated: some are held)."""
    ensure_hold_mix()
    _cleanup()
    with connection.cursor() as cursor:
        cursor.execute(MAKE, [int(count * 1.5) + 10])
        made = [row[0] for row in cursor.fetchall()]
    notices.gate_pending(made)
    released = list(
        Notice.objects.filter(pk__in=made, status="released")
        .order_by("id")
        .values_list("pk", flat=True)
    )
    Notice.objects.filter(pk__in=made).exclude(pk__in=released[:count]).delete()
    return released[:count]


def _dispatch(chunk: list[int]) -> dict:
    return dict(pipeline.dispatch_chunk(chunk))


def _pdf(document: str) -> int:
    return len(pipeline.to_pdf(document))


def _in_processes(work, items, processes: int) -> tuple[float, list]:
    connections.close_all()  # each forked process opens its own
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = list(pool.imap_unordered(work, items))
    return time.perf_counter() - started, results


SAMPLE = 50  # notices sent one at a time in this process to see where the time goes


def breakdown(ids: list[int]) -> str:
    """Where one notice's time goes, over a sample delivered in this process the
    way dispatch_chunk does it: reading the batch and its cases' facts, the HTML,
    the leak check, the PDF, staging both files (with their fsyncs), the gate's
    "mark sent", publishing. The first notice warms the PDF renderer's fonts
    and is not counted."""
    parts = dict.fromkeys(
        ["read", "html", "leak check", "pdf", "stage", "mark sent", "publish"], 0.0
    )

    def timed(part, work, *args, **kwargs):
        started = time.perf_counter()
        result = work(*args, **kwargs)
        parts[part] += time.perf_counter() - started
        return result

    pipeline.to_pdf(
        pipeline.render(Notice.objects.select_related("case", "case__office").get(pk=ids[0]))[0]
    )
    delivered = 0
    for start in range(0, len(ids), pipeline.FACTS_BATCH):
        batch = ids[start : start + pipeline.FACTS_BATCH]
        loaded = timed("read", pipeline._load_batch, batch)
        for notice_id in batch:
            notice, facts = loaded[notice_id]
            document, allowed = timed("html", pipeline.render, notice, facts)
            leaked = timed(
                "leak check",
                pipeline.leaks,
                notice.case_id,
                document,
                allowed,
                notice.recipient_person_id,
                facts,
            )
            if leaked:  # the leak check stopped it: not a full delivery, not counted
                continue
            pdf = timed("pdf", pipeline.to_pdf, document)
            staged = timed("stage", pipeline._stage, notice_id, (document, pdf))
            if not timed("mark sent", notices.mark_sent, notice_id):
                raise RuntimeError(f"notice {notice_id} of the sample was held")
            timed("publish", pipeline._publish, notice_id, staged)
            delivered += 1
    total = sum(parts.values())
    return ", ".join(
        f"{name} {seconds / max(delivered, 1) * 1000:.1f} ms ({seconds / total:.0%})"
        for name, seconds in parts.items()
    )


def measure(count: int, processes: int, outbox: Path) -> list[Figure]:
    shutil.rmtree(outbox, ignore_errors=True)
    settings.NOTICE_OUTBOX_DIR = outbox
    size = min(SAMPLE, max(2, count // 4))
    ids = _prepare(count + size)
    if len(ids) <= size:
        raise RuntimeError("too few notices were released: is the hold mix on every case?")
    sample, ids = ids[:size], ids[size:]
    say(f"  {len(ids):,} released notices, {processes} processes")
    document, _allowed = pipeline.render(
        Notice.objects.select_related("case", "case__office").get(pk=ids[0])
    )
    try:
        parts = breakdown(sample)
        say(f"  per notice, one process: {parts}")
        shutil.rmtree(outbox)  # the sample's documents: the outbox is counted below
        chunk = max(1, min(settings.NOTICE_DISPATCH_CHUNK, len(ids) // (processes * 4) or 1))
        chunks = [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
        seconds, outcomes = _in_processes(_dispatch, chunks, processes)
        totals = sum((Counter(o) for o in outcomes), Counter())
        sent = totals["sent"]
        say(f"  dispatch: {sent:,} sent in {seconds:.1f} s; all outcomes {dict(totals)}")
        floor_seconds, _sizes = _in_processes(_pdf, [document] * len(ids), processes)
        say(f"  floor: {len(ids):,} PDFs in {floor_seconds:.1f} s")
        published = len(list(outbox.glob("notice-*.pdf")))
    finally:
        _cleanup()
        shutil.rmtree(outbox, ignore_errors=True)
    # Every notice is accounted for: sent (and in the outbox), or stopped by the
    # leak check (fail closed; it is reported, not hidden). Anything else is
    # an error of the run.
    blocked = totals[pipeline.LEAK_BLOCKED]
    if sent + blocked != len(ids) or published != sent:
        raise RuntimeError(f"{len(ids)} released, outcomes {dict(totals)}, {published} published")
    rate, floor_rate = len(ids) / seconds, len(ids) / floor_seconds
    night_minutes = NIGHT / rate / 60
    return [
        Figure(
            name=f"Dispatch: {len(ids):,} notices on {processes} processes",
            unit="notices/s",
            measured=rate,
            floor=floor_rate,
            target=1.3,
            higher_is_better=True,
            note="render, leak check, stage, mark sent, publish; floor: bare PDF render; "
            f"{sent:,} sent, {blocked:,} held by the leak check; "
            f"per notice on one process: {parts}",
        ),
        Figure(
            name=f"A {NIGHT:,}-notice night at that rate",
            unit="min",
            measured=night_minutes,
            note=f"target: within {NIGHT_LIMIT_MINUTES} minutes "
            f"({'met' if night_minutes <= NIGHT_LIMIT_MINUTES else 'missed'})",
        ),
    ]
