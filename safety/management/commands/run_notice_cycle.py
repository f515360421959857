from django.core.management.base import BaseCommand

from safety import pipeline


class Command(BaseCommand):
    help = (
        "Run the notice cycle once, synchronously: generate due notices, gate them, "
        "dispatch the released ones to the outbox, and sweep. Prints the counts."
    )

    def handle(self, *args, **options):
        counts = pipeline.run_cycle(
            progress=lambda n, total: self.stdout.write(f"  dispatched chunk {n} of {total}")
        )
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
