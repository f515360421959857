"""create_staff: how the first administrator of a new installation is made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.models import User

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def _password_file(tmp_path, password="Long-enough-synthetic-9"):
    path = tmp_path / "pw"
    path.write_text(password + "\n")
    return path


def test_create_staff_makes_an_administrator_who_must_enrol(tmp_path, capsys):
    call_command(
        "create_staff",
        "--username",
        "first-admin",
        "--role",
        "administrator",
        "--admin-site",
        "--first-name",
        "Ada",
        "--password-file",
        str(_password_file(tmp_path)),
    )
    user = User.objects.get(username="first-admin")
    assert user.has_role(roles.ADMINISTRATOR) and user.is_staff and not user.is_superuser
    assert user.check_password("Long-enough-synthetic-9")
    assert "Created administrator" in capsys.readouterr().out
    assert not user.totpdevice_set.exists()  # set up at first sign-in


GOOD = "Long-enough-synthetic-9"


@pytest.mark.parametrize(
    ("username", "extra", "password", "message"),
    [
        ("new-person", ["--role", "caseworker", "--admin-site"], GOOD, "Only administrators"),
        ("new-person", ["--role", "caseworker"], "short", "Password refused"),
        ("new-person", ["--role", "caseworker"], "new-person-123", "Password refused"),
        ("DUP", ["--role", "caseworker"], GOOD, "exists already"),
        ("new-person", ["--role", "caseworker"], None, "use --password-file"),
    ],
)
def test_create_staff_refuses_bad_requests(tmp_path, username, extra, password, message):
    User.objects.create(username="dup")
    argv = ["--username", username, *extra]
    if password is not None:
        argv += ["--password-file", str(_password_file(tmp_path, password))]
    # pytest's stdin is not a terminal, like CI's: no prompt is possible.
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", *argv)
    assert User.objects.count() == 1


def test_manage_py_defaults_to_production_settings():
    """Without DJANGO_SETTINGS_MODULE nothing runs with demo tools or DEBUG: the
    production settings refuse to start without their secrets."""
    env = {"PATH": os.environ["PATH"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
