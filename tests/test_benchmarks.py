"""The benchmark harness works (make bench-small at a tiny size): it builds its own
database, seeds it, measures every figure beside its floor and writes the table
between the markers of its output file. Nothing about time is asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_harness_builds_its_database_measures_and_writes_the_table(tmp_path):
    database = f"{settings.DATABASES['default']['TEST']['NAME']}_bench"
    out = tmp_path / "performance.md"
    out.write_text(
        "# Performance\n\nBefore.\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nAfter.\n"
    )
    run = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [
            sys.executable,
            "benchmarks/run.py",
            "--cases",
            "150",
            "--database",
            database,
            "--gate-notices",
            "200",
            "--dispatch",
            "6",
            "--searches",
            "3",
            "--repeat",
            "1",
            "--users",
            "4",
            "--load-seconds",
            "5",
            "--web-workers",
            "2",
            "--out",
            str(out),
            "--drop",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    text = out.read_text()
    # The hand-written text around the markers is kept; the old table replaced.
    assert text.startswith("# Performance\n\nBefore.\n") and text.endswith("\n\nAfter.\n")
    assert "\nold\n" not in text
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| figure", "| ---", "| page"))
    }
    names = " ".join(rows)
    for figure in (
        "Gate over",
        "Name search over",
        "Dispatch:",
        "night at that rate",
        "Loading 150",
        "case page",
        "caseload (caseworker)",
        "Under load: trivial signed-in page",
        "Under load: case page",
        "Key rotation:",
        "Reads of protected values during the rotation",
    ):
        assert figure in names, names
    number = re.compile(r"^[\d,]+(\.\d+)?$")
    for name, cells in rows.items():
        assert number.match(cells[0]), (name, cells)  # measured, or the count at 10 rows
        if name.startswith(("Gate", "Name search", "Dispatch", "Key rotation", "Under load: case")):
            assert number.match(cells[1]) and number.match(cells[3]), (name, cells)  # floor, ratio
    assert "decisions identical" in rows[next(n for n in rows if n.startswith("Gate"))][-1]
    # Reads kept working during the rotation, and the load met no error.
    reads = rows["Reads of protected values during the rotation"]
    assert reads[-1].startswith("0 failed"), reads
    for name, cells in rows.items():
        if name.startswith("Under load"):
            assert ", 0 errors" in cells[-1], (name, cells)
    # --drop removed the database.
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres") as conn:
        assert not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
