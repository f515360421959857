"""The one function every path asks before anything is sent or enforced.

The decision itself lives in SQL (safety/sql/safety_gate_v*.sql, the function
``safety_gate``) so that set-based runs, the final "mark sent" statement and the
database backstop trigger all use exactly the same rule. This module is the thin
Python door to it for single decisions and for screens that explain a hold.

Fail closed: if the decision cannot be made (any error at all), the answer is
"hold" with the reason ``gate_error``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

GATE_ERROR = "gate_error"

REASON_LABELS = {
    "fvi": _("Family violence indicator"),
    "good_cause": _("Good-cause claim"),
    "survivor_pause": _("The survivor asked to pause or close"),
    "safety_plan": _("Held in the safety plan"),
    "court_order": _("Court order"),
    "not_screened": _("No safety review recorded"),
    "unknown_case": _("Unknown case"),
    "unknown_remedy": _("Unknown remedy"),
    GATE_ERROR: _("Safety state could not be read"),
}


@dataclass(frozen=True)
class GateDecision:
    reasons: tuple[str, ...]

    @property
    def held(self) -> bool:
        return bool(self.reasons)

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS.get(reason, reason)) for reason in self.reasons]


def hold_unscreened() -> bool:
    return getattr(settings, "SAFETY_HOLD_UNSCREENED", True) is not False


def decide(case_id: int, remedy: str) -> GateDecision:
    """Held or not, and why, for one remedy on one case. Never raises."""
    try:
        # A savepoint: a failure here must not poison the caller's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT safety_gate(%s, %s, %s)", [case_id, remedy, hold_unscreened()])
            row = cursor.fetchone()
        reasons = tuple(row[0]) if row and row[0] is not None else (GATE_ERROR,)
    except Exception:
        log.exception("gate failed for case %s remedy %s; holding", case_id, remedy)
        return GateDecision((GATE_ERROR,))
    return GateDecision(reasons)


def decide_all(case_id: int) -> list[tuple[str, GateDecision]]:
    """Every remedy's decision for one case, in one query (for the case page)."""
    from safety.models import hold_remedy_choices

    remedies = [value for value, _label in hold_remedy_choices()]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT r, safety_gate(%s, r, %s) "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS u(r, i) ORDER BY i",
                [case_id, hold_unscreened(), remedies],
            )
            rows = cursor.fetchall()
    except Exception:
        log.exception("gate failed for case %s; holding", case_id)
        return [(remedy, GateDecision((GATE_ERROR,))) for remedy in remedies]
    return [
        (remedy, GateDecision(tuple(reasons) if reasons is not None else (GATE_ERROR,)))
        for remedy, reasons in rows
    ]
