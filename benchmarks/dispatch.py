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
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from benchmarks.common import Figure, say
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


def breakdown(ids: list[int]) -> str:
    """Where one notice's time goes, over a sample run in this process: the HTML
    render (with its reads), the leak check, the PDF, and the rest (staging, the
    gate's "mark sent", publishing)."""
    parts = {"html": 0.0, "leak check": 0.0, "pdf": 0.0}
    for notice_id in ids:
        notice = Notice.objects.select_related("case", "case__office", "recipient_person").get(
            pk=notice_id
        )
        started = time.perf_counter()
        document, allowed = pipeline.render(notice)
        parts["html"] += time.perf_counter() - started
        started = time.perf_counter()
        pipeline.leaks(notice.case_id, document, allowed, notice.recipient_person_id)
        parts["leak check"] += time.perf_counter() - started
        started = time.perf_counter()
        pipeline.to_pdf(document)
        parts["pdf"] += time.perf_counter() - started
    total = sum(parts.values())
    return ", ".join(
        f"{name} {seconds / len(ids) * 1000:.0f} ms ({seconds / total:.0%})"
        for name, seconds in parts.items()
    )


def measure(count: int, processes: int, outbox: Path) -> list[Figure]:
    shutil.rmtree(outbox, ignore_errors=True)
    settings.NOTICE_OUTBOX_DIR = outbox
    ids = _prepare(count)
    if not ids:
        raise RuntimeError("no notice was released: is the hold mix on every case?")
    say(f"  {len(ids):,} released notices, {processes} processes")
    document, _allowed = pipeline.render(
        Notice.objects.select_related("case", "case__office").get(pk=ids[0])
    )
    parts = breakdown(ids[:20])
    say(f"  per notice, one process: {parts}")
    try:
        chunk = max(1, min(settings.NOTICE_DISPATCH_CHUNK, len(ids) // (processes * 4) or 1))
        chunks = [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
        seconds, outcomes = _in_processes(_dispatch, chunks, processes)
        sent = sum(o.get("sent", 0) for o in outcomes)
        say(f"  dispatch: {sent:,} sent in {seconds:.1f} s")
        floor_seconds, _sizes = _in_processes(_pdf, [document] * len(ids), processes)
        say(f"  floor: {len(ids):,} PDFs in {floor_seconds:.1f} s")
        published = len(list(outbox.glob("notice-*.pdf")))
    finally:
        _cleanup()
        shutil.rmtree(outbox, ignore_errors=True)
    if sent != len(ids) or published != sent:
        raise RuntimeError(f"{len(ids)} released, {sent} sent, {published} in the outbox")
    rate, floor_rate = sent / seconds, len(ids) / floor_seconds
    night_minutes = NIGHT / rate / 60
    return [
        Figure(
            name=f"Dispatch: {sent:,} notices on {processes} processes",
            unit="notices/s",
            measured=rate,
            floor=floor_rate,
            target=1.3,
            higher_is_better=True,
            note="render, leak check, stage, mark sent, publish; floor: bare PDF render; "
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
