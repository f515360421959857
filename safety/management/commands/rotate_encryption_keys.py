"""Re-encrypt every protected value under the newest field key. The work is done by
safety.rotation.rotate_encryption_keys; this command parses options and reports."""

from django.core.management.base import BaseCommand, CommandError

from safety.rotation import MAX_BATCH_SIZE, BatchProgress, rotate_encryption_keys

FAILURES_SHOWN = 20


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Re-encrypt every protected value under the newest key in FIELD_ENCRYPTION_KEYS "
        "(listed first), in short batches, while the site keeps running. Deploy the new "
        "key first everywhere; keep the old key listed until a run ends with nothing to "
        "do. Safe to stop and re-run: it resumes with the values still under an old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=1000,
            help=f"Rows per batch and per transaction (default 1000, at most {MAX_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the values not yet under the newest key; change nothing.",
        )
        parser.add_argument(
            "--limit-batches",
            type=_positive,
            default=None,
            metavar="N",
            help="Stop after N batches; a later run carries on.",
        )

    def handle(self, *args, **opts):
        if opts["batch_size"] > MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be at most {MAX_BATCH_SIZE}.")
        result = rotate_encryption_keys(
            batch_size=opts["batch_size"],
            dry_run=opts["dry_run"],
            limit_batches=opts["limit_batches"],
            progress=self._progress,
        )

        if result.dry_run:
            self.stdout.write(f"Values not yet under key {result.key_id!r} (dry run):")
            for column, count in result.stale.items():
                self.stdout.write(f"  {column}: {count}")
            self.stdout.write(
                f"{result.stale_values} values in {result.stale_rows} rows. Nothing changed."
            )
            return

        self.stdout.write(
            f"Rotated {result.rotated} values to key {result.key_id!r} in "
            f"{result.batches} batches ({result.rows_done} rows, {result.seconds:.1f}s); "
            f"{result.skipped} skipped (changed meanwhile), {result.failed} failed to open."
        )
        if result.stopped_early:
            self.stdout.write(
                f"Stopped after {result.batches} batches as asked; run again to continue."
            )
        elif result.ok and result.remaining == 0:
            self.stdout.write(self.style.SUCCESS("Every protected value is under the newest key."))
        elif result.ok:
            self.stdout.write(
                f"{result.remaining} rows still hold values under an older key (changed or "
                "written meanwhile). Keep the old key listed and run again."
            )

        if not result.ok:
            for failure in result.failures[:FAILURES_SHOWN]:
                self.stderr.write(f"  failed to open: {failure}")
            if result.failed > FAILURES_SHOWN:
                self.stderr.write(f"  … and {result.failed - FAILURES_SHOWN} more (see the log)")
            raise CommandError(
                f"{result.failed} protected values failed to open and were left as they are "
                f"(table, column and row ids are in the log). Keep the old keys listed and "
                f"investigate before removing any key."
            )

    def _progress(self, batch: BatchProgress) -> None:
        total = max(batch.stale_rows, batch.rows_done)
        percent = 100 * batch.rows_done / total if total else 100.0
        self.stdout.write(
            f"batch {batch.batch} ({batch.model}): {batch.rows_done}/{total} rows "
            f"({percent:.0f}%), {batch.rate:.0f} rows/s; rotated {batch.rotated}, "
            f"skipped {batch.skipped}, failed {batch.failed}"
        )
