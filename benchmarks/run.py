"""The benchmark harness. Builds (or reuses) a seed_scale database, measures
each figure beside its floor in the same run, prints the table and writes it.

    make bench          # 1,000,000 cases; writes docs/performance.md
    make bench-small    # 5,000 cases; writes .local/bench/small.md
    .venv/bin/python benchmarks/run.py --help

The database (default ``safe_access_bench``, on the server of DATABASE_URL) is
created, migrated and seeded the first time and reused after: seeding a million
cases takes several minutes, recorded in .local/bench/<database>.json and
reported with the date it was measured. Benchmarks are not tests: nothing here
asserts anything about time (make test runs this at a tiny size only to prove
the harness works).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
FIGURES = ("gate", "search", "dispatch", "load", "rotation", "queries")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", default="safe_access_bench")
    parser.add_argument("--gate-notices", type=int, default=1_000_000)
    parser.add_argument("--dispatch", type=int, default=50_000, help="notices to dispatch")
    parser.add_argument("--processes", type=int, default=2, help="dispatch processes")
    parser.add_argument("--searches", type=int, default=50, help="name searches")
    parser.add_argument("--repeat", type=int, default=3, help="gate runs (median)")
    parser.add_argument("--users", type=int, default=50, help="signed-in users under load")
    parser.add_argument("--load-seconds", type=int, default=120, help="how long the load lasts")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--rotation-batches",
        type=int,
        default=None,
        help="rotate only this many batches of 1,000 (default: every value)",
    )
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures")
    parser.add_argument(
        "--out", type=Path, help="markdown file to write the table into (between its markers)"
    )
    parser.add_argument(
        "--drop", action="store_true", help="drop the database afterwards (tiny runs)"
    )
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    return args


def _server(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def ensure_database(name: str) -> str:
    """The benchmark database's URL (created, owned by the application role, if
    missing: template1 carries the extensions)."""
    import psycopg
    from psycopg import sql

    base = os.environ["DATABASE_URL"]
    with psycopg.connect(_server(base, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"==> creating database {name}", flush=True)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _server(base, name)


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_server(os.environ["DATABASE_URL"], "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seeded(cases: int, record: Path) -> dict:
    """Seed the database if it is empty; returns what the seeding measured."""
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.common import say

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        have = cursor.fetchone()[0]
    if have == 0:
        say(f"==> seeding {cases:,} cases (seed_scale)")
        started = time.perf_counter()
        call_command("seed_scale", cases=cases, seed=1, chunk_size=min(10_000, cases))
        seconds = time.perf_counter() - started
        facts = {"cases": cases, "seconds": round(seconds, 1), "date": dt.date.today().isoformat()}
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(facts))
        return facts
    if have != cases:
        raise SystemExit(
            f"the database holds {have:,} cases, not {cases:,}: drop it or choose another "
            "(--database)"
        )
    if record.exists():
        return json.loads(record.read_text())
    return {"cases": cases, "seconds": None, "date": None}


def _keys_file(database: str) -> Path:
    return ROOT / ".local" / "bench" / f"{database}.keys"


def field_keys(database: str) -> str:
    """The database's field keys, newest first: .local/bench/<database>.keys, made
    from FIELD_ENCRYPTION_KEYS the first time."""
    path = _keys_file(database)
    if path.exists():
        return path.read_text().strip()
    return _save_keys(database, os.environ["FIELD_ENCRYPTION_KEYS"])


def _save_keys(database: str, keys: str) -> str:
    path = _keys_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(keys + "\n")
    return keys


def new_field_key(database: str) -> None:
    """A new key in front of the database's keys, saved before anything is sealed
    with it, and in force in this process from now on."""
    import base64
    import secrets

    from django.conf import settings

    from config.keys import parse_field_keys

    new = f"k{secrets.token_hex(4)}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"
    keys = _save_keys(database, f"{new},{field_keys(database)}")
    settings.FIELD_ENCRYPTION_KEYS = parse_field_keys(keys)


def machine() -> str:
    from django.db import connection

    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        version, buffers = cursor.fetchone()
    return (
        f"{os.cpu_count()} cores, {memory} memory, {platform.system()} "
        f"{platform.release()}; PostgreSQL {version.split()[0]} (shared_buffers {buffers}); "
        f"Python {platform.python_version()}"
    )


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def table(figures, seed: dict) -> list[str]:
    lines = [
        "| figure | measured | floor | unit | ratio | target | result | how |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        target = "" if f.target is None else f"≤ {f.target}"
        lines.append(
            f"| {f.name} | {_number(f.measured)} | {_number(f.floor)} | {f.unit} | {ratio} | "
            f"{target} | {f.met} | {f.note} |"
        )
    if seed.get("seconds"):
        rate = seed["cases"] / seed["seconds"]
        lines.append(
            f"| Loading {seed['cases']:,} cases (seed_scale) | {_number(seed['seconds'])} | | s "
            f"| | | | {rate:,.0f} cases/s, measured {seed['date']} when the database was built |"
        )
    return lines


def write(out: Path, lines: list[str]) -> None:
    block = "\n".join([START, *lines, END])
    text = out.read_text() if out.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def main() -> None:
    args = arguments()
    environ = dict(os.environ)  # as given (the query count makes a test database of its own)
    url = ensure_database(args.database)
    os.environ["DATABASE_URL"] = url
    os.environ["FIELD_ENCRYPTION_KEYS"] = field_keys(args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks import dispatch, gate, load, queries, rotation, search
    from benchmarks.common import say

    try:
        say(f"==> database {args.database}: migrating")
        call_command("migrate", verbosity=0)
        local = ROOT / ".local" / "bench"
        seed = seeded(args.cases, local / f"{args.database}.json")
        only = args.only.split(",")
        figures = []
        started = dt.datetime.now()
        if "gate" in only:
            say("==> 1. the gate")
            figures += gate.measure(min(args.gate_notices, 10 * args.cases), args.repeat)
        if "search" in only:
            say("==> 4. name search")
            figures += search.measure(args.searches)
        if "dispatch" in only:
            say("==> 2. dispatch")
            figures += dispatch.measure(args.dispatch, args.processes, local / "outbox")
        if "load" in only:
            say("==> 3. web pages under load")
            figures += load.measure(args.users, args.load_seconds, args.web_workers)
        if "rotation" in only:
            say("==> 6. key rotation (to a new key)")
            new_field_key(args.database)
            figures += rotation.measure(args.rotation_batches)
        counted = []
        if "queries" in only:
            say("==> 5. queries per page")
            counted = ["", "Queries per page (SQL statements, savepoints not counted):", ""]
            counted += queries.measure(args.database, environ)
        command = " ".join(["benchmarks/run.py", *sys.argv[1:]])
        lines = [
            f"Measured {started:%Y-%m-%d} by `{command}` on {seed['cases']:,} cases. "
            f"Machine: {machine()}.",
            "",
            *table(figures, seed),
            *counted,
        ]
        print("\n".join(lines))
        if args.out:
            write(args.out, lines)
            say(f"==> wrote {args.out}")
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()
            drop_database(args.database)
            _keys_file(args.database).unlink(missing_ok=True)
            (ROOT / ".local" / "bench" / f"{args.database}.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
