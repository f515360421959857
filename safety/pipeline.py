"""The nightly notice cycle: generate due notices → gate them (set-based) →
dispatch released ones in bounded chunks → sweep up after crashes.

Delivery is to an outbox folder, as a print vendor's drop would receive it. A
notice is rendered to a private staging file (unique per attempt), then marked
sent by the statement that re-checks the gate (safety.notices.mark_sent), and
only then moved into the outbox by an atomic rename. So:

- the outbox never receives a notice the gate held when it was marked sent;
- two workers on the same chunk deliver each notice once (only the one whose
  "mark sent" succeeded renames its file);
- a crash after "mark sent" but before the rename leaves a staged file that the
  sweeper moves into place, and a sent notice with no file at all is rendered
  again (at least once, never twice: the outbox name is the notice id).

Before staging, the rendered document is scanned for every protected value of
everyone on the case (decrypted in memory only); a hit holds the notice with
``leak_blocked``. A notice that fails to render is held with ``render_failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections import Counter
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cases.models import Notice
from safety import notices, requeue
from safety.documents import CaseFacts, facts_for, leaks, load_facts, render
from safety.gate import GATE_ERROR

log = logging.getLogger(__name__)

LEAK_BLOCKED = "leak_blocked"
RENDER_FAILED = "render_failed"
# To the protected person about her own protection (remedy 'safety_notice'; the
# gate lets it go only to her: safety/sql/notice_gate_v1.sql).
SAFETY_NOTICE = "safety_notice"
# Notices whose cases' facts are read together (safety.documents.load_facts):
# the snapshot a document is made from is at most one batch old.
FACTS_BATCH = 25


def outbox() -> Path:
    return Path(settings.NOTICE_OUTBOX_DIR)


def _staging() -> Path:
    path = outbox() / ".staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def final_path(notice_id: int, suffix: str = "pdf") -> Path:
    """The published document (PDF for the print vendor; the HTML beside it)."""
    return outbox() / f"notice-{notice_id}.{suffix}"


SUFFIXES = ("pdf", "html")


def to_pdf(document: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=document).write_pdf()


def generate_due(*, today: dt.date | None = None) -> int:
    """One INSERT … SELECT: a pending notice for every pending remedy that is due
    on an open case. Running it again the same day adds nothing."""
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_notice
                (case_id, remedy, notice_type, recipient, status, hold_reasons, data,
                 due_on, created_at)
            SELECT r.case_id, r.kind, r.kind || '_notice',
                   CASE r.kind WHEN 'income_withholding' THEN 'employer'
                               WHEN 'contempt' THEN 'court'
                               ELSE 'other_parent' END,
                   'pending', '{}', '{}'::jsonb, r.next_action_on, now()
              FROM cases_remedy r
              JOIN cases_case c ON c.id = r.case_id
             WHERE r.status = 'pending' AND r.next_action_on <= %s AND c.status = 'open'
            ON CONFLICT ON CONSTRAINT notice_once_per_due_date DO NOTHING
            """,
            [today],
        )
        return cursor.rowcount


def _hold(notice_id: int, reason: str, statuses=("released",)) -> None:
    """Hold a notice that has not reached the outbox (a sent but unpublished
    notice can be held too: nothing went out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_notice SET status = 'held', hold_reasons = %s, decided_at = now() "
            "WHERE id = %s AND status = ANY(%s) AND published_at IS NULL",
            [[reason], notice_id, list(statuses)],
        )


def _render_checked(notice: Notice, facts: CaseFacts | None = None) -> tuple[str, bytes] | None:
    """The document as HTML and PDF, or None if it must not go out (held with
    the reason). The PDF is made from the HTML that passed the leak check, and
    the check reads the same facts the document was made from."""
    try:
        if facts is None:
            facts = facts_for(notice)
        document, allowed = render(notice, facts)
    except Exception:
        log.exception("notice %s failed to render; holding it", notice.pk)
        _hold(notice.pk, RENDER_FAILED, statuses=("released", "sent"))
        return None
    try:
        leaked = leaks(
            notice.case_id,
            document,
            allowed=allowed,
            allowed_person=notice.recipient_person_id,
            facts=facts,
        )
    except Exception:
        log.exception("leak check of notice %s failed; holding it", notice.pk)
        leaked = True
    if leaked:
        log.error("notice %s contained a protected value; delivery blocked", notice.pk)
        _hold(notice.pk, LEAK_BLOCKED, statuses=("released", "sent"))
        return None
    try:
        pdf = to_pdf(document)
    except Exception:
        log.exception("notice %s failed to render as PDF; holding it", notice.pk)
        _hold(notice.pk, RENDER_FAILED, statuses=("released", "sent"))
        return None
    return document, pdf


def _stage(notice_id: int, rendered: tuple[str, bytes]) -> list[Path]:
    """Write both files to staging under one attempt id; returns their paths."""
    attempt = uuid.uuid4().hex
    document, pdf = rendered
    paths = []
    for suffix, content in (("pdf", pdf), ("html", document.encode("utf-8"))):
        path = _staging() / f"notice-{notice_id}.{attempt}.{suffix}"
        with open(path, "xb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        paths.append(path)
    return paths


def _publish(notice_id: int, staged: list[Path]) -> None:
    """Move staged files into the outbox without ever overwriting one (a hard
    link fails if the name exists), then record it."""
    for path in staged:
        suffix = path.name.rsplit(".", 1)[1]
        try:
            os.link(path, final_path(notice_id, suffix))
        except FileExistsError:
            log.warning("notice %s %s already in the outbox; not written again", notice_id, suffix)
        path.unlink(missing_ok=True)
    Notice.objects.filter(pk=notice_id, published_at__isnull=True).update(
        published_at=timezone.now()
    )


def _notices(notice_ids: list[int]):
    return Notice.objects.select_related("case", "case__office", "recipient_person").filter(
        pk__in=notice_ids
    )


Loaded = tuple[Notice | None, CaseFacts | None]


def deliver(notice_id: int, *, loaded: Loaded | None = None) -> str:
    """Render, check, stage, mark sent, publish. Returns the outcome:
    ``sent``, ``held``, ``leak_blocked``, ``render_failed`` or ``skipped``.
    ``loaded``: the notice and its case's facts, read with its batch
    (dispatch_chunk); read here otherwise.

    Must run outside a transaction: the outbox can only receive a notice whose
    "mark sent" has committed."""
    if connection.in_atomic_block:
        raise RuntimeError("deliver() must not run inside a transaction")
    notice, facts = loaded if loaded is not None else (_notices([notice_id]).first(), None)
    if notice is None or notice.status != "released":
        return "skipped"
    rendered = _render_checked(notice, facts)
    if rendered is None:
        return Notice.objects.get(pk=notice_id).hold_reasons[0]
    staged = _stage(notice_id, rendered)
    try:
        sent = notices.mark_sent(notice_id)
    except Exception:
        for path in staged:
            path.unlink(missing_ok=True)
        raise
    if not sent:
        for path in staged:
            path.unlink(missing_ok=True)
        # Held by the gate now, or no longer released (another worker sent it).
        status = Notice.objects.filter(pk=notice_id).values_list("status", flat=True).first()
        return "held" if status == "held" else "skipped"
    _publish(notice_id, staged)
    return "sent"


def _load_batch(notice_ids: list[int]) -> dict[int, Loaded]:
    """The batch's notices and one snapshot of their cases' facts, in five
    statements. If reading them fails (for a reason other than losing the
    connection), an empty dict: each notice is then read on its own, and one
    that cannot be is held by dispatch_chunk as any failing notice is."""
    try:
        found = {notice.pk: notice for notice in _notices(notice_ids)}
        released = [notice for notice in found.values() if notice.status == "released"]
        facts = load_facts(
            [notice.case for notice in released],
            [notice.recipient_person_id for notice in released],
        )
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        interrupt_if_connection_lost(exc, notice_ids[0])
        log.exception("reading the batch from notice %s failed; one at a time", notice_ids[0])
        return {}
    return {notice_id: (found.get(notice_id), facts) for notice_id in notice_ids}


class DispatchInterrupted(Exception):
    """The database went away in the middle of a chunk: nothing is wrong with its
    notices, which stay as they were (released, or sent and left for the sweeper
    to publish). The chunk's task is retried; notices already sent are skipped."""


def interrupt_if_connection_lost(exc: Exception, notice_id: int) -> None:
    """Raise DispatchInterrupted if ``exc`` came from losing the database
    connection itself (the server restarted, stopped, or could not be reached),
    not from this notice's statements. The dead connection is closed, so the
    retry connects afresh."""
    raw = connection.connection
    if raw is None or raw.closed:
        log.warning("database connection lost at notice %s; the task will be retried", notice_id)
        connection.close()
        raise DispatchInterrupted(notice_id) from exc


def dispatch_chunk(notice_ids: list[int]) -> Counter:
    """Deliver each notice on its own: one failure never stops the rest, and a
    notice that fails for a database reason is held with ``gate_error``.

    Two failures say nothing about a notice and stop the chunk instead, which
    leaves the notice released for its task to retry (autoretry_for): the outbox
    failing (disk full, permissions: an OSError) and the database connection
    lost (DispatchInterrupted). Notices already sent are skipped on the retry; if
    the retries run out, the sweeper queues what is still released again
    (safety.requeue)."""
    counts: Counter = Counter()
    loaded: dict[int, Loaded] = {}
    for number, notice_id in enumerate(notice_ids):
        if number % FACTS_BATCH == 0:
            loaded = _load_batch(notice_ids[number : number + FACTS_BATCH])
        try:
            counts[deliver(notice_id, loaded=loaded.get(notice_id))] += 1
        except (SoftTimeLimitExceeded, RuntimeError):
            raise
        except OSError:
            log.exception("the outbox failed for notice %s; the chunk will be retried", notice_id)
            raise
        except Exception as exc:
            interrupt_if_connection_lost(exc, notice_id)
            log.exception("delivering notice %s failed; holding it", notice_id)
            try:
                _hold(notice_id, GATE_ERROR)
            except Exception:
                log.exception(
                    "could not hold notice %s; it stays released (requeued later)", notice_id
                )
            counts["failed"] += 1
    return counts


def released_chunks(
    size: int | None = None, *, released_before: dt.datetime | None = None
) -> list[list[int]]:
    """The released notices' ids in chunks (only those released before the given
    moment, if one is given)."""
    size = size or settings.NOTICE_DISPATCH_CHUNK
    released = Notice.objects.filter(status="released")
    if released_before is not None:
        released = released.filter(decided_at__lt=released_before)
    ids = list(released.order_by("id").values_list("id", flat=True))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


SWEEP_LOCK = 0x5AFE5EE9  # pg advisory lock id: one sweeper at a time


def sweep_grace() -> dt.timedelta:
    """How long a notice may sit sent-but-unpublished before the sweeper finishes
    it (a worker may still be doing so): NOTICE_SWEEP_GRACE_SECONDS."""
    return dt.timedelta(seconds=settings.NOTICE_SWEEP_GRACE_SECONDS)


def sweep() -> Counter:
    """Finish what a crashed worker or a lost message left. A notice marked sent
    more than a few minutes ago but never published is published from its staged
    file, or rendered again (with the leak check) if that file is gone. Staged
    files of notices that were not sent are discarded. Released notices whose
    task the broker lost are queued again (safety.requeue). Only one sweep runs
    at a time."""
    if connection.in_atomic_block:
        raise RuntimeError("sweep() must not run inside a transaction")
    counts: Counter = Counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK])
        if not cursor.fetchone()[0]:
            return counts
    try:
        # notice id -> {attempt: [its files]}
        staged_by_id: dict[int, dict[str, list[Path]]] = {}
        for path in _staging().glob("notice-*.*.*"):
            try:
                notice_id_text, attempt, _suffix = path.name[len("notice-") :].split(".")
                notice_id = int(notice_id_text)
            except ValueError:
                continue
            staged_by_id.setdefault(notice_id, {}).setdefault(attempt, []).append(path)
        cutoff = timezone.now() - sweep_grace()
        stuck = Notice.objects.filter(
            status="sent", published_at__isnull=True, sent_at__lt=cutoff
        ).select_related("case", "case__office", "recipient_person")
        for notice in stuck:
            attempts = staged_by_id.pop(notice.pk, {})
            complete = [files for files in attempts.values() if len(files) == len(SUFFIXES)]
            if complete:
                _publish(notice.pk, complete[0])
                counts["published"] += 1
            else:
                rendered = _render_checked(notice)
                if rendered is None:
                    counts["blocked"] += 1
                    continue
                _publish(notice.pk, _stage(notice.pk, rendered))
                counts["re-rendered"] += 1
            for files in attempts.values():
                for extra in files:
                    extra.unlink(missing_ok=True)
        # Staged files of notices that are not (or no longer) waiting to be sent.
        open_statuses = dict(
            Notice.objects.filter(pk__in=list(staged_by_id)).values_list("pk", "status")
        )
        for notice_id, attempts in staged_by_id.items():
            if open_statuses.get(notice_id) == "released":
                continue  # a worker may be about to mark it sent
            for path in (p for files in attempts.values() for p in files):
                if path.stat().st_mtime < cutoff.timestamp():
                    path.unlink(missing_ok=True)
                    counts["discarded"] += 1
        requeued = requeue.requeue_orphans()
        if requeued:
            counts["requeued"] = requeued
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK])
    return counts


def run_cycle(*, today: dt.date | None = None, progress=None) -> Counter:
    """Generate → gate → dispatch, synchronously (the nightly task queues the
    chunks instead). Returns every count."""
    counts: Counter = Counter()
    if connection.in_atomic_block:
        raise RuntimeError("run_cycle() must not run inside a transaction")
    with transaction.atomic():
        counts["generated"] = generate_due(today=today)
    counts.update(notices.gate_pending())
    chunks = released_chunks()
    for number, chunk in enumerate(chunks, 1):
        counts.update(dispatch_chunk(chunk))
        if progress:
            progress(number, len(chunks))
    return counts
