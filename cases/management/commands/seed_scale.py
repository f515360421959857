"""Load synthetic cases at state scale for benchmarks. The work is in cases/scale.py."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cases import scale


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Load N synthetic cases (people, sealed SSNs and contact details, orders, pending "
        "remedies) with PostgreSQL COPY, committing every chunk. For benchmarks only: "
        "refused unless DEMO_TOOLS is on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=_positive, required=True, help="How many cases.")
        parser.add_argument(
            "--chunk-size",
            type=_positive,
            default=10_000,
            help="Cases per transaction (default 10,000).",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for reproducible data."
        )
        parser.add_argument(
            "--caseworkers",
            type=_positive,
            default=scale.DEFAULT_CASEWORKERS,
            help="Synthetic caseworkers the cases are spread over "
            f"(default {scale.DEFAULT_CASEWORKERS}).",
        )
        parser.add_argument(
            "--no-pipeline",
            action="store_true",
            help="Make and load chunks in turn on one connection (slower; the default "
            "loads each chunk on a second connection while the next is made).",
        )
        parser.add_argument(
            "--no-analyze", action="store_true", help="Skip ANALYZE of the tables at the end."
        )

    def handle(self, *args, cases, chunk_size, seed, caseworkers, **options):
        if not getattr(settings, "DEMO_TOOLS", False):
            raise CommandError("Scale data is disabled in these settings (DEMO_TOOLS is off).")

        def progress(result: scale.ScaleResult, total: int) -> None:
            self.stdout.write(
                f"  {result.cases:>10,} / {total:,} cases  "
                f"{result.rate:>8,.0f} cases/s  (last {result.last_number})"
            )

        self.stdout.write(f"Loading {cases:,} synthetic cases in chunks of {chunk_size:,}...")
        try:
            result = scale.seed_cases(
                cases=cases,
                chunk_size=chunk_size,
                seed=seed,
                caseworkers=caseworkers,
                # Inside a transaction (call_command in a test), a second connection
                # could not see the staff rows yet: load on this one.
                pipeline=not options["no_pipeline"] and not connection.in_atomic_block,
                progress=progress,
            )
        except scale.SeedScaleError as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_analyze"]:
            scale.analyze()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.cases:,} cases ({result.first_number} to {result.last_number}) "
                f"in {result.seconds:,.1f} s, {result.rate:,.0f} cases/s "
                f"(generate {result.generate_seconds:,.1f} s, COPY {result.load_seconds:,.1f} s; "
                f"set-up {result.setup_seconds:,.1f} s)."
            )
        )
        self.stdout.write(
            f"  persons {result.persons:,}, participants {result.participants:,}, "
            f"contact points {result.contact_points:,}, orders {result.orders:,}, "
            f"remedies {result.remedies:,}, events {result.events:,}"
        )
