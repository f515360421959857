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

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_variables

from cases.models import ContactPoint, Notice, Participant, RemedyKind
from safety import notices, protected

log = logging.getLogger(__name__)

LEAK_BLOCKED = "leak_blocked"
RENDER_FAILED = "render_failed"
# Notice types the renderer knows; anything else is held, not guessed at.
NOTICE_TYPES = {f"{kind}_notice": kind for kind in RemedyKind.values}
# Shorter fragments of a protected value are not searched for: they would match
# ordinary words and numbers.
MIN_FRAGMENT = 6


def outbox() -> Path:
    return Path(settings.NOTICE_OUTBOX_DIR)


def _staging() -> Path:
    path = outbox() / ".staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def final_path(notice_id: int) -> Path:
    return outbox() / f"notice-{notice_id}.html"


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


def _hold(notice_id: int, reason: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_notice SET status = 'held', hold_reasons = %s, decided_at = now() "
            "WHERE id = %s AND status = 'released'",
            [[reason], notice_id],
        )


def _people(case_id: int) -> dict[str, object]:
    people = {}
    for p in Participant.objects.filter(case_id=case_id).select_related("person"):
        people.setdefault(p.role, p.person)
    return people


def render(notice: Notice) -> str:
    """The notice as HTML, in the recipient's language, with no protected value:
    only names, amounts and the office's own address."""
    if notice.notice_type not in NOTICE_TYPES:
        raise ValueError(f"unknown notice type {notice.notice_type!r}")
    people = _people(notice.case_id)
    obligor = people.get("noncustodial_parent") or people.get("alleged_father")
    language = "en"
    if notice.recipient == "other_parent" and obligor is not None:
        language = obligor.preferred_language
    recipient_name = {
        "employer": translation.gettext_noop("Payroll office of the employer of record"),
        "court": translation.gettext_noop("Clerk of the court"),
    }.get(notice.recipient, obligor.full_name if obligor else "")
    with translation.override(language):
        return render_to_string(
            "notices/enforcement.html",
            {
                "language": language,
                "notice": notice,
                "case": notice.case,
                "office": notice.case.office,
                "title": RemedyKind(notice.remedy).label,
                "recipient_name": translation.gettext(recipient_name),
                "obligor": obligor.full_name if obligor else "",
                "order": notice.case.orders.order_by("-order_date", "-id").first(),
                "extra": notice.data.get("extra", ""),
            },
        )


@sensitive_variables()
def leaks(case_id: int, document: str) -> bool:
    """Whether ``document`` contains any protected value of anyone on the case:
    a whole value, or any line of it long enough to identify it."""
    person_ids = Participant.objects.filter(case_id=case_id).values("person_id")
    values = []
    for point in ContactPoint.objects.filter(person_id__in=person_ids):
        values.append(protected.reveal(point, "value"))
    for p in Participant.objects.filter(case_id=case_id).select_related("person"):
        ssn = protected.reveal(p.person, "ssn")
        if ssn:
            values += [ssn, ssn.replace("-", "")]
    text = " ".join(document.split()).casefold()
    for value in values:
        for fragment in [value, *value.splitlines()]:
            fragment = " ".join(fragment.split()).casefold()
            if len(fragment) >= MIN_FRAGMENT and fragment in text:
                return True
    return False


def deliver(notice_id: int) -> str:
    """Render, check, stage, mark sent, publish. Returns the outcome:
    ``sent``, ``held``, ``leak_blocked``, ``render_failed`` or ``skipped``."""
    notice = Notice.objects.select_related("case", "case__office").filter(pk=notice_id).first()
    if notice is None or notice.status != "released" or final_path(notice_id).exists():
        return "skipped"
    try:
        document = render(notice)
    except Exception:
        log.exception("notice %s failed to render; holding it", notice_id)
        _hold(notice_id, RENDER_FAILED)
        return RENDER_FAILED
    try:
        leaked = leaks(notice.case_id, document)
    except Exception:
        log.exception("leak check of notice %s failed; holding it", notice_id)
        leaked = True
    if leaked:
        log.error("notice %s contained a protected value; delivery blocked", notice_id)
        _hold(notice_id, LEAK_BLOCKED)
        return LEAK_BLOCKED
    staged = _staging() / f"notice-{notice_id}.{uuid.uuid4().hex}.html"
    with open(staged, "x", encoding="utf-8") as handle:
        handle.write(document)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        sent = notices.mark_sent(notice_id)
    except Exception:
        staged.unlink(missing_ok=True)
        raise
    if not sent:
        staged.unlink(missing_ok=True)
        return "held"
    os.replace(staged, final_path(notice_id))  # atomic: the vendor sees all or nothing
    return "sent"


def dispatch_chunk(notice_ids: list[int]) -> Counter:
    counts: Counter = Counter()
    for notice_id in notice_ids:
        counts[deliver(notice_id)] += 1
    return counts


def released_chunks(size: int | None = None) -> list[list[int]]:
    size = size or settings.NOTICE_DISPATCH_CHUNK
    ids = list(Notice.objects.filter(status="released").order_by("id").values_list("id", flat=True))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def sweep() -> Counter:
    """Finish what a crashed worker left: publish staged files of sent notices,
    re-render sent notices with no file, and discard staging of held ones."""
    counts: Counter = Counter()
    staging = _staging()
    staged_by_id: dict[int, list[Path]] = {}
    for path in staging.glob("notice-*.html"):
        try:
            staged_by_id.setdefault(int(path.name.split("-", 1)[1].split(".", 1)[0]), []).append(
                path
            )
        except ValueError:
            continue
    statuses = dict(Notice.objects.filter(pk__in=list(staged_by_id)).values_list("pk", "status"))
    for notice_id, paths in staged_by_id.items():
        if statuses.get(notice_id) == "sent" and not final_path(notice_id).exists():
            os.replace(paths[0], final_path(notice_id))
            counts["published"] += 1
            paths = paths[1:]
        if statuses.get(notice_id) in ("sent", "held", "cancelled", None):
            for path in paths:
                path.unlink(missing_ok=True)
                counts["discarded"] += 1
    for notice in Notice.objects.filter(status="sent").select_related("case", "case__office"):
        if not final_path(notice.pk).exists():
            staged = staging / f"notice-{notice.pk}.{uuid.uuid4().hex}.html"
            staged.write_text(render(notice), encoding="utf-8")
            os.replace(staged, final_path(notice.pk))
            counts["re-rendered"] += 1
    return counts


def run_cycle(*, today: dt.date | None = None, progress=None) -> Counter:
    """Generate → gate → dispatch, synchronously (the nightly task queues the
    chunks instead). Returns every count."""
    counts: Counter = Counter()
    with transaction.atomic():
        counts["generated"] = generate_due(today=today)
    counts.update(notices.gate_pending())
    chunks = released_chunks()
    for number, chunk in enumerate(chunks, 1):
        counts.update(dispatch_chunk(chunk))
        if progress:
            progress(number, len(chunks))
    return counts
