#!/usr/bin/env python3
"""Write docs/reliability.md from the fault suite's results (one JSON object per
scenario, as tests/faults/harness.py records them with FAULT_RESULTS set).

    FAULT_RESULTS=$PWD/.local/faults.jsonl scripts/faults.sh
    python3 scripts/reliability_report.py .local/faults.jsonl --cases 150

`make faults` does both, at a larger size."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXPLANATION = """\
## How the suite runs

Each scenario seeds its cases, runs the nightly cycle in the test process (generate,
gate, queue the released notices in chunks on the real broker), starts a real
`celery worker --pool prefork -c 2` on the same database, Redis and a private outbox,
and injects the fault once the given share of the released notices is sent (start
2 %, middle 50 %, end 90 %). Recovery is what production does: the worker carries
on (a new one is started after a warm shutdown), and the sweeper runs once the
broker has nothing left for the notices or every notice is decided. The invariants
are then read in SQL from the final state and checked against the outbox folder.
The suite runs on a PostgreSQL cluster and a Redis server of its own
(`scripts/faults.sh`, under `.local/faults/`), because faults 3 and 4 stop them:
Redis by `SHUTDOWN SAVE` (its data kept on disk, as a persisting Redis does on
SIGTERM) or `SHUTDOWN NOSAVE` with its data file removed (everything queued or
unacknowledged lost); PostgreSQL by `pg_ctl stop -m immediate` (every connection
cut, crash recovery on the next start). Each is down for three seconds.

## How the pipeline survives these faults

**Celery settings** (`config/settings/base.py`). Dispatch chunks are acknowledged
late (`CELERY_TASK_ACKS_LATE`) and rejected back to the queue if the pool process
running them dies (`CELERY_TASK_REJECT_ON_WORKER_LOST`), with a prefetch of one
(`CELERY_WORKER_PREFETCH_MULTIPLIER = 1`), so a chunk is only gone from the broker
once a worker has finished it. A message delivered but never acknowledged goes back
to the queue after the visibility timeout (twice the task time limit), or at once
when the worker that held it shuts down warmly. When the broker connection drops,
a running task is not cancelled
(`CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False`): it finishes
its notices, its acknowledgement is lost with the connection, and the broker hands
it out again after the visibility timeout, when it skips every notice already
decided. The worker reconnects by itself (`broker_connection_retry`). The nightly
cycle task itself is acknowledged early: it is idempotent (generation adds nothing
twice, the gate only touches pending notices) and a late acknowledgement could hand
a long night to a second worker. Task arguments are notice ids only. In production
Redis must persist (`--appendonly yes`, as in `docker-compose.yml`); if it does
not, fault 3b is what a restart does, and the sweeper recovers it.

**Delivery is idempotent** (`safety/pipeline.py`, decisions 0008 and 0009). Each
notice is rendered, leak-checked and written to a private staging file, then marked
sent by the one statement that re-checks the gate under a share lock on its case
(a trigger refuses "sent" for a held notice on any path), and only then linked into
the outbox under its own name, which a second writer cannot overwrite. A chunk run
twice, or redelivered after a crash, skips every notice that is no longer released.
Two failures say nothing about a notice and stop its chunk with the notice left
released: the outbox failing (an `OSError`) and the database connection lost
(`DispatchInterrupted`: the server restarted or cannot be reached). The chunk's
task is retried with a growing, jittered wait, up to 8 times (about four minutes
in all); each retry opens a fresh connection. Any other database error on one
notice holds that notice (`gate_error`): the gate fails closed.

**Recovery.** What a crash leaves between "marked sent" and "in the outbox" is
finished by the sweeper (`safety.tasks.sweep_notices`, every ten minutes, one at a
time under an advisory lock), after `NOTICE_SWEEP_GRACE_SECONDS`: it publishes the
staged file, or renders the notice again (with the leak check) if the file is gone,
and discards staged files of notices that were not sent. The sweeper also finds
notices whose task the broker lost (`safety/requeue.py`): when the broker holds no
message at all, neither waiting nor unacknowledged, no chunk can still be on its
way, so every notice released more than `NOTICE_REQUEUE_AFTER_SECONDS` ago (ten
minutes by default) is queued again, in chunks counted towards the run still
sending. Queuing a notice twice is harmless (the gate and "mark sent" decide it
once). The "requeued" column counts these; they come from Redis restarted empty,
and from retries that could not be published while Redis was down.

**What "lost" means here**: at the end, a notice still pending or released, or
marked sent with no document in the outbox, that no message in the broker (waiting
or unacknowledged) names. "Delivered while held": a notice marked sent although its
gate held it at that moment (for fault 6, sent after a hold placed on its case had
committed; for fault 7, sent after the safety tables became unreadable).
"Duplicates": a notice whose documents in the outbox are not exactly one PDF and
one HTML, or a document for a notice the database does not record as sent.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--cases", type=int, default=int(os.environ.get("FAULT_CASES", "150")))
    parser.add_argument("--chunk", type=int, default=int(os.environ.get("FAULT_CHUNK", "10")))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    failures = sum(r["held_but_delivered"] + r["lost"] + r["duplicates"] for r in rows)
    lines = [
        "# Reliability: the notice pipeline under faults",
        "",
        f"Produced by `scripts/reliability_report.py` from a run of `tests/faults/` on "
        f"{dt.date.today().isoformat()}: {len(rows)} scenarios, {args.cases} seeded cases "
        f"each (every hold source mixed in), chunks of {args.chunk} notices, real "
        "PostgreSQL, Redis and Celery prefork "
        "workers (2 processes). Regenerate with `make faults` (larger) or see the "
        "script's header. `make test` runs the same scenarios at 150 cases, in chunks "
        "of 10.",
        "",
        "| fault | point | notices | delivered | held | delivered while held | lost "
        "| duplicates | requeued | recovery (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['fault']} | {r['point']} | {r['notices']} | {r['delivered']} | "
            f"{r['held']} | {r['held_but_delivered']} | {r['lost']} | {r['duplicates']} | "
            f"{r.get('requeued', 0)} | {r['recovery_seconds']} |"
        )
    lines += [
        "",
        f"Failures across all scenarios: **{failures}**. Recovery: seconds from the "
        "fault until no notice is left released and nothing waits in the queue "
        "(including one sweep).",
        "",
        EXPLANATION,
    ]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out} ({len(rows)} scenarios, {failures} failures)")


if __name__ == "__main__":
    main()
