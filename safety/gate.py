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

log = logging.getLogger(__name__)

GATE_ERROR = "gate_error"


@dataclass(frozen=True)
class GateDecision:
    reasons: tuple[str, ...]

    @property
    def held(self) -> bool:
        return bool(self.reasons)


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
