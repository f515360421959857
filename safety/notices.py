"""The notice pipeline's safety steps: the set-based gate over pending notices, and
the final "mark sent" that re-checks the gate in the same statement.

Lock protocol (why an FVI set during a send still stops it): anything that adds a
hold locks the affected case rows (``lock_cases_for_hold``) before writing it.
``mark_sent`` takes a share lock on the notice's case first, so it waits for any
hold being written to commit, and then its UPDATE (a new snapshot under READ
COMMITTED) sees that hold. A hold that starts after the share lock waits for the
send to commit: the send came first. See docs/decisions/0008-the-gate.md.
"""

from __future__ import annotations

import logging
from collections import Counter

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, connection, transaction

from safety.gate import GATE_ERROR, hold_unscreened

log = logging.getLogger(__name__)

# From this many notices the gate first refreshes the planner's statistics of
# cases_notice (refresh_notice_statistics).
ANALYZE_FROM = 1000


def lock_cases_for_hold(*, person_id=None, case_ids=()) -> list[int]:
    """Lock (in id order) every case whose gate answer a new hold can change, and
    bump their ``safety_version`` (which voids any release made before).

    For cases: those cases and the other cases of their children. For a person:
    the cases they are on, and the cases where a child of a case on which they
    are the custodial party is a child.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id FROM cases_case c
            WHERE c.id = ANY(%(cases)s)
               -- the other cases of the children of the given cases
               OR c.id IN (
                   SELECT ch2.case_id
                   FROM cases_participant ch
                   JOIN cases_participant ch2
                     ON ch2.person_id = ch.person_id AND ch2.role = 'child'
                   WHERE ch.case_id = ANY(%(cases)s) AND ch.role = 'child')
               OR c.id IN (SELECT p.case_id FROM cases_participant p
                           WHERE p.person_id = %(person)s)
               OR c.id IN (
                   SELECT ch2.case_id
                   FROM cases_participant cp
                   JOIN cases_participant ch
                     ON ch.case_id = cp.case_id AND ch.role = 'child'
                   JOIN cases_participant ch2
                     ON ch2.person_id = ch.person_id AND ch2.role = 'child'
                   WHERE cp.person_id = %(person)s
                     AND cp.role IN ('custodial_parent', 'caretaker'))
            ORDER BY c.id
            FOR NO KEY UPDATE OF c
            """,
            {"cases": list(case_ids), "person": person_id},
        )
        locked = [row[0] for row in cursor.fetchall()]
        # A supervisor's release is only good for the safety state it saw.
        cursor.execute(
            "UPDATE cases_case SET safety_version = safety_version + 1 WHERE id = ANY(%s)",
            [locked],
        )
        return locked


def refresh_notice_statistics() -> None:
    """ANALYZE cases_notice, so the gate is planned for the notices just made.

    The nightly run inserts tens of thousands of pending notices and gates them
    at once, before autovacuum has looked at the table. If its statistics were
    last taken when no notice was pending, PostgreSQL expects one pending row
    and plans nested loops over the holds: 70,000 fresh notices then took over
    two minutes instead of three seconds (docs/performance.md, decision 0014).
    ANALYZE reads a fixed sample (a fraction of a second at a million notices).
    If it cannot run (the role may not own the table), the gate goes on."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_notice")
    except DatabaseError:
        log.warning("could not analyze cases_notice before the gate; deciding anyway")


def gate_pending(notice_ids: list[int] | None = None) -> Counter:
    """Decide every pending notice (or the given ones) in one statement. Returns
    counts by outcome (``released`` and ``held:<reason>``), aggregated in SQL.
    Fails closed: if the statement fails, those pending notices are held with
    ``gate_error``."""
    if notice_ids is None or len(notice_ids) >= ANALYZE_FROM:
        refresh_notice_statistics()
    params = {"hold": hold_unscreened(), "all": notice_ids is None, "ids": list(notice_ids or [])}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                WITH locked AS (
                    SELECT n.id FROM cases_notice n
                     WHERE n.status = 'pending' AND (%(all)s OR n.id = ANY(%(ids)s))
                       FOR UPDATE OF n SKIP LOCKED
                ), decided AS (
                    SELECT g.id, g.reasons
                      FROM notice_gate_pending(%(hold)s, CASE WHEN %(all)s THEN NULL
                                                              ELSE %(ids)s::bigint[] END) g
                ), updated AS (
                    -- A locked notice the gate gave no answer for is held.
                    UPDATE cases_notice n
                       SET status = CASE WHEN d.reasons IS NOT NULL
                                          AND cardinality(d.reasons) = 0
                                         THEN 'released' ELSE 'held' END,
                           hold_reasons = coalesce(d.reasons, ARRAY['gate_error']),
                           decided_at = now()
                      FROM locked l LEFT JOIN decided d ON d.id = l.id
                     WHERE n.id = l.id
                    RETURNING n.status, n.hold_reasons
                )
                SELECT CASE WHEN u.status = 'released' THEN 'released' ELSE 'held:' || r END,
                       count(*)
                  FROM updated u
                  LEFT JOIN LATERAL unnest(u.hold_reasons) AS r ON u.status = 'held'
                 GROUP BY 1
                """,
                params,
            )
            return Counter(dict(cursor.fetchall()))
    except SoftTimeLimitExceeded:
        raise  # out of time is not a gate answer; the run is retried, nothing released
    except Exception:
        log.exception("gate over pending notices failed; holding them all")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_notice n SET status = 'held', hold_reasons = %(reasons)s, "
                "decided_at = now() "
                "WHERE n.status = 'pending' AND (%(all)s OR n.id = ANY(%(ids)s))",
                {**params, "reasons": [GATE_ERROR]},
            )
            return Counter({f"held:{GATE_ERROR}": cursor.rowcount})


def mark_sent(notice_id: int) -> bool:
    """Mark a released notice sent if, at this moment, the gate still lets it go
    (counting a supervisor's release only for the reasons it overrode, and only
    while the case's safety state is unchanged since).

    Returns True if it was marked sent; otherwise the notice is held with the
    gate's reasons (or stays as it was if it was not ``released``)."""
    hold = hold_unscreened()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT case_id FROM cases_notice WHERE id = %s AND status = 'released' FOR UPDATE",
            [notice_id],
        )
        row = cursor.fetchone()
        if row is None:
            return False
        # Wait for any hold being written on this case to commit (lock protocol).
        cursor.execute("SELECT id FROM cases_case WHERE id = %s FOR SHARE", [row[0]])
        cursor.execute(
            "SELECT set_config('safe_access.hold_unscreened', %s, true)", ["on" if hold else "off"]
        )
        params = {"id": notice_id, "hold": hold}
        cursor.execute(
            "UPDATE cases_notice n SET status = 'sent', sent_at = now() "
            "WHERE n.id = %(id)s AND n.status = 'released' "
            "AND cardinality(notice_gate_of(n, %(hold)s, true)) = 0 RETURNING n.id",
            params,
        )
        if cursor.fetchone():
            return True
        # Hold it with all the gate's reasons (a supervisor sees them all again);
        # if the hold vanished in between, it stays released and the next
        # dispatch tries again.
        cursor.execute(
            "UPDATE cases_notice n SET status = 'held', "
            "hold_reasons = coalesce(notice_gate_of(n, %(hold)s, false), ARRAY['gate_error']), "
            "decided_at = now() "
            "WHERE n.id = %(id)s AND n.status = 'released' "
            "AND coalesce(cardinality(notice_gate_of(n, %(hold)s, true)), 1) > 0",
            params,
        )
    log.info("notice %s held at the moment of sending", notice_id)
    return False


def notice_gate_now(notice_id: int) -> list[str] | None:
    """The gate's reasons for one notice as it stands, ignoring any release (what
    a supervisor must see before releasing). None if it cannot be decided."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT notice_gate_of(n, %(hold)s, false) FROM cases_notice n WHERE n.id = %(id)s",
                {"id": notice_id, "hold": hold_unscreened()},
            )
            row = cursor.fetchone()
    except Exception:
        log.exception("gate failed for notice %s", notice_id)
        return None
    return list(row[0]) if row and row[0] is not None else None
