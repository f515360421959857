from django.core.management.base import BaseCommand, CommandError

from accounts.audit import audit_chain_breaks


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain and report the first broken link (a record "
        "changed, removed, or not chained to the one before). Exits non-zero if broken."
    )

    def handle(self, *args, **options):
        checked, breaks = audit_chain_breaks()
        if breaks:
            seq, what = breaks[0]
            raise CommandError(
                f"audit chain broken at record {seq}: {what} ({checked} records checked)"
            )
        self.stdout.write(f"audit chain intact: {checked} records")
