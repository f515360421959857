"""Create a member of staff with a role: how the first administrator is made in a
new installation (Django's createsuperuser makes an account with no role, which
this application refuses everywhere)."""

import getpass
import sys
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import roles, services
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create a staff account with a role. The password is asked for twice, or read "
        "from --password-file. At first sign-in the person sets up their authenticator."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=roles.ALL_ROLES)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--admin-site",
            action="store_true",
            help="Also open the Django administration site (administrators only).",
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            help="Read the password from the first line of this file.",
        )

    def handle(self, *args, **opts):
        username = opts["username"].strip()
        if not username:
            raise CommandError("Give a username.")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"A user named {username!r} exists already.")
        if opts["admin_site"] and opts["role"] != roles.ADMINISTRATOR:
            raise CommandError("Only administrators may open the administration site.")
        password = self._password(opts["password_file"])
        candidate = User(
            username=username,
            first_name=opts["first_name"],
            last_name=opts["last_name"],
            email=opts["email"],
        )
        try:
            validate_password(password, user=candidate)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        user = services.staff_create(
            username=username,
            password=password,
            role=opts["role"],
            first_name=opts["first_name"],
            last_name=opts["last_name"],
            email=opts["email"],
            is_staff=opts["admin_site"],
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created {opts['role']} {username!r} (id {user.pk}).")
            + " At first sign-in they will set up an authenticator app."
        )

    def _password(self, path: Path | None) -> str:
        if path is not None:
            try:
                lines = path.read_text().splitlines()
            except OSError as error:
                raise CommandError(f"Cannot read the password file: {error.strerror}.") from None
            if not lines or not lines[0]:
                raise CommandError("The password file is empty.")
            return lines[0]
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: use --password-file.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
