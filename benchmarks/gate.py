"""Figure 1: the gate over N pending notices, beside its floor: one plain
set-based UPDATE ... FROM making the same decision on the same data.

The hold mix (cases.scale.HOLD_MIX) is added the first time; pending notices are
made for the first N remedies; each statement runs in a transaction that is
rolled back, alternately, ``repeat`` times, and the decisions of the two are
compared (they must be identical)."""

from __future__ import annotations

import statistics

from django.db import connection

from benchmarks.common import Figure, rolled_back, say
from cases.scale import HOLD_MIX
from safety import notices

NOTICES = """
INSERT INTO cases_notice (case_id, remedy, notice_type, recipient, status, hold_reasons,
                          data, due_on, created_at)
SELECT r.case_id, r.kind, r.kind || '_notice', 'other_parent', 'pending', '{}', '{}',
       coalesce(r.next_action_on, current_date), now()
  FROM cases_remedy r ORDER BY r.id LIMIT %s
ON CONFLICT ON CONSTRAINT notice_once_per_due_date DO NOTHING
"""

# The floor: the same decision as safety_gate(), written as one plain UPDATE ... FROM
# over pre-aggregated hold sets (no function call per row, no fail-closed path).
FLOOR = """
WITH fvi_cases AS (
    SELECT p.case_id FROM cases_participant p
      JOIN safety_familyviolenceindicator f ON f.person_id = p.person_id AND f.removed_at IS NULL
    UNION
    SELECT ch.case_id FROM cases_participant ch
      JOIN cases_participant ch2 ON ch2.person_id = ch.person_id AND ch2.role = 'child'
      JOIN cases_participant cp ON cp.case_id = ch2.case_id
                               AND cp.role IN ('custodial_parent', 'caretaker')
      JOIN safety_familyviolenceindicator f ON f.person_id = cp.person_id AND f.removed_at IS NULL
     WHERE ch.role = 'child'
), good_cause AS (
    SELECT DISTINCT case_id FROM safety_goodcauseclaim WHERE status IN ('pending', 'granted')
), paused AS (
    SELECT case_id FROM safety_safetyplan
     WHERE pause_requested_at IS NOT NULL OR closure_requested_at IS NOT NULL
), plan_holds AS (
    SELECT sp.case_id, r.remedy FROM safety_safetyplan sp
      JOIN safety_safetyplanremedy r ON r.plan_id = sp.id WHERE r.held
), court AS (
    SELECT case_id, bool_or(remedy = '') AS all_remedies, array_agg(remedy) AS remedies
      FROM safety_courtorderhold WHERE lifted_on IS NULL OR lifted_on > current_date
     GROUP BY case_id
), latest AS (
    SELECT DISTINCT ON (case_id) case_id, outcome FROM safety_safetyreview
     ORDER BY case_id, reviewed_at DESC, id DESC
), decided AS (
    SELECT n.id, array_remove(ARRAY[
        CASE WHEN f.case_id IS NOT NULL THEN 'fvi' END,
        CASE WHEN g.case_id IS NOT NULL THEN 'good_cause' END,
        CASE WHEN pa.case_id IS NOT NULL THEN 'survivor_pause' END,
        CASE WHEN ph.case_id IS NOT NULL THEN 'safety_plan' END,
        CASE WHEN co.all_remedies OR n.remedy = ANY(co.remedies) THEN 'court_order' END,
        CASE WHEN coalesce(l.outcome, 'not_safe') = 'not_safe' THEN 'not_screened' END
    ], NULL) AS reasons
      FROM cases_notice n
      LEFT JOIN fvi_cases f ON f.case_id = n.case_id
      LEFT JOIN good_cause g ON g.case_id = n.case_id
      LEFT JOIN paused pa ON pa.case_id = n.case_id
      LEFT JOIN plan_holds ph ON ph.case_id = n.case_id AND ph.remedy = n.remedy
      LEFT JOIN court co ON co.case_id = n.case_id
      LEFT JOIN latest l ON l.case_id = n.case_id
     WHERE n.status = 'pending'
)
UPDATE cases_notice n
   SET status = CASE WHEN cardinality(d.reasons) = 0 THEN 'released' ELSE 'held' END,
       hold_reasons = d.reasons, decided_at = now()
  FROM decided d WHERE n.id = d.id
"""

OUTCOME = """
SELECT CASE WHEN status = 'released' THEN 'released' ELSE 'held:' || r END, count(*)
  FROM cases_notice LEFT JOIN LATERAL unnest(hold_reasons) r ON status = 'held'
 WHERE decided_at IS NOT NULL GROUP BY 1 ORDER BY 1
"""


def _outcome() -> list:
    with connection.cursor() as cursor:
        cursor.execute(OUTCOME)
        return cursor.fetchall()


def _gate() -> list:
    notices.gate_pending()
    return _outcome()


def _floor() -> list:
    with connection.cursor() as cursor:
        cursor.execute(FLOOR)
    return _outcome()


def ensure_hold_mix() -> None:
    """The hold mix, added once (the first figure to run adds it: the dispatch
    figure, run on its own, needs screened cases too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM safety_safetyreview")
        if cursor.fetchone()[0] == 0:
            say("  adding the hold mix")
            cursor.execute(HOLD_MIX)


def prepare(count: int) -> int:
    """The hold mix (once) and ``count`` pending notices; returns how many."""
    ensure_hold_mix()
    with connection.cursor() as cursor:
        # Notices of an earlier run (same due dates) would block the new ones.
        cursor.execute("DELETE FROM cases_notice WHERE status IN ('pending', 'cancelled')")
        cursor.execute(NOTICES, [count])
        cursor.execute("SELECT count(*) FROM cases_notice WHERE status = 'pending'")
        pending = cursor.fetchone()[0]
        cursor.execute("ANALYZE cases_notice")
    return pending


def measure(count: int, repeat: int) -> list[Figure]:
    pending = prepare(count)
    say(f"  {pending:,} pending notices")
    gate_times, floor_times = [], []
    for _ in range(repeat):
        seconds, gate_outcome = rolled_back(_gate)
        gate_times.append(seconds)
        seconds, floor_outcome = rolled_back(_floor)
        floor_times.append(seconds)
        say(f"  gate {gate_times[-1]:.2f} s, floor {floor_times[-1]:.2f} s")
    if gate_outcome != floor_outcome:
        raise RuntimeError(
            f"the gate and its floor decided differently: {gate_outcome} vs {floor_outcome}"
        )
    released = dict(gate_outcome).get("released", 0)
    return [
        Figure(
            name=f"Gate over {pending:,} pending notices",
            unit="s",
            measured=statistics.median(gate_times),
            floor=statistics.median(floor_times),
            target=1.5,
            note=f"median of {repeat}; decisions identical ({released:,} released, "
            f"{pending - released:,} held); floor: one plain UPDATE … FROM",
        )
    ]
