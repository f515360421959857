"""Figure 5: queries per page at 10 and at 1,000 rows of data. The counting is
tests/test_queries_per_page.py (which also asserts them in make test); this runs
it on a test database of its own and turns its counts into a table. Query counts
do not depend on the size of the database, only on the page's code."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import say

ROOT = Path(__file__).resolve().parent.parent


def measure(database: str, environ: dict[str, str]) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "counts.json"
        run = subprocess.run(  # noqa: S603 - our own test, fixed arguments
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/test_queries_per_page.py",
            ],
            cwd=ROOT,
            env={
                **environ,
                "QUERY_COUNTS": str(out),
                "TEST_DATABASE_NAME": f"test_{database}_queries",
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        if not out.exists():
            raise RuntimeError(f"the query count did not run:\n{run.stdout[-2000:]}")
        counts = json.loads(out.read_text())
    small, large = (str(size) for size in counts["sizes"])
    limit = counts["limit"]
    say(f"  {len(counts['pages'])} pages counted (pytest exit {run.returncode})")
    lines = [
        f"| page | queries at {int(small):,} rows | at {int(large):,} rows | "
        f"equal, and ≤ {limit} |",
        "| --- | ---: | ---: | --- |",
    ]
    for page, by_size in counts["pages"].items():
        ok = by_size[small] == by_size[large] and by_size[large] <= limit
        lines.append(
            f"| {page} | {by_size[small]} | {by_size[large]} | {'met' if ok else 'missed'} |"
        )
    return lines
