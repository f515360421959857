from django.core.management.base import BaseCommand

from safety import pipeline, runs
from safety.models import NoticeRun


class Command(BaseCommand):
    help = (
        "Run the notice cycle once, synchronously: generate due notices, gate them, "
        "dispatch the released ones to the outbox, and sweep. Prints the counts."
    )

    def handle(self, *args, **options):
        # Recorded as a notice run for the supervisors' progress page: the chunks
        # done as they finish, every count when the cycle ends.
        run = runs.run_start(trigger=NoticeRun.Trigger.COMMAND)
        chunks = {"total": 0}  # known at the first chunk; none if nothing was released

        def progress(number: int, total: int) -> None:
            chunks["total"] = total
            runs.run_chunks_progress(run_id=run.pk, chunks_done=number, chunks_total=total)
            self.stdout.write(f"  dispatched chunk {number} of {total}")

        try:
            counts = pipeline.run_cycle(progress=progress)
        except BaseException:
            runs.run_failed(run_id=run.pk)
            raise
        runs.run_completed(run_id=run.pk, counts=counts, chunks_total=chunks["total"])
        counts.update({f"sweep:{k}": v for k, v in pipeline.sweep().items()})
        held = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("held:")}
        self.stdout.write(f"generated: {counts['generated']}")
        self.stdout.write(f"released: {counts['released']}")
        for reason, number in sorted(held.items()):
            self.stdout.write(f"held ({reason}): {number}")
        self.stdout.write(f"sent: {counts['sent']}")
        self.stdout.write(f"held at sending: {counts['held']}")
        self.stdout.write(f"blocked (protected value found): {counts[pipeline.LEAK_BLOCKED]}")
        self.stdout.write(f"held (failed to render): {counts[pipeline.RENDER_FAILED]}")
        for key in sorted(k for k in counts if k.startswith("sweep:")):
            self.stdout.write(f"{key}: {counts[key]}")
