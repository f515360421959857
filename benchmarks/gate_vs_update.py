"""The gate over N pending notices, beside its floor: one plain set-based
UPDATE ... FROM making the same decision on the same data.

Not a test: it asserts nothing about time; it prints the figures (and checks
that both statements reach the same decisions). Run it on a seed_scale database:

    DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://…/safe_access_bench \\
        .venv/bin/python benchmarks/gate_vs_update.py --notices 1000000

It adds a deterministic mix of hold sources the first time (reviews on 90% of
cases, FVIs, good-cause claims, court holds, pauses, per-remedy plan entries),
creates the pending notices, and times each statement in a transaction that is
rolled back, so runs can be repeated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from cases.scale import HOLD_MIX  # noqa: E402
from safety import notices  # noqa: E402

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


class Rollback(Exception):
    pass


def timed(run) -> tuple[float, list]:
    started = time.perf_counter()
    outcome = []
    try:
        with transaction.atomic():
            run()
            elapsed = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute(OUTCOME)
                outcome = cursor.fetchall()
            raise Rollback
    except Rollback:
        pass
    return elapsed, outcome


def floor() -> None:
    with connection.cursor() as cursor:
        cursor.execute(FLOOR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        cases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM safety_safetyreview")
        if cursor.fetchone()[0] == 0:
            print("adding the hold mix…", flush=True)
            cursor.execute(HOLD_MIX)
        # Notices of an earlier run (same due dates) would block the new ones.
        cursor.execute("DELETE FROM cases_notice WHERE status IN ('pending', 'cancelled')")
        cursor.execute(NOTICES, [args.notices])
        cursor.execute("SELECT count(*) FROM cases_notice WHERE status = 'pending'")
        pending = cursor.fetchone()[0]
        cursor.execute("ANALYZE cases_notice")
    print(f"{cases:,} cases, {pending:,} pending notices", flush=True)
    gate_times, floor_times = [], []
    for _ in range(args.repeat):
        seconds, gate_outcome = timed(notices.gate_pending)
        gate_times.append(seconds)
        seconds, floor_outcome = timed(floor)
        floor_times.append(seconds)
        print(f"  gate {gate_times[-1]:.1f} s, floor {floor_times[-1]:.1f} s", flush=True)
    same = gate_outcome == floor_outcome
    gate_s, floor_s = statistics.median(gate_times), statistics.median(floor_times)
    print(f"decisions identical: {same}")
    for key, count in gate_outcome:
        print(f"  {key}: {count:,}")
    print(f"gate  (median of {args.repeat}): {gate_s:.2f} s")
    print(f"floor (median of {args.repeat}): {floor_s:.2f} s")
    print(f"ratio gate/floor: {gate_s / floor_s:.2f}")


if __name__ == "__main__":
    main()
