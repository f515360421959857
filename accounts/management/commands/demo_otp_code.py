import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (demo settings only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not getattr(settings, "DEMO_TOOLS", False):
            raise CommandError("This command is available with demo settings only.")
        user = User.objects.filter(username=username).first()
        device = user and services.totp_device_confirmed(user=user)
        if not device:
            raise CommandError(f"No demo account {username!r} with an authenticator device.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        remaining = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(
            f"{totp.token():0{device.digits}d}  (valid for about {remaining} more seconds)"
        )
