from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Load synthetic demo staff of every role, with a known demo password and a "
        "pre-registered TOTP device each (secrets printed). Demo use only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has staff accounts.",
        )

    def handle(self, *args, if_empty=False, **options):
        if not getattr(settings, "DEMO_TOOLS", False):
            raise CommandError("Demo data is disabled in these settings (DEMO_TOOLS is off).")
        if if_empty and User.objects.exists():
            demo = list(
                User.objects.filter(username__in=[row[0] for row in DEMO_STAFF])
                .order_by("username")
                .values_list("username", flat=True)
            )
            self.stdout.write("Staff accounts exist already; demo data not loaded again.")
            if demo:
                self.stdout.write(f"  demo accounts: {', '.join(demo)}")
                self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
                self.stdout.write("  current code for one of them: make otp ACCOUNT=<username>")
            return
        with transaction.atomic():
            rows = []
            for username, role, first, last, is_staff in DEMO_STAFF:
                if User.objects.filter(username=username).exists():
                    raise CommandError(f"User {username!r} exists; refusing to overwrite it.")
                user = services.staff_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@demo.invalid",
                    is_staff=is_staff,
                )
                device = services.totp_device_register(user=user)
                rows.append((username, role, services.totp_secret_base32(device)))
        from cases import demo as case_demo

        cases = case_demo.load()
        self.stdout.write(self.style.SUCCESS("Demo staff created (synthetic):"))
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        self.stdout.write(
            f"  {'username':<12} {'role':<14} TOTP secret (add to an authenticator app)"
        )
        for username, role, secret in rows:
            self.stdout.write(f"  {username:<12} {role:<14} {secret}")
        self.stdout.write("  Current code without an app: make otp ACCOUNT=<username>")
        self.stdout.write(
            f"  {cases} synthetic cases for caseworker, caseworker2 and their supervisor"
        )
