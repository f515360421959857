"""Figure 6: key rotation over the protected values (safety.rotation: every
value not under the newest key opened and sealed again, in committed batches),
beside its floor: the same number of values opened and sealed in memory only.
Meanwhile a reader on its own connection opens random contact details again and
again: the proof that reads keep working during a rotation (a value is readable
under its old key until its batch commits, and under the new one after).

The runner puts a new key in front of the database's keys first
(.local/bench/<database>.keys), so there is always something to rotate."""

from __future__ import annotations

import random
import threading
import time

from django.db import connection, connections

from benchmarks.common import Figure, say
from cases.models import ContactPoint
from safety import protected
from safety.rotation import rotate_encryption_keys


class _Reader(threading.Thread):
    """Opens random contact details until told to stop."""

    def __init__(self, ids: list[int]):
        super().__init__(daemon=True)
        self.ids, self.ok, self.failed = ids, 0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        rng = random.Random(11)  # noqa: S311 - which rows to read, not a secret
        try:
            while not self.stopping.is_set():
                point = ContactPoint.objects.get(pk=rng.choice(self.ids))
                try:
                    protected.reveal(point, "value")
                    self.ok += 1
                except protected.ProtectedValueError:
                    self.failed += 1
        finally:
            connections.close_all()


def _floor(sample: list[ContactPoint], count: int) -> float:
    """Seconds to open and seal ``count`` values in memory (the sample, cycled)."""
    contexts = [(p.value, protected._context(p, "value")) for p in sample]
    started = time.perf_counter()
    for i in range(count):
        sealed, context = contexts[i % len(contexts)]
        protected.seal_text(protected.open_text(sealed, context), context)
    return time.perf_counter() - started


def measure(batches: int | None, batch_size: int = 1000) -> list[Figure]:
    with connection.cursor() as cursor:  # about 2,000 contact details, at random
        cursor.execute("SELECT count(*) FROM cases_contactpoint")
        percent = min(100.0, 2000 * 100 / max(1, cursor.fetchone()[0]))
        cursor.execute(
            "SELECT id FROM cases_contactpoint TABLESAMPLE BERNOULLI (%s) REPEATABLE (5)",
            [percent],
        )
        ids = [row[0] for row in cursor.fetchall()]
    reader = _Reader(ids)
    reader.start()
    try:
        result = rotate_encryption_keys(batch_size=batch_size, limit_batches=batches)
    finally:
        reader.stopping.set()
        reader.join(60)
    say(
        f"  {result.rotated:,} values in {result.seconds:.1f} s ({result.stale_values:,} "
        f"were stale); reads meanwhile: {reader.ok:,} opened, {reader.failed} failed"
    )
    if not result.rotated:
        raise RuntimeError("nothing was rotated")
    sample = list(ContactPoint.objects.filter(pk__in=ids[:200]))
    floor_seconds = _floor(sample, min(result.rotated, 200_000))
    floor_rate = min(result.rotated, 200_000) / floor_seconds
    rate = result.rotated / result.seconds
    whole = result.stale_values / rate
    scope = (
        "all of them"
        if not result.stopped_early
        else f"the first {result.batches:,} batches of {batch_size:,}; the whole "
        f"{result.stale_values:,} would take about {whole / 60:.0f} min at this rate"
    )
    return [
        Figure(
            name=f"Key rotation: {result.rotated:,} of {result.stale_values:,} values",
            unit="values/s",
            measured=rate,
            floor=floor_rate,
            higher_is_better=True,
            note=f"{scope}; floor: open and seal in memory only; {result.failed} failed to open",
        ),
        Figure(
            name="Reads of protected values during the rotation",
            unit="reads",
            measured=reader.ok,
            note=f"{reader.failed} failed ({reader.ok + reader.failed:,} attempted "
            "on a second connection while it ran)",
        ),
    ]
