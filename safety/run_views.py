"""The supervisors' view of notice runs: how far a long run has got, and what each
run decided. Counts only: no case, notice or person appears on these pages. The
list page asks notice_run_progress for an active run's counts every few seconds
(static/js/notice-runs.js); without script it has a Refresh link."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import roles
from accounts.access import access, staff
from safety import runs
from safety.gate import REASON_LABELS
from safety.models import NoticeRun

SUPERVISORS = staff(roles.SUPERVISOR, name="supervisor")
POLL_SECONDS = 5


def _reason_labels() -> dict[str, str]:
    return {
        **{code: str(label) for code, label in REASON_LABELS.items()},
        "leak_blocked": _("A protected value was found in the document"),
        "render_failed": _("The document could not be produced"),
    }


def _seconds(run: NoticeRun, now: dt.datetime) -> int:
    return int(((run.finished_at or now) - run.started_at).total_seconds())


def _clock(seconds: int) -> str:
    """A duration as h:mm:ss (the script shows it the same way)."""
    minutes, seconds = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _progress(run: NoticeRun, now: dt.datetime) -> dict:
    """One run's state and counts: ids, codes, times and numbers only."""
    stalled = runs.run_is_stalled(run, now=now)
    return {
        "id": run.pk,
        "trigger": run.trigger,
        "state": run.state,
        "active": run.state in runs.ACTIVE_STATES and not stalled,
        "stalled": stalled,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": _seconds(run, now),
        # A run of the command records its counts only when it ends.
        "counts_at_end": run.trigger == NoticeRun.Trigger.COMMAND
        and run.state in runs.ACTIVE_STATES,
        "chunks_total": run.chunks_total,
        "chunks_done": run.chunks_done,
        "generated": run.generated,
        "released": run.released,
        "held": dict(sorted(run.held.items())),
        "sent": run.sent,
        "held_at_send": run.held_at_send,
        "blocked": run.blocked,
        "failed": run.failed,
    }


@access(SUPERVISORS)
@require_http_methods(["GET"])
def notice_runs(request):
    """Recent runs of the notice cycle, newest first."""
    page = Paginator(NoticeRun.objects.all(), 20).get_page(request.GET.get("page"))
    now = timezone.now()
    reasons = _reason_labels()
    states = dict(NoticeRun.State.choices)
    rows = []
    for run in page.object_list:
        progress = _progress(run, now)
        rows.append(
            {
                "run": run,
                "active": progress["active"],
                "stalled": progress["stalled"],
                "duration": _clock(progress["duration_seconds"]),
                "counts_at_end": progress["counts_at_end"],
                "held": [
                    (reasons.get(code, code), number) for code, number in progress["held"].items()
                ],
            }
        )
    return render(
        request,
        "safety/notice_runs.html",
        {
            "page": page,
            "rows": rows,
            "any_active": any(row["active"] for row in rows),
            # What the script needs to show an update in the page's language.
            "script_text": {
                "poll_seconds": POLL_SECONDS,
                "states": {code: str(label) for code, label in states.items()},
                "stalled": _("No progress reported"),
                "reasons": reasons,
                "progress": _("%(done)s of %(total)s batches sent"),
                "took": _("took %(duration)s"),
                "announce": _("Notice run %(id)s: %(state)s. %(progress)s."),
                "paused": _(
                    "Updates paused while the page is not in use. Refresh to see "
                    "the latest figures."
                ),
                # Each update counts as activity for the session's idle timeout.
                "pause_after_seconds": settings.SESSION_IDLE_TIMEOUT // 3,
            },
        },
    )


@access(SUPERVISORS)
@require_http_methods(["GET"])
def notice_run_progress(request, run_id: int):
    """One run's state and counts, for the list page's script."""
    run = NoticeRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404
    return JsonResponse(_progress(run, timezone.now()))
