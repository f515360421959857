"""The fault suite's harness: a seeded database with every kind of hold, real
Celery worker processes (prefork) on the real broker, the nightly cycle, and the
invariants, checked in SQL against the final state.

The worker processes run this project's code against the test database (the
test's own committed rows), the test Redis database and a private outbox.

The suite runs on a PostgreSQL and a Redis of its own (scripts/faults.sh starts
them under .local/faults and says where in FAULT_LOCAL), because it stops and
restarts them.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from cases.scale import HOLD_MIX

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "celery"
# How many cases a scenario loads: small in `make test`, larger from `make faults`.
CASES = int(os.environ.get("FAULT_CASES", "150"))
CHUNK = int(os.environ.get("FAULT_CHUNK", "10"))


def seed(cases: int = CASES) -> None:
    """Synthetic cases (seed_scale), every hold source mixed in, every remedy due.
    (The role groups are data from a migration, which a transactional test's
    flush removes: made again first.)"""
    from django.contrib.auth.models import Group

    from accounts import roles

    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    call_command("seed_scale", cases=cases, stdout=open(os.devnull, "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        cursor.execute(HOLD_MIX)
        cursor.execute(
            "UPDATE cases_remedy SET status = 'pending', next_action_on = current_date - 1"
        )


def fault_services() -> Path:
    """The folder of the suite's own services (scripts/faults.sh)."""
    local = os.environ.get("FAULT_LOCAL")
    if not local:
        raise RuntimeError(
            "the fault suite stops and restarts PostgreSQL and Redis, so it runs on "
            "services of its own: run it with scripts/faults.sh (make test and "
            "make faults do)"
        )
    return Path(local)


def services(*args: str) -> None:
    """scripts/services.sh on the suite's own services (start, kill-pg,
    stop-redis keep|drop)."""
    subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(ROOT / "scripts" / "services.sh"), *args],
        env={**os.environ, "SAFE_ACCESS_LOCAL": str(fault_services())},
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _messages() -> list[bytes]:
    r = broker()
    return r.lrange(QUEUE, 0, -1) + list(r.hvals("unacked"))


def queued() -> int:
    """Messages waiting in the queue or delivered but not yet acknowledged."""
    return len(_messages())


def queued_notice_ids() -> set[int]:
    """The notices named by a message the broker holds (waiting, or delivered and
    not acknowledged): a task of dispatch_notices (a chunk) or send_notice (one)."""
    ids: set[int] = set()
    for raw in _messages():
        message = json.loads(raw)
        if isinstance(message, list):  # unacknowledged: [message, exchange, routing key]
            message = message[0]
        if message["headers"]["task"] not in (
            "safety.tasks.dispatch_notices",
            "safety.tasks.send_notice",
        ):
            continue
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        first = json.loads(body)[0][0]
        ids.update(first if isinstance(first, list) else [first])
    return ids


class Worker:
    """A real `celery worker --pool prefork` process on the test database."""

    def __init__(self, outbox: Path, *, concurrency: int = 2):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            ),
            "TEST_REDIS_URL": settings.CELERY_BROKER_URL,
            "NOTICE_OUTBOX_DIR": str(outbox),
            "NOTICE_DISPATCH_CHUNK": str(CHUNK),
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"fault-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def children(self) -> list[int]:
        """The pool processes (read from /proc: no extra tool needed)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill_a_child(self) -> int:
        """kill -9 of one pool process (the one busiest, if we can tell: any)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = self.children()
            if children:
                os.kill(children[0], signal.SIGKILL)
                return children[0]
            time.sleep(0.1)
        raise RuntimeError("the worker has no pool process to kill")

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def counts() -> dict[str, int]:
    """Notices by status."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM cases_notice GROUP BY status")
        return dict(cursor.fetchall())


def wait_until(predicate, *, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def sent() -> int:
    return counts().get("sent", 0)


@dataclass
class Result:
    fault: str
    point: str
    notices: int = 0
    delivered: int = 0
    held: int = 0
    cancelled: int = 0
    held_but_delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    requeued: int = 0  # notices the sweeper queued again (their task was lost)
    recovery_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def invariants(outbox: Path, result: Result, *, holds_added: dict | None = None) -> Result:
    """The final state, in SQL and on disk: delivered while the gate said hold;
    lost (neither held, cancelled nor delivered, and not queued for retry);
    delivered twice (the outbox and the database disagree).

    "While the gate said hold": the gate as it stands now, except on cases given in
    ``holds_added`` (case id -> the moment a hold placed during the run had
    committed), where a notice marked sent after that moment counts."""
    late = holds_added or {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH late(case_id, at) AS (
                SELECT * FROM unnest(%s::bigint[], %s::timestamptz[])
            )
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'sent' AND published_at IS NOT NULL),
                   count(*) FILTER (WHERE status = 'held'),
                   count(*) FILTER (WHERE status = 'cancelled'),
                   count(*) FILTER (
                       WHERE status = 'sent' AND CASE
                           WHEN late.case_id IS NOT NULL THEN n.sent_at > late.at
                           ELSE coalesce(cardinality(notice_gate_of(n, true, true)), 1) > 0
                       END),
                   array_agg(n.id) FILTER (WHERE status IN ('pending', 'released')
                                     OR (status = 'sent' AND published_at IS NULL))
              FROM cases_notice n
              LEFT JOIN late ON late.case_id = n.case_id
            """,
            [list(late), list(late.values())],
        )
        total, delivered, held, cancelled, held_but_delivered, open_ids = cursor.fetchone()
        cursor.execute("SELECT id FROM cases_notice WHERE status = 'sent'")
        sent_ids = {row[0] for row in cursor.fetchall()}
    files: dict[int, list[str]] = {}
    for path in outbox.glob("notice-*.*"):
        files.setdefault(int(path.name.split("-")[1].split(".")[0]), []).append(path.suffix)
    wrong = [i for i, suffixes in files.items() if sorted(suffixes) != [".html", ".pdf"]]
    unsent_files = set(files) - sent_ids
    missing_files = sent_ids - set(files)
    result.notices, result.delivered, result.held, result.cancelled = (
        total,
        delivered,
        held,
        cancelled,
    )
    result.held_but_delivered = held_but_delivered + len(unsent_files)
    # Open and not named by any message the broker holds: nothing will finish it.
    result.lost = len(set(open_ids or []) - queued_notice_ids())
    result.duplicates = len(wrong)
    if missing_files:
        result.notes.append(f"{len(missing_files)} sent notices have no document")
        result.lost += len(missing_files)
    return result


def record(result: Result) -> None:
    """Append the result for scripts/reliability_report.py (when asked to)."""
    target = os.environ.get("FAULT_RESULTS")
    if target:
        with open(target, "a") as handle:
            handle.write(json.dumps(asdict(result)) + "\n")
